//===- abi.h - The C ABI between a compiled model.so and libdpcrt ---------===//
//
// A model.so produced by `dpc` exports three symbols and calls the dpcrt_*
// kernel entry points below, which libdpcrt exports. The kernels take the
// opaque context first so that one model.so runs on any backend: the context
// knows whether it is the CPU or the CUDA backend, and which stream a
// call belongs to. Nothing in this header may change meaning without bumping
// DPC_ABI_VERSION; the runtime refuses a module whose version differs.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_ABI_H
#define DPC_ABI_H

#include <stdint.h>

#define DPC_ABI_VERSION 1

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dpcrt_context dpcrt_context;

//===----------------------------------------------------------------------===//
// Symbols exported by model.so
//===----------------------------------------------------------------------===//

// extern const char dpc_model_manifest[];         NUL-terminated JSON manifest
// extern const unsigned char dpc_model_weights[];  initial parameter/buffer
//                                                  bytes, 64-byte aligned;
//                                                  offsets in the manifest
// void dpc_model_train_step(dpcrt_context *ctx, void *const *slots);
//   One training step. `slots` holds one pointer per manifest slot
//   (parameters, optimizer state, inputs, label, loss, arena); see
//   docs/ARCHITECTURE.md for the manifest schema.
// extern const uint64_t dpc_model_manifest_hash;  dpc_checksum of the manifest
//                                                  (without its NUL)
#define DPC_MODEL_MANIFEST_SYMBOL "dpc_model_manifest"
#define DPC_MODEL_MANIFEST_HASH_SYMBOL "dpc_model_manifest_hash"
#define DPC_MODEL_WEIGHTS_SYMBOL "dpc_model_weights"
#define DPC_MODEL_TRAIN_STEP_SYMBOL "dpc_model_train_step"
typedef void (*dpc_model_train_step_fn)(dpcrt_context *ctx, void *const *slots);

//===----------------------------------------------------------------------===//
// The module file's integrity trailer
//===----------------------------------------------------------------------===//

// dpc appends 24 bytes to the linked model.so: the magic, the size of the
// ELF image before it, and dpc_checksum of that image (both little-endian
// uint64). The runtime checks them before dlopen, so a truncated or
// corrupted module is an error instead of a SIGBUS or SIGSEGV inside the
// dynamic loader. dlopen maps segments only and never reads these bytes.
#define DPC_MODULE_TRAILER_MAGIC "dpcsum1"
#define DPC_MODULE_TRAILER_BYTES 24

// FNV-1a over 64-bit little-endian words, then the remaining bytes: each
// step is a bijection of the state, so any change confined to one word
// changes the result. It detects corruption, not deliberate forgery.
#define DPC_CHECKSUM_SEED 0xcbf29ce484222325ull

// Continues a checksum over `size` more bytes. Calls in sequence equal one
// call over the concatenation when each but the last covers a multiple of 8.
static inline uint64_t dpc_checksum_update(uint64_t hash, const void *data,
                                           uint64_t size) {
  const unsigned char *p = (const unsigned char *)data;
  const uint64_t prime = 0x100000001b3ull;
  uint64_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t word = 0;
    for (int b = 0; b < 8; ++b)
      word |= (uint64_t)p[i + b] << (8 * b);
    hash = (hash ^ word) * prime;
  }
  for (; i < size; ++i)
    hash = (hash ^ p[i]) * prime;
  return hash;
}

static inline uint64_t dpc_checksum(const void *data, uint64_t size) {
  return dpc_checksum_update(DPC_CHECKSUM_SEED, data, size);
}

//===----------------------------------------------------------------------===//
// Kernels exported by libdpcrt (all tensors are dense, row-major, float32
// unless the name says otherwise)
//===----------------------------------------------------------------------===//

// out[0..n) = value
void dpcrt_fill_f32(dpcrt_context *ctx, float *out, int64_t n, float value);
// memcpy(out, in, bytes)
void dpcrt_copy(dpcrt_context *ctx, void *out, const void *in, int64_t bytes);

