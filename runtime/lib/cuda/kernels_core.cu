//===- kernels_core.cu - CUDA backend of the core dpcrt_* kernels ---------===//
//
// Elementwise ops, GEMMs (cuBLAS), broadcasting binary ops, reductions,
// losses, optimizer updates and shape ops, each following its CPU kernel
// (cpu/kernels_core.cpp, kernels_optim.cpp, kernels_transformer.cpp)
// formula by formula. This file is compiled with -fmad=false: like the CPU
// kernels it never fuses a multiply-add except where the CPU kernel calls
// std::fma (Adam: __fmaf_rn here), and IEEE division and square root are
// nvcc's defaults, so the optimizer updates agree with the CPU bitwise.
// Reductions are deterministic (a fixed assignment of elements to threads
// and a fixed combining tree) and accumulate in double like the CPU's;
// transcendental functions (expf, logf, tanhf) may differ from glibc's by
// an ulp or two.
//
// Shapes and strides arrive as host arrays (module constants) and are
// passed to kernels by value, up to kMaxRank dimensions.
//
//===----------------------------------------------------------------------===//

#include "cuda_backend.h"
#include "device_utils.cuh"

#include <climits>
#include <cmath>

namespace dpc::cuda {

namespace {

constexpr int kThreads = 256;
/// Dimensions a broadcasting or strided kernel takes by value.
constexpr int kMaxRank = 8;

/// Launches `kernel` over n elements on the compute stream; records a
/// launch failure under `name`.
template <typename Kernel, typename... Args>
void launch(dpcrt_context *ctx, const char *name, int64_t n, Kernel kernel,
            Args... args) {
  if (n <= 0)
    return;
  kernel<<<gridFor(n, kThreads), kThreads, 0, computeStream(ctx)>>>(args...);
  launchFailed(ctx, name);
}

/// A shape and up to three sets of strides, by value.
struct Strides {
  int rank;
  int64_t shape[kMaxRank];
  int64_t stride[3][kMaxRank];
};

/// Copies dims[0..rank) as the shape and the following `sets` groups of
/// rank values as strides; false (error recorded) when rank is too large.
bool makeStrides(dpcrt_context *ctx, const char *kernel, int32_t rank,
                 const int64_t *dims, int sets, Strides &out, int64_t &n) {
  if (rank < 0 || rank > kMaxRank) {
    recordError(ctx, std::string(kernel) + ": rank " + std::to_string(rank) +
                         " is not supported on the cuda backend (at most " +
                         std::to_string(kMaxRank) + ")");
    return false;
  }
  out = {};
  out.rank = rank;
  n = 1;
  for (int d = 0; d < rank; ++d) {
    out.shape[d] = dims[d];
    n *= std::max<int64_t>(dims[d], 0);
    for (int s = 0; s < sets; ++s)
      out.stride[s][d] = dims[(s + 1) * rank + d];
  }
  return true;
}

/// Offsets of the row-major linear index i of the shape along stride sets
/// 0..sets-1.
template <int Sets>
__device__ inline void offsetsOf(const Strides &st, int64_t i,
                                 int64_t (&off)[Sets]) {
  for (int s = 0; s < Sets; ++s)
    off[s] = 0;
  for (int d = st.rank - 1; d >= 0; --d) {
    int64_t extent = st.shape[d];
    int64_t coord = i % extent;
    i /= extent;
    for (int s = 0; s < Sets; ++s)
      off[s] += coord * st.stride[s][d];
  }
}

//===----------------------------------------------------------------------===//
// Elementwise kernels
//===----------------------------------------------------------------------===//

__global__ void fillKernel(float *out, int64_t n, float value) {
  DPC_GRID_STRIDE(i, n) out[i] = value;
}

__global__ void broadcastRowsKernel(float *out, const float *bias,
                                    int64_t total, int64_t cols) {
  DPC_GRID_STRIDE(i, total) out[i] = bias[i % cols];
}

__global__ void scaleKernel(float *out, const float *in, int64_t n,
                            float factor) {
  DPC_GRID_STRIDE(i, n) out[i] = in[i] * factor;
}

__global__ void divKernel(float *out, const float *in, int64_t n,
                          float divisor) {
  DPC_GRID_STRIDE(i, n) out[i] = in[i] / divisor;
}

__global__ void transposeKernel(float *out, const float *in, int64_t rows,
                                int64_t cols) {
  // Indexed by output element: writes are coalesced.
  DPC_GRID_STRIDE(o, rows * cols) {
    int64_t j = o / rows, i = o % rows;
    out[o] = in[i * cols + j];
  }
}

// The formulas are kernel_shared.h's, the CPU kernels' own.
__global__ void unaryKernel(int32_t kind, float *out, const float *in,
                            int64_t n) {
  DPC_GRID_STRIDE(i, n) { out[i] = applyUnary(kind, in[i]); }
}

__global__ void unaryGradKernel(int32_t kind, float *dx, const float *dy,
                                const float *saved, int64_t n) {
  DPC_GRID_STRIDE(i, n) { dx[i] = applyUnaryGrad(kind, dy[i], saved[i]); }
}

__global__ void binaryKernel(int32_t kind, float *out, const float *a,
                             const float *b, Strides st, int64_t n,
                             float alpha) {
  DPC_GRID_STRIDE(i, n) {
    int64_t off[2];
    offsetsOf<2>(st, i, off);
    out[i] = applyBinary(kind, a[off[0]], b[off[1]], alpha);
  }
}

__global__ void compareKernel(int32_t kind, float *out, const float *a,
                              const float *b, Strides st, int64_t n) {
  DPC_GRID_STRIDE(i, n) {
    int64_t off[2];
    offsetsOf<2>(st, i, off);
    out[i] = applyCompare(kind, a[off[0]], b[off[1]]) ? 1.0f : 0.0f;
  }
}

__global__ void maskedFillKernel(float *out, const float *in, const float *mask,
                                 Strides st, int64_t n, float value) {
  DPC_GRID_STRIDE(i, n) {
    int64_t off[1];
    offsetsOf<1>(st, i, off);
    out[i] = mask[off[0]] != 0.0f ? value : in[i];
  }
}

/// Strided copy of T-sized elements; stride set 0 is the output's, 1 the
/// input's.
template <typename T>
__global__ void stridedCopyKernel(T *out, const T *in, Strides st, int64_t n) {
  DPC_GRID_STRIDE(i, n) {
    int64_t off[2];
    offsetsOf<2>(st, i, off);
    out[off[0]] = in[off[1]];
  }
}

/// The same for element sizes without a matching integer type.
__global__ void stridedCopyBytesKernel(char *out, const char *in, Strides st,
                                       int64_t n, int64_t elemBytes) {
  DPC_GRID_STRIDE(i, n) {
    int64_t off[2];
    offsetsOf<2>(st, i, off);
    for (int64_t k = 0; k < elemBytes; ++k)
      out[off[0] * elemBytes + k] = in[off[1] * elemBytes + k];
  }
}

__global__ void incrementKernel(int64_t *data, int64_t n, int64_t amount) {
  DPC_GRID_STRIDE(i, n) data[i] += amount;
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

/// The reduction of dpcrt_reduce_sum_f32, one warp per output element:
/// lane l sums the reduced positions l, l + 32, ... in increasing order in
/// double, then the lanes combine by a fixed shuffle tree. `st` holds the
/// reduced dimensions (shape, input strides); `kept` the kept ones (shape,
/// input strides, output strides).
__global__ void reduceSumKernel(float *out, const float *in, Strides reduced,
                                int64_t reducedN, Strides kept, int64_t outN) {
  int64_t warp =
      (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) / 32;
  int lane = threadIdx.x % 32;
  int64_t warps = static_cast<int64_t>(gridDim.x) * blockDim.x / 32;
  for (int64_t o = warp; o < outN; o += warps) {
    // The input offset of this output element's first summand.
    int64_t base = 0;
    for (int d = 0; d < kept.rank; ++d)
      base += (o / kept.stride[1][d]) % kept.shape[d] * kept.stride[0][d];
    double sum = 0.0;
    for (int64_t r = lane; r < reducedN; r += 32) {
      int64_t off[1];
      offsetsOf<1>(reduced, r, off);
      sum += in[base + off[0]];
    }
    for (int delta = 16; delta > 0; delta /= 2)
      sum += __shfl_down_sync(0xffffffffu, sum, delta);
    if (lane == 0)
      out[o] = static_cast<float>(sum);
  }
}

/// max + log(sum(exp(x - max))) of row `row` by one block, as the CPU's
/// logSoftmaxShift (NaN wins the maximum; the exponentials, in float, are
/// summed in double).
__device__ float blockLogSoftmaxShift(const float *row, int64_t c,
                                      double *shared) {
  __shared__ float maxShared[kThreads];
  float m = -INFINITY;
  bool nan = false;
  for (int64_t j = threadIdx.x; j < c; j += blockDim.x) {
    float x = row[j];
    nan |= isnan(x);
    m = x > m ? x : m;
  }
  maxShared[threadIdx.x] = nan ? NAN : m;
  __syncthreads();
  for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) {
      float other = maxShared[threadIdx.x + half];
      float mine = maxShared[threadIdx.x];
      maxShared[threadIdx.x] =
          isnan(mine) || isnan(other) ? NAN : (other > mine ? other : mine);
    }
    __syncthreads();
  }
  float max = maxShared[0];
  __syncthreads();
  double sum = 0.0;
  for (int64_t j = threadIdx.x; j < c; j += blockDim.x)
    sum += expf(row[j] - max);
  sum = blockSum(sum, shared);
  return max + logf(static_cast<float>(sum));
}

/// Per row of logits: the row's loss term -(x[label] - shift) into
/// terms[i] (forward) and the shift into shifts[i] (gradient).
__global__ void crossEntropyRowsKernel(float *terms, float *shifts,
                                       const float *logits,
                                       const int64_t *labels, int64_t n,
                                       int64_t c, DeviceError *error,
                                       int32_t errorKind) {
  __shared__ double shared[kThreads];
  for (int64_t i = blockIdx.x; i < n; i += gridDim.x) {
    const float *row = logits + i * c;
    float shift = blockLogSoftmaxShift(row, c, shared);
    if (threadIdx.x == 0) {
      int64_t label = labels[i];
      bool valid = label >= 0 && label < c;
      if (!valid)
        reportDeviceError(error, errorKind, label, i, c);
      if (terms)
        terms[i] = valid ? -(row[label] - shift) : NAN;
      if (shifts)
        shifts[i] = valid ? shift : NAN;
    }
  }
}

/// loss[0] = float(sum of the float terms in double / n), one block.
__global__ void meanOfTermsKernel(float *loss, const float *terms, int64_t n) {
  __shared__ double shared[kThreads];
  double sum = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
    sum += terms[i];
  sum = blockSum(sum, shared);
  if (threadIdx.x == 0)
    loss[0] = static_cast<float>(sum / static_cast<double>(n));
}

__global__ void crossEntropyGradKernel(float *dlogits, const float *dloss,
                                       const float *logits,
                                       const int64_t *labels,
                                       const float *shifts, int64_t n,
                                       int64_t c) {
  // nll_loss_backward puts g = -dloss / n at the label; log_softmax_backward
  // then gives g * onehot - exp(log_softmax) * g.
  float g = -(dloss[0] / static_cast<float>(n));
  DPC_GRID_STRIDE(e, n * c) {
    int64_t i = e / c, j = e % c;
    float gj = j == labels[i] ? g : 0.0f;
    dlogits[e] = gj - expf(logits[e] - shifts[i]) * g;
  }
}

__global__ void mseKernel(float *loss, const float *pred, const float *target,
                          int64_t n) {
  __shared__ double shared[kThreads];
  double sum = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    float d = pred[i] - target[i];
    float square = d * d; // in float, as the CPU's d * d
    sum += square;
  }
  sum = blockSum(sum, shared);
  if (threadIdx.x == 0)
    loss[0] = static_cast<float>(sum / static_cast<double>(n));
}