// C[m,n] = op(A) @ op(B) + beta * C, op(X) = X^T when trans_x != 0.
// A is [m,k] ([k,m] when transposed), B is [k,n] ([n,k] when transposed).
void dpcrt_gemm_f32(dpcrt_context *ctx, float *c, const float *a,
                    const float *b, int64_t m, int64_t n, int64_t k,
                    int32_t trans_a, int32_t trans_b, float beta);

// out[i, :] = bias[:] for i in [0, rows): the first half of torch.addmm.
void dpcrt_broadcast_rows_f32(dpcrt_context *ctx, float *out,
                              const float *bias, int64_t rows, int64_t cols);

// out[i] = in[i] * factor
void dpcrt_scale_f32(dpcrt_context *ctx, float *out, const float *in,
                     int64_t n, float factor);

// out = in^T for a [rows, cols] matrix.
void dpcrt_transpose2d_f32(dpcrt_context *ctx, float *out, const float *in,
                           int64_t rows, int64_t cols);

enum dpcrt_unary_kind {
  DPCRT_UNARY_RELU = 0,
  DPCRT_UNARY_TANH = 1,
  DPCRT_UNARY_SIGMOID = 2,
  DPCRT_UNARY_NEG = 3,
};
// out[i] = f(in[i])
void dpcrt_unary_f32(dpcrt_context *ctx, int32_t kind, float *out,
                     const float *in, int64_t n);
// dx[i] = dy[i] * f'(..): RELU uses the forward input x (dy where x > 0, as
// torch's threshold_backward), TANH and SIGMOID use the forward output y
// (dy * (1 - y*y), dy * y * (1 - y)).
void dpcrt_unary_grad_f32(dpcrt_context *ctx, int32_t kind, float *dx,
                          const float *dy, const float *saved, int64_t n);

enum dpcrt_binary_kind {
  DPCRT_BINARY_ADD = 0, // a + alpha * b   (torch.add with alpha)
  DPCRT_BINARY_SUB = 1, // a - alpha * b
  DPCRT_BINARY_MUL = 2, // a * b
  DPCRT_BINARY_DIV = 3, // a / b
};
// Broadcasting elementwise op. `dims` points at 3*rank int64 values: the
// output shape, then a's strides, then b's strides, in elements (a stride is
// 0 along a broadcast dimension). rank may be 0 (scalars).
void dpcrt_binary_f32(dpcrt_context *ctx, int32_t kind, float *out,
                      const float *a, const float *b, int32_t rank,
                      const int64_t *dims, float alpha);

// Sum-reduction that undoes a broadcast: `dims` points at 2*rank int64
// values, the input shape then the output's strides in input coordinates
// (0 along each reduced dimension). out has out_n elements and is
// overwritten. Summation runs in increasing input index order.
void dpcrt_reduce_sum_f32(dpcrt_context *ctx, float *out, const float *in,
                          int32_t rank, const int64_t *dims, int64_t out_n);

// loss[0] = mean_i -log_softmax(logits[i, :])[labels[i]], logits [n, c].
void dpcrt_cross_entropy_f32(dpcrt_context *ctx, float *loss,
                             const float *logits, const int64_t *labels,
                             int64_t n, int64_t c);
// dlogits = dloss[0] * (softmax(logits) - onehot(labels)) / n
void dpcrt_cross_entropy_grad_f32(dpcrt_context *ctx, float *dlogits,
                                  const float *dloss, const float *logits,
                                  const int64_t *labels, int64_t n, int64_t c);
// loss[0] = mean((pred - target)^2) over n elements
void dpcrt_mse_loss_f32(dpcrt_context *ctx, float *loss, const float *pred,
                        const float *target, int64_t n);
// dpred = dloss[0] * 2 * (pred - target) / n
void dpcrt_mse_loss_grad_f32(dpcrt_context *ctx, float *dpred,
                             const float *dloss, const float *pred,
                             const float *target, int64_t n);