__global__ void mseGradKernel(float *dpred, const float *dloss,
                              const float *pred, const float *target, int64_t n,
                              float norm) {
  float g = dloss[0];
  DPC_GRID_STRIDE(i, n) dpred[i] = (pred[i] - target[i]) * norm * g;
}

//===----------------------------------------------------------------------===//
// Optimizers
//===----------------------------------------------------------------------===//

// Element by element the CPU's update (kernel_shared.h).
__global__ void sgdKernel(float *param, float *momentumBuf, const float *grad,
                          int64_t n, SgdConstants c) {
  DPC_GRID_STRIDE(i, n) { sgdStep(param, momentumBuf, grad, i, c); }
}

__global__ void adamKernel(float *param, float *expAvg, float *expAvgSq,
                           const float *grad, int64_t n, AdamConstants c) {
  DPC_GRID_STRIDE(i, n) { adamStep(param, expAvg, expAvgSq, grad, i, c); }
}

//===----------------------------------------------------------------------===//
// GEMM helpers
//===----------------------------------------------------------------------===//

bool checkGemmSizes(dpcrt_context *ctx, const char *kernel, int64_t m,
                    int64_t n, int64_t k) {
  if (m >= 0 && n >= 0 && k >= 0 && m <= INT_MAX && n <= INT_MAX &&
      k <= INT_MAX)
    return true;
  recordError(ctx, std::string(kernel) + ": sizes m=" + std::to_string(m) +
                       " n=" + std::to_string(n) + " k=" + std::to_string(k) +
                       " are out of cuBLAS's int range");
  return false;
}

/// Row-major C = op(A) op(B) + beta C through column-major cuBLAS: the
/// row-major C is the column-major C^T = op(B)^T op(A)^T, so the operands
/// swap and the leading dimensions stay the row-major ones.
void rowMajorGemm(dpcrt_context *ctx, const char *kernel, float *c,
                  const float *a, const float *b, int64_t m, int64_t n,
                  int64_t k, bool transA, bool transB, float beta) {
  int lda = static_cast<int>(std::max<int64_t>(1, transA ? m : k));
  int ldb = static_cast<int>(std::max<int64_t>(1, transB ? k : n));
  float one = 1.0f;
  failed(ctx,
         cublasSgemm(state(ctx).cublas, transB ? CUBLAS_OP_T : CUBLAS_OP_N,
                     transA ? CUBLAS_OP_T : CUBLAS_OP_N, static_cast<int>(n),
                     static_cast<int>(m), static_cast<int>(k), &one, b, ldb, a,
                     lda, &beta, c, static_cast<int>(n)),
         kernel);
}

/// Whether batch strides (in matrices) over `shape` are one uniform stride
/// of the flattened batch; sets it.
bool uniformStride(int32_t rank, const int64_t *shape, const int64_t *stride,
                   int64_t &flat) {
  flat = 0;
  bool found = false;
  int64_t inner = 1; // batch elements inside dimension d
  for (int32_t d = rank - 1; d >= 0; --d) {
    if (shape[d] != 1) {
      if (!found) {
        flat = stride[d];
        found = true;
      }
      if (stride[d] != flat * inner)
        return false;
    }
    inner *= shape[d];
  }
  return true;
}

} // namespace

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