// torch.optim.SGD for one parameter, in place:
//   d = grad + weight_decay * param
//   if momentum != 0: buf = d on the first step (runtime step counter == 0),
//                     else buf = momentum * buf + (1 - dampening) * d;
//                     d = nesterov ? d + momentum * buf : buf
//   param -= lr * d
// momentum_buf may be null when momentum == 0.
void dpcrt_sgd_update_f32(dpcrt_context *ctx, float *param,
                          float *momentum_buf, const float *grad, int64_t n,
                          float lr, float momentum, float dampening,
                          float weight_decay, int32_t nesterov);

// torch.optim.Adam (decoupled_weight_decay == 0) or torch.optim.AdamW (!= 0)
// for one parameter, in place, with t = runtime step counter + 1:
//   Adam:  g = grad + weight_decay * param        AdamW: g = grad,
//                                                  param *= 1 - lr * weight_decay
//   exp_avg    = beta1 * exp_avg + (1 - beta1) * g
//   exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * g * g
//   denom = sqrt(exp_avg_sq) / sqrt(1 - beta2^t) + eps
//   param -= lr / (1 - beta1^t) * exp_avg / denom
// The hyper-parameters are doubles, as in Python; bias corrections and step
// size are computed in double and rounded to float where torch 1.13 rounds
// them, so results agree with torch.optim to float32 rounding.
void dpcrt_adam_update_f32(dpcrt_context *ctx, float *param, float *exp_avg,
                           float *exp_avg_sq, const float *grad, int64_t n,
                           double lr, double beta1, double beta2, double eps,
                           double weight_decay,
                           int32_t decoupled_weight_decay);

//===----------------------------------------------------------------------===//
// Convolution, normalization and pooling (CNNs). Activations are NCHW.
//===----------------------------------------------------------------------===//

// The geometry of a 2-d convolution: the conv2d kernels take a pointer to
// DPCRT_CONV2D_NUM_DIMS int64 values, indexed by these names.
enum dpcrt_conv2d_dim {
  DPCRT_CONV2D_N = 0,      // batch
  DPCRT_CONV2D_C = 1,      // input channels
  DPCRT_CONV2D_H = 2,      // input height
  DPCRT_CONV2D_W = 3,      // input width
  DPCRT_CONV2D_O = 4,      // output channels
  DPCRT_CONV2D_KH = 5,     // kernel height
  DPCRT_CONV2D_KW = 6,     // kernel width
  DPCRT_CONV2D_OH = 7,     // output height
  DPCRT_CONV2D_OW = 8,     // output width
  DPCRT_CONV2D_STRIDE_H = 9,
  DPCRT_CONV2D_STRIDE_W = 10,
  DPCRT_CONV2D_PAD_H = 11,
  DPCRT_CONV2D_PAD_W = 12,
  DPCRT_CONV2D_DILATION_H = 13,
  DPCRT_CONV2D_DILATION_W = 14,
  DPCRT_CONV2D_GROUPS = 15,
  DPCRT_CONV2D_NUM_DIMS = 16,
};
// out [N,O,OH,OW] = conv2d(in [N,C,H,W], weight [O,C/groups,KH,KW]) + bias
// [O] (bias may be null), zero padding (oneDNN on the CPU, cuDNN on CUDA).
void dpcrt_conv2d_f32(dpcrt_context *ctx, float *out, const float *in,
                      const float *weight, const float *bias,
                      const int64_t *dims);
// dx [N,C,H,W] = the gradient of conv2d's input for dy [N,O,OH,OW].
// Overwrites dx.
void dpcrt_conv2d_input_grad_f32(dpcrt_context *ctx, float *dx,
                                 const float *dy, const float *weight,
                                 const int64_t *dims);
// dweight [O,C/groups,KH,KW] = the gradient of conv2d's weight for dy
// [N,O,OH,OW], summed over the batch. Overwrites dweight.
void dpcrt_conv2d_weight_grad_f32(dpcrt_context *ctx, float *dweight,
                                  const float *dy, const float *in,
                                  const int64_t *dims);

// Training-mode batch normalization of in [n, c, inner] (per channel over n
// and inner), PyTorch's CPU batch_norm operation by operation: mean and the
// sum of squared deviations accumulate in double; save_invstd =
// 1 / sqrt(var_sum / count + eps); out = fma(x, invstd * w, fma(-mean,
// invstd * w, b)); running_mean and running_var (updated in place, the
// latter with the unbiased variance) use float(momentum). count = n * inner
// must be at least 2.
void dpcrt_batch_norm_f32(dpcrt_context *ctx, float *out, float *save_mean,
                          float *save_invstd, float *running_mean,
                          float *running_var, const float *in,
                          const float *weight, const float *bias, int64_t n,
                          int64_t c, int64_t inner, double momentum,
                          double eps);
// Gradients of training-mode batch_norm (PyTorch's
// batch_norm_cpu_backward_contiguous_impl, including its 8-lane float sums
// per plane and its fused multiply-adds, so that results agree bitwise):
//   sum = sum(dy), dotp = sum((x - mean) * dy), k = dotp * invstd^2 / count
//   dx = (dy - sum / count - (x - mean) * k) * invstd * w
//   dweight = dotp * invstd, dbias = sum
void dpcrt_batch_norm_grad_f32(dpcrt_context *ctx, float *dx, float *dweight,
                               float *dbias, const float *dy, const float *in,
                               const float *weight, const float *save_mean,
                               const float *save_invstd, int64_t n, int64_t c,
                               int64_t inner);
// data[0..n) += amount, in place (num_batches_tracked).
void dpcrt_increment_i64(dpcrt_context *ctx, int64_t *data, int64_t n,
                         int64_t amount);

// The geometry of 2-d pooling over `planes` = N * C independent planes: the
// pooling kernels take a pointer to DPCRT_POOL2D_NUM_DIMS int64 values.
enum dpcrt_pool2d_dim {
  DPCRT_POOL2D_PLANES = 0,
  DPCRT_POOL2D_H = 1,
  DPCRT_POOL2D_W = 2,
  DPCRT_POOL2D_OH = 3,
  DPCRT_POOL2D_OW = 4,
  DPCRT_POOL2D_KH = 5,
  DPCRT_POOL2D_KW = 6,
  DPCRT_POOL2D_STRIDE_H = 7,
  DPCRT_POOL2D_STRIDE_W = 8,
  DPCRT_POOL2D_PAD_H = 9,
  DPCRT_POOL2D_PAD_W = 10,
  DPCRT_POOL2D_DILATION_H = 11, // 1 for average pooling
  DPCRT_POOL2D_DILATION_W = 12,
  DPCRT_POOL2D_NUM_DIMS = 13,
};
// out = the maximum of each window (NaN wins; padding is -inf).
void dpcrt_max_pool2d_f32(dpcrt_context *ctx, float *out, const float *in,
                          const int64_t *dims);
// dx = dy routed to each window's first maximum in `in` (recomputed), summed
// over windows. Overwrites dx.
void dpcrt_max_pool2d_grad_f32(dpcrt_context *ctx, float *dx, const float *dy,
                               const float *in, const int64_t *dims);
// out = the float sum of each window (clipped to the input) divided by
// divisor_override when non-zero, else by the window size clipped to the
// padded input (count_include_pad != 0) or to the input.
void dpcrt_avg_pool2d_f32(dpcrt_context *ctx, float *out, const float *in,
                          const int64_t *dims, int32_t count_include_pad,
                          int64_t divisor_override);
// dx = each dy divided by its window's divisor, spread over the window.
// Overwrites dx.
void dpcrt_avg_pool2d_grad_f32(dpcrt_context *ctx, float *dx, const float *dy,
                               const int64_t *dims, int32_t count_include_pad,
                               int64_t divisor_override);
// out [planes, oh, ow] = adaptive average pooling of in [planes, h, w]:
// window rows [floor(i*h/oh), ceil((i+1)*h/oh)), likewise columns; the sum
// divided by the window height, then width. 1x1 outputs are means (double
// sum, then divided by h*w), as PyTorch's mean over (-1, -2).
void dpcrt_adaptive_avg_pool2d_f32(dpcrt_context *ctx, float *out,
                                   const float *in, int64_t planes, int64_t h,
                                   int64_t w, int64_t oh, int64_t ow);