void fill_f32(dpcrt_context *ctx, float *out, int64_t n, float value) {
  launch(ctx, "fill", n, fillKernel, out, n, value);
}

void copy(dpcrt_context *ctx, void *out, const void *in, int64_t bytes) {
  if (bytes <= 0 || out == in)
    return;
  cudaStream_t stream = computeStream(ctx);
  // `in` is usually device memory, but nn.constant lowers to a copy from a
  // read-only global of model.so (host memory): cudaMemcpyDefault lets
  // unified addressing pick the direction (DeviceToDevice would fail with
  // cudaErrorInvalidValue on a host source).
  auto *o = static_cast<char *>(out);
  auto *i = static_cast<const char *>(in);
  if (o < i + bytes && i < o + bytes) {
    // Overlapping ranges (the CPU's memmove): cudaMemcpy's result would be
    // undefined, so go through scratch memory.
    void *tmp = scratch(ctx, static_cast<size_t>(bytes));
    if (!tmp)
      return;
    if (failed(ctx, cudaMemcpyAsync(tmp, in, bytes, cudaMemcpyDefault, stream),
               "copy"))
      return;
    in = tmp;
  }
  failed(ctx, cudaMemcpyAsync(out, in, bytes, cudaMemcpyDefault, stream),
         "copy");
}