// dx = each dy divided by its window size, spread over the window (1x1:
// divided by h*w). Overwrites dx.
void dpcrt_adaptive_avg_pool2d_grad_f32(dpcrt_context *ctx, float *dx,
                                        const float *dy, int64_t planes,
                                        int64_t h, int64_t w, int64_t oh,
                                        int64_t ow);

//===----------------------------------------------------------------------===//
// Embedding, normalization, attention and shape ops (Transformers)
//===----------------------------------------------------------------------===//

// Batched C[i] = op(A[i]) @ op(B[i]) for every index i of a batch of shape
// dims[0..batch_rank); dims[batch_rank..2*batch_rank) and
// dims[2*batch_rank..3*batch_rank) are A's and B's batch strides counted in
// matrices (0 along broadcast batch dimensions); C's batch is dense. Matrix
// sizes and transposes as in dpcrt_gemm_f32 (beta = 0). One GEMM per batch
// element, in row-major batch order.
void dpcrt_batched_gemm_f32(dpcrt_context *ctx, float *c, const float *a,
                            const float *b, int32_t batch_rank,
                            const int64_t *dims, int64_t m, int64_t n,
                            int64_t k, int32_t trans_a, int32_t trans_b);

// Strided copy of elements of elem_bytes bytes: for every index i of the
// shape dims[0..rank), out[sum_d i_d * out_stride_d] = in[sum_d i_d *
// in_stride_d], with out strides dims[rank..2*rank) and in strides
// dims[2*rank..3*rank), in elements. Permutes, slices, splits, concatenates
// and broadcasts (stride 0) are all such copies.
void dpcrt_strided_copy(dpcrt_context *ctx, void *out, const void *in,
                        int64_t elem_bytes, int32_t rank, const int64_t *dims);

// out[s, :] = weight[indices[s], :] for s in [0, n); weight is
// [num_weights, dim]. An index outside [0, num_weights) is an error.
void dpcrt_embedding_f32(dpcrt_context *ctx, float *out, const float *weight,
                         const int64_t *indices, int64_t n,
                         int64_t num_weights, int64_t dim);
// dweight = 0, then dweight[indices[s], :] += grad[s, :] for s = 0, 1, ...
// in that order, in float (torch's embedding_dense_backward on CPU),
// skipping indices equal to padding_idx (-1: none).
void dpcrt_embedding_grad_f32(dpcrt_context *ctx, float *dweight,
                              const float *grad, const int64_t *indices,
                              int64_t n, int64_t num_weights, int64_t dim,
                              int64_t padding_idx);

// Layer normalization of each row of x [rows, cols]:
//   rstd = 1 / sqrt(var + eps) (biased variance), y = (x * rstd + (-rstd *
//   mean)) * gamma + beta. gamma and beta may be null (1 and 0).
void dpcrt_layer_norm_f32(dpcrt_context *ctx, float *y, const float *x,
                          const float *gamma, const float *beta, int64_t rows,
                          int64_t cols, float eps);
// Gradients of dpcrt_layer_norm_f32 (mean and rstd recomputed from x):
//   dx = rstd * dy * gamma + b * x + c, with ds = sum(dy * gamma * x),
//   db = sum(dy * gamma), b = (db * mean - ds) * rstd^3 / cols,
//   c = -b * mean - db * rstd / cols;
//   dgamma[j] = sum_i dy * (rstd * x + (-rstd * mean)), dbeta[j] = sum_i dy,
//   both summed in float over the rows in order (as torch's CPU kernel).
// dgamma and dbeta may be null; every output is overwritten.
void dpcrt_layer_norm_grad_f32(dpcrt_context *ctx, float *dx, float *dgamma,
                               float *dbeta, const float *dy, const float *x,
                               const float *gamma, int64_t rows, int64_t cols,
                               float eps);

enum dpcrt_gelu_kind {
  DPCRT_GELU_ERF = 0,  // x * 0.5 * (1 + erf(x / sqrt(2)))
  DPCRT_GELU_TANH = 1, // 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))
};
void dpcrt_gelu_f32(dpcrt_context *ctx, int32_t kind, float *out,
                    const float *in, int64_t n);
// dx = dy * gelu'(x), torch's gelu_backward formulas.
void dpcrt_gelu_grad_f32(dpcrt_context *ctx, int32_t kind, float *dx,
                         const float *dy, const float *x, int64_t n);

// (Log-)softmax of a tensor viewed as [outer, size, inner] along its middle
// dimension: y = exp(x - max) / sum (log != 0: x - max - log(sum)).
void dpcrt_softmax_f32(dpcrt_context *ctx, float *out, const float *in,
                       int64_t outer, int64_t size, int64_t inner,
                       int32_t log);
// dx = (dy - sum(dy * y)) * y, or for log-softmax dy - exp(y) * sum(dy),
// from the forward output y.
void dpcrt_softmax_grad_f32(dpcrt_context *ctx, float *dx, const float *dy,
                            const float *y, int64_t outer, int64_t size,
                            int64_t inner, int32_t log);

enum dpcrt_compare_kind {
  DPCRT_COMPARE_EQ = 0,
  DPCRT_COMPARE_NE = 1,
  DPCRT_COMPARE_LT = 2,
  DPCRT_COMPARE_LE = 3,
  DPCRT_COMPARE_GT = 4,
  DPCRT_COMPARE_GE = 5,
};
// out = (a <kind> b) ? 1 : 0 with broadcasting; dims as in dpcrt_binary_f32.
void dpcrt_compare_f32(dpcrt_context *ctx, int32_t kind, float *out,
                       const float *a, const float *b, int32_t rank,
                       const int64_t *dims);
// out = mask != 0 ? value : in, where in and out have the shape
// dims[0..rank) and dims[rank..2*rank) are the mask's broadcast strides.
void dpcrt_masked_fill_f32(dpcrt_context *ctx, float *out, const float *in,
                           const float *mask, int32_t rank,
                           const int64_t *dims, float value);
// out[i] = in[i] / divisor (in may equal out).
void dpcrt_div_scalar_f32(dpcrt_context *ctx, float *out, const float *in,
                          int64_t n, float divisor);

// loss[0] = mean_i -input[i, labels[i]], input [n, c].
void dpcrt_nll_loss_f32(dpcrt_context *ctx, float *loss, const float *input,
                        const int64_t *labels, int64_t n, int64_t c);
// dinput = 0 except dinput[i, labels[i]] = -dloss[0] / n.
void dpcrt_nll_loss_grad_f32(dpcrt_context *ctx, float *dinput,
                             const float *dloss, const int64_t *labels,
                             int64_t n, int64_t c);

// Starts averaging data[0..n) over all ranks in place (DDP: divide by the
// world size, then sum), asynchronously; returns a handle for the wait.
// `bucket` is the compiler's bucket index, for tracing and checks.
int64_t dpcrt_allreduce_start(dpcrt_context *ctx, int32_t bucket, float *data,
                              int64_t n);
// Blocks until the all-reduce of `handle` has finished.
void dpcrt_allreduce_wait(dpcrt_context *ctx, int64_t handle);

// Marks the start of op `index` of the step (the manifest's "schedule"
// lists them) and the end of the previous one; -1 ends the last op. Costs a
// branch unless the run is traced (dpc-run --trace).
void dpcrt_trace_op(dpcrt_context *ctx, int32_t index);

// Single-process data parallelism (--mode dp): runs fns[0..n) at the same
// time, fns[r](ctx_r, env) for replica r, and returns when all have
// returned. Replica 0 runs on the calling thread, replica r > 0 on a
// persistent worker thread of its own. With n > 1 each replica gets a
// context of its own (the step counter copied from `ctx`), so kernels need
// no locking, and a replica's first error is then recorded in `ctx` as
// "replica r: ..."; BLAS calls are single-threaded meanwhile (n replicas,
// n threads). With n == 1, fns[0] simply runs with `ctx`.
typedef void (*dpcrt_replica_fn)(dpcrt_context *ctx, void *const *env);
void dpcrt_run_replicas(dpcrt_context *ctx, int32_t n,
                        const dpcrt_replica_fn *fns, void *const *env);

#ifdef __cplusplus
}
#endif

#endif // DPC_ABI_H