void gemm_f32(dpcrt_context *ctx, float *c, const float *a, const float *b,
              int64_t m, int64_t n, int64_t k, int32_t trans_a, int32_t trans_b,
              float beta) {
  if (!checkGemmSizes(ctx, "gemm", m, n, k) || m == 0 || n == 0)
    return;
  rowMajorGemm(ctx, "gemm", c, a, b, m, n, k, trans_a, trans_b, beta);
}

void broadcast_rows_f32(dpcrt_context *ctx, float *out, const float *bias,
                        int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0)
    return;
  launch(ctx, "broadcast_rows", rows * cols, broadcastRowsKernel, out, bias,
         rows * cols, cols);
}

void scale_f32(dpcrt_context *ctx, float *out, const float *in, int64_t n,
               float factor) {
  launch(ctx, "scale", n, scaleKernel, out, in, n, factor);
}

void transpose2d_f32(dpcrt_context *ctx, float *out, const float *in,
                     int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0)
    return;
  launch(ctx, "transpose2d", rows * cols, transposeKernel, out, in, rows, cols);
}

void unary_f32(dpcrt_context *ctx, int32_t kind, float *out, const float *in,
               int64_t n) {
  if (!isUnaryKind(kind)) {
    recordError(ctx, "unary: unknown kind " + std::to_string(kind));
    return;
  }
  launch(ctx, "unary", n, unaryKernel, kind, out, in, n);
}

void unary_grad_f32(dpcrt_context *ctx, int32_t kind, float *dx,
                    const float *dy, const float *saved, int64_t n) {
  if (!isUnaryKind(kind)) {
    recordError(ctx, "unary_grad: unknown kind " + std::to_string(kind));
    return;
  }
  launch(ctx, "unary_grad", n, unaryGradKernel, kind, dx, dy, saved, n);
}

void binary_f32(dpcrt_context *ctx, int32_t kind, float *out, const float *a,
                const float *b, int32_t rank, const int64_t *dims,
                float alpha) {
  if (kind < DPCRT_BINARY_ADD || kind > DPCRT_BINARY_DIV) {
    recordError(ctx, "binary: unknown kind " + std::to_string(kind));
    return;
  }
  Strides st;
  int64_t n;
  if (!makeStrides(ctx, "binary", rank, dims, 2, st, n))
    return;
  launch(ctx, "binary", n, binaryKernel, kind, out, a, b, st, n, alpha);
}

void reduce_sum_f32(dpcrt_context *ctx, float *out, const float *in,
                    int32_t rank, const int64_t *dims, int64_t out_n) {
  if (rank < 0 || out_n < 0) {
    recordError(ctx, "reduce_sum: negative rank or output size");
    return;
  }
  if (rank > kMaxRank) {
    recordError(ctx, "reduce_sum: rank " + std::to_string(rank) +
                         " is not supported on the cuda backend (at most " +
                         std::to_string(kMaxRank) + ")");
    return;
  }
  if (out_n == 0)
    return;
  // Split the dimensions into kept ones (a non-zero output stride) and
  // reduced ones, with the input's dense row-major strides.
  Strides reduced = {}, kept = {};
  int64_t inStride = 1, reducedN = 1;
  bool empty = false;
  for (int32_t d = rank - 1; d >= 0; --d) {
    int64_t extent = dims[d], outStride = dims[rank + d];
    empty |= extent <= 0;
    if (outStride == 0 && extent != 1) {
      reduced.shape[reduced.rank] = extent;
      reduced.stride[0][reduced.rank++] = inStride;
      reducedN *= std::max<int64_t>(extent, 0);
    } else if (extent != 1) {
      kept.shape[kept.rank] = extent;
      kept.stride[0][kept.rank] = inStride;
      kept.stride[1][kept.rank++] = outStride;
    }
    inStride *= std::max<int64_t>(extent, 0);
  }
  // Dimensions were collected innermost first; offsetsOf wants row-major.
  std::reverse(reduced.shape, reduced.shape + reduced.rank);
  std::reverse(reduced.stride[0], reduced.stride[0] + reduced.rank);
  if (empty) {
    fill_f32(ctx, out, out_n, 0.0f);
    return;
  }
  int64_t threads = out_n * 32;
  reduceSumKernel<<<gridFor(threads, kThreads), kThreads, 0,
                    computeStream(ctx)>>>(out, in, reduced, reducedN, kept,
                                          out_n);
  launchFailed(ctx, "reduce_sum");
}

void cross_entropy_f32(dpcrt_context *ctx, float *loss, const float *logits,
                       const int64_t *labels, int64_t n, int64_t c) {
  if (n <= 0 || c <= 0) {
    // The CPU's mean over no samples: 0 / 0.
    fill_f32(ctx, loss, 1, NAN);
    return;
  }
  auto *terms = static_cast<float *>(scratch(ctx, n * sizeof(float)));
  if (!terms)
    return;
  cudaStream_t stream = computeStream(ctx);
  crossEntropyRowsKernel<<<gridFor(n, 1), kThreads, 0, stream>>>(
      terms, nullptr, logits, labels, n, c, deviceError(ctx),
      kCrossEntropyLabel);
  if (launchFailed(ctx, "cross_entropy"))
    return;
  meanOfTermsKernel<<<1, kThreads, 0, stream>>>(loss, terms, n);
  launchFailed(ctx, "cross_entropy");
}

void cross_entropy_grad_f32(dpcrt_context *ctx, float *dlogits,
                            const float *dloss, const float *logits,
                            const int64_t *labels, int64_t n, int64_t c) {
  if (n <= 0 || c <= 0)
    return;
  auto *shifts = static_cast<float *>(scratch(ctx, n * sizeof(float)));
  if (!shifts)
    return;
  cudaStream_t stream = computeStream(ctx);
  crossEntropyRowsKernel<<<gridFor(n, 1), kThreads, 0, stream>>>(
      nullptr, shifts, logits, labels, n, c, deviceError(ctx),
      kCrossEntropyGradLabel);
  if (launchFailed(ctx, "cross_entropy_grad"))
    return;
  launch(ctx, "cross_entropy_grad", n * c, crossEntropyGradKernel, dlogits,
         dloss, logits, labels, static_cast<const float *>(shifts), n, c);
}

void mse_loss_f32(dpcrt_context *ctx, float *loss, const float *pred,
                  const float *target, int64_t n) {
  mseKernel<<<1, kThreads, 0, computeStream(ctx)>>>(loss, pred, target,
                                                    std::max<int64_t>(n, 0));
  launchFailed(ctx, "mse_loss");
}

void mse_loss_grad_f32(dpcrt_context *ctx, float *dpred, const float *dloss,
                       const float *pred, const float *target, int64_t n) {
  // mse_loss_backward: (pred - target) * (2 / n) * dloss, norm rounded to
  // float first as torch's scalar multiply does.
  float norm = static_cast<float>(2.0 / static_cast<double>(n));
  launch(ctx, "mse_loss_grad", n, mseGradKernel, dpred, dloss, pred, target, n,
         norm);
}

void sgd_update_f32(dpcrt_context *ctx, float *param, float *momentum_buf,
                    const float *grad, int64_t n, float lr, float momentum,
                    float dampening, float weight_decay, int32_t nesterov) {
  if (momentum != 0.0f && !momentum_buf) {
    recordError(ctx, "sgd_update: momentum is " + std::to_string(momentum) +
                         " but no momentum buffer was passed");
    return;
  }
  // The step counter lives on the host: the first step (0) initializes
  // the momentum buffer. The CPU kernel's constants (kernel_shared.h).
  SgdConstants c = sgdConstants(lr, momentum, dampening, weight_decay,
                                nesterov != 0, ctx->step == 0);
  launch(ctx, "sgd_update", n, sgdKernel, param, momentum_buf, grad, n, c);
}

void adam_update_f32(dpcrt_context *ctx, float *param, float *exp_avg,
                     float *exp_avg_sq, const float *grad, int64_t n, double lr,
                     double beta1, double beta2, double eps,
                     double weight_decay, int32_t decoupled_weight_decay) {
  if (!exp_avg || !exp_avg_sq) {
    recordError(ctx, "adam_update: the exp_avg and exp_avg_sq buffers are "
                     "required");
    return;
  }
  if (n <= 0)
    return;
  // The CPU kernel's constants (kernel_shared.h).
  AdamConstants c = adamConstants(lr, beta1, beta2, eps, weight_decay,
                                  decoupled_weight_decay != 0, ctx->step);
  launch(ctx, "adam_update", n, adamKernel, param, exp_avg, exp_avg_sq, grad, n,
         c);
}

void increment_i64(dpcrt_context *ctx, int64_t *data, int64_t n,
                   int64_t amount) {
  launch(ctx, "increment", n, incrementKernel, data, n, amount);
}

void batched_gemm_f32(dpcrt_context *ctx, float *c, const float *a,
                      const float *b, int32_t batch_rank, const int64_t *dims,
                      int64_t m, int64_t n, int64_t k, int32_t trans_a,
                      int32_t trans_b) {
  if (batch_rank < 0) {
    recordError(ctx, "batched_gemm: negative batch rank");
    return;
  }
  if (!checkGemmSizes(ctx, "batched_gemm", m, n, k) || m == 0 || n == 0)
    return;
  int64_t batch = 1;
  for (int32_t d = 0; d < batch_rank; ++d)
    batch *= std::max<int64_t>(dims[d], 0);
  if (batch == 0)
    return;
  int64_t sizeA = m * k, sizeB = k * n, sizeC = m * n;
  const int64_t *strideA = dims + batch_rank, *strideB = dims + 2 * batch_rank;
  int64_t flatA, flatB;
  if (batch <= INT_MAX && uniformStride(batch_rank, dims, strideA, flatA) &&
      uniformStride(batch_rank, dims, strideB, flatB)) {
    // One call; a stride of 0 broadcasts an operand over the batch.
    int lda = static_cast<int>(std::max<int64_t>(1, trans_a ? m : k));
    int ldb = static_cast<int>(std::max<int64_t>(1, trans_b ? k : n));
    float one = 1.0f, zero = 0.0f;
    failed(ctx,
           cublasSgemmStridedBatched(
               state(ctx).cublas, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
               trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, static_cast<int>(n),
               static_cast<int>(m), static_cast<int>(k), &one, b, ldb,
               flatB * sizeB, a, lda, flatA * sizeA, &zero, c,
               static_cast<int>(n), sizeC, static_cast<int>(batch)),
           "batched_gemm");
    return;
  }
  // Irregular strides: one GEMM per batch element, in row-major order.
  std::vector<int64_t> index(batch_rank, 0);
  for (int64_t e = 0; e < batch && ctx->error.empty(); ++e) {
    int64_t offA = 0, offB = 0;
    for (int32_t d = 0; d < batch_rank; ++d) {
      offA += index[d] * strideA[d];
      offB += index[d] * strideB[d];
    }
    rowMajorGemm(ctx, "batched_gemm", c + e * sizeC, a + offA * sizeA,
                 b + offB * sizeB, m, n, k, trans_a, trans_b, 0.0f);
    for (int32_t d = batch_rank - 1; d >= 0; --d) {
      if (++index[d] < dims[d])
        break;
      index[d] = 0;
    }
  }
}

void strided_copy(dpcrt_context *ctx, void *out, const void *in,
                  int64_t elem_bytes, int32_t rank, const int64_t *dims) {
  if (rank < 0 || elem_bytes <= 0) {
    recordError(ctx, "strided_copy: invalid rank or element size");
    return;
  }
  Strides st;
  int64_t n;
  if (!makeStrides(ctx, "strided_copy", rank, dims, 2, st, n))
    return;
  switch (elem_bytes) {
  case 1:
    return launch(ctx, "strided_copy", n, stridedCopyKernel<uint8_t>,
                  static_cast<uint8_t *>(out), static_cast<const uint8_t *>(in),
                  st, n);
  case 2:
    return launch(ctx, "strided_copy", n, stridedCopyKernel<uint16_t>,
                  static_cast<uint16_t *>(out),
                  static_cast<const uint16_t *>(in), st, n);
  case 4:
    return launch(ctx, "strided_copy", n, stridedCopyKernel<uint32_t>,
                  static_cast<uint32_t *>(out),
                  static_cast<const uint32_t *>(in), st, n);
  case 8:
    return launch(ctx, "strided_copy", n, stridedCopyKernel<uint64_t>,
                  static_cast<uint64_t *>(out),
                  static_cast<const uint64_t *>(in), st, n);
  default:
    return launch(ctx, "strided_copy", n, stridedCopyBytesKernel,
                  static_cast<char *>(out), static_cast<const char *>(in), st,
                  n, elem_bytes);
  }
}

void compare_f32(dpcrt_context *ctx, int32_t kind, float *out, const float *a,
                 const float *b, int32_t rank, const int64_t *dims) {
  if (rank < 0 || kind < DPCRT_COMPARE_EQ || kind > DPCRT_COMPARE_GE) {
    recordError(ctx, "compare: invalid rank or kind " + std::to_string(kind));
    return;
  }
  Strides st;
  int64_t n;
  if (!makeStrides(ctx, "compare", rank, dims, 2, st, n))
    return;
  launch(ctx, "compare", n, compareKernel, kind, out, a, b, st, n);
}

void masked_fill_f32(dpcrt_context *ctx, float *out, const float *in,
                     const float *mask, int32_t rank, const int64_t *dims,
                     float value) {
  if (rank < 0) {
    recordError(ctx, "masked_fill: negative rank");
    return;
  }
  Strides st;
  int64_t n;
  if (!makeStrides(ctx, "masked_fill", rank, dims, 1, st, n))
    return;
  launch(ctx, "masked_fill", n, maskedFillKernel, out, in, mask, st, n, value);
}

void div_scalar_f32(dpcrt_context *ctx, float *out, const float *in, int64_t n,
                    float divisor) {
  launch(ctx, "div_scalar", n, divKernel, out, in, n, divisor);
}

void divideOnStream(dpcrt_context *ctx, cudaStream_t stream, float *data,
                    int64_t n, float divisor) {
  if (n <= 0)
    return;
  divKernel<<<gridFor(n, kThreads), kThreads, 0, stream>>>(data, data, n,
                                                           divisor);
  launchFailed(ctx, "allreduce: dividing by the world size");
}

} // namespace dpc::cuda
