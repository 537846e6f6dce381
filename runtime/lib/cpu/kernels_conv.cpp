//===- kernels_conv.cpp - CPU kernels for convolution, BN and pooling -----===//
//
// Convolutions run on oneDNN, configured as PyTorch 1.13 configures it for
// float32 CPU training (aten/src/ATen/native/mkldnn/Conv.cpp through ideep's
// convolution_forward/backward_data/backward_weights): the same direct
// primitives, which choose their own blocked layouts for the plain NCHW/OIHW
// tensors, with reorders in between. Linked against the oneDNN PyTorch uses,
// they pick the same kernels, so the numbers follow torch's rather than a
// BLAS's summation order, and they run as fast. Each thread caches its
// primitives, reorders and buffers by geometry: steady-state steps create
// nothing.
//
// Batch normalization and pooling follow PyTorch's CPU kernels (torch 1.13,
// aten/src/ATen/native/{Normalization.cpp, cpu/batch_norm_kernel.cpp,
// cpu/MaxPoolKernel.cpp, cpu/AvgPoolKernel.cpp,
// cpu/AdaptiveAvgPoolKernel.cpp}) operation by operation: the same
// accumulation types, the same order of float operations and fused
// multiply-adds exactly where PyTorch's AVX2 build fuses them (explicit
// std::fma; this file is compiled with -ffp-contract=off so the compiler
// fuses nothing else). The batch-norm backward reproduces the 8-lane vector
// sums of PyTorch's vec::reduce_all; checked bitwise against torch.
//
//===----------------------------------------------------------------------===//

#include "core/context.h"
#include "cpu/cpu_backend.h"
#include "cpu/dnnl_eltwise.h"
#include "kernel_shared.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

using dpc::Pool2d;
using dpc::recordError;

namespace {

//===----------------------------------------------------------------------===//
// Convolution helpers
//===----------------------------------------------------------------------===//

/// A convolution's geometry with the oneDNN descriptions of its operands.
struct Conv2d : dpc::Conv2dGeometry {
  using Conv2dGeometry::Conv2dGeometry;

  /// oneDNN would reject most inconsistencies too, but with a less helpful
  /// message.
  bool valid() const { return consistent(); }

  using Desc = dnnl::memory::desc;
  using Tag = dnnl::memory::format_tag;
  static constexpr auto kF32 = dnnl::memory::data_type::f32;

  /// The caller's plain tensors: NCHW activations and OIHW weights, which
  /// oneDNN sees as GOIHW when grouped (as ideep's make_grouped_weights).
  Desc src(Tag tag = Tag::nchw) const { return Desc({n, c, h, w}, kF32, tag); }
  Desc dst(Tag tag = Tag::nchw) const {
    return Desc({n, o, oh, ow}, kF32, tag);
  }
  Desc weights(bool any = false) const {
    if (groups == 1)
      return Desc({o, c, kh, kw}, kF32, any ? Tag::any : Tag::oihw);
    return Desc({groups, o / groups, c / groups, kh, kw}, kF32,
                any ? Tag::any : Tag::goihw);
  }
  Desc bias() const { return Desc({o}, kF32, Tag::x); }
  dnnl::memory::dims strides() const { return {sh, sw}; }
  /// oneDNN counts the gaps between kernel taps: torch's dilation minus 1.
  dnnl::memory::dims dilates() const { return {dh - 1, dw - 1}; }
  dnnl::memory::dims padding() const { return {ph, pw}; }
};

bool checkConv(dpcrt_context *ctx, const char *kernel, const Conv2d &g) {
  if (g.valid())
    return true;
  recordError(ctx, g.invalidMessage(kernel));
  return false;
}

enum class ConvKind { Forward, ForwardBias, InputGrad, WeightGrad };

/// One tensor argument of a cached convolution: the caller's plain tensor
/// and, when the primitive chose another layout, a copy in that layout with
/// the reorder between them.
struct ConvOperand {
  int arg;            // DNNL_ARG_* of the convolution
  bool output;        // reordered back to the caller's tensor after the run
  dnnl::memory user;  // the caller's buffer, bound on every call
  dnnl::memory inner; // the primitive's layout; null when it is the user's
  dnnl::reorder reorder;
  dnnl::memory scratchpad; // the reorder's, if it needs one
  std::unordered_map<int, dnnl::memory> reorderArgs;
};

/// A convolution primitive with everything a call needs, built once per
/// geometry and thread.
struct ConvPlan {
  dnnl::primitive conv;
  std::vector<ConvOperand> operands;
  dnnl::memory scratchpad;
  std::unordered_map<int, dnnl::memory> args;
};

/// The per-thread oneDNN state. Primitives, reorders and their memory
/// objects are cached by geometry, so steady-state steps create nothing;
/// the blocked copies and scratchpads of all plans share a few growing
/// buffers (one per operand slot, one for scratchpads) because kernels run
/// one at a time on a thread.
class ConvState {
public:
  static ConvState &get() {
    thread_local ConvState state;
    return state;
  }

  /// Runs the convolution of `kind` with `ptrs` (one per operand, in the
  /// order plan() creates them).
  void run(ConvKind kind, const Conv2d &g, const int64_t *dims,
           std::initializer_list<const void *> ptrs) {
    int threads = dpc::applyDnnlThreads();
    Key key{};
    std::copy(dims, dims + DPCRT_CONV2D_NUM_DIMS, key.begin());
    key[DPCRT_CONV2D_NUM_DIMS] = static_cast<int64_t>(kind);
    // oneDNN's kernels split the work for the thread count they were
    // created with.
    key[DPCRT_CONV2D_NUM_DIMS + 1] = threads;
    std::unique_ptr<ConvPlan> &slot = plans[key];
    if (!slot)
      slot = plan(kind, g);
    ConvPlan &p = *slot;

    size_t i = 0;
    for (const void *ptr : ptrs) {
      ConvOperand &op = p.operands[i];
      op.user.set_data_handle(const_cast<void *>(ptr));
      if (op.inner)
        op.inner.set_data_handle(buffer(i, op.inner.get_desc().get_size()));
      // Reorders and the convolution run one after another, so they can
      // share the scratchpad buffer.
      if (op.scratchpad)
        op.scratchpad.set_data_handle(
            buffer(kScratchBuffer, op.scratchpad.get_desc().get_size()));
      ++i;
    }
    if (p.scratchpad)
      p.scratchpad.set_data_handle(
          buffer(kScratchBuffer, p.scratchpad.get_desc().get_size()));
    for (ConvOperand &op : p.operands)
      if (op.inner && !op.output)
        op.reorder.execute(stream, op.reorderArgs);
    p.conv.execute(stream, p.args);
    for (ConvOperand &op : p.operands)
      if (op.inner && op.output)
        op.reorder.execute(stream, op.reorderArgs);
    stream.wait();
  }

private:
  using Key = std::array<int64_t, DPCRT_CONV2D_NUM_DIMS + 2>;
  static constexpr size_t kScratchBuffer = 4;

  ConvState() : engine(dnnl::engine::kind::cpu, 0), stream(engine) {}

  /// Buffer `slot` of this thread, at least `bytes` long and 64-byte aligned
  /// as oneDNN's jitted kernels prefer.
  void *buffer(size_t slot, size_t bytes) {
    Buffer &b = buffers[slot];
    if (b.size < bytes) {
      b.data.reset(
          static_cast<char *>(std::aligned_alloc(64, (bytes + 63) / 64 * 64)));
      b.size = bytes;
    }
    return b.data.get();
  }

  /// Adds the operand for `arg` with the caller's layout `user` and the
  /// primitive's layout `inner`.
  void addOperand(ConvPlan &p, int arg, bool output,
                  const dnnl::memory::desc &user,
                  const dnnl::memory::desc &inner) {
    ConvOperand op;
    op.arg = arg;
    op.output = output;
    op.user = dnnl::memory(user, engine, DNNL_MEMORY_NONE);
    if (inner != user) {
      op.inner = dnnl::memory(inner, engine, DNNL_MEMORY_NONE);
      // Reorders between layouts only move floats, so they cost no
      // accuracy; the primitive's attributes match the convolution's.
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      const dnnl::memory &from = output ? op.inner : op.user;
      const dnnl::memory &to = output ? op.user : op.inner;
      dnnl::reorder::primitive_desc pd(from, to, attr);
      op.reorder = dnnl::reorder(pd);
      op.reorderArgs = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
      if (pd.scratchpad_desc().get_size() != 0) {
        op.scratchpad =
            dnnl::memory(pd.scratchpad_desc(), engine, DNNL_MEMORY_NONE);
        op.reorderArgs[DNNL_ARG_SCRATCHPAD] = op.scratchpad;
      }
    }
    p.args[arg] = op.inner ? op.inner : op.user;
    p.operands.push_back(std::move(op));
  }

  void finish(ConvPlan &p, dnnl::primitive conv,
              const dnnl::primitive_desc_base &pd) {
    p.conv = std::move(conv);
    dnnl::memory::desc scratch = pd.scratchpad_desc();
    if (scratch.get_size() != 0) {
      p.scratchpad = dnnl::memory(scratch, engine, DNNL_MEMORY_NONE);
      p.args[DNNL_ARG_SCRATCHPAD] = p.scratchpad;
    }
  }

  /// Configures the primitives as PyTorch 1.13 does through ideep
  /// (mkldnn_convolution and its backward): direct algorithm, every layout
  /// `any` so the primitive picks its blocked layouts, plain bias, user
  /// scratchpad, default (strict) float math; the backward primitives are
  /// hinted by the forward one without bias.
  std::unique_ptr<ConvPlan> plan(ConvKind kind, const Conv2d &g) {
    using Tag = Conv2d::Tag;
    auto algo = dnnl::algorithm::convolution_direct;
    auto fwdKind = dnnl::prop_kind::forward_training;
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    auto p = std::make_unique<ConvPlan>();

    auto forwardHint = [&] {
      return dnnl::convolution_forward::primitive_desc(
          {fwdKind, algo, g.src(Tag::any), g.weights(true), g.dst(Tag::any),
           g.strides(), g.dilates(), g.padding(), g.padding()},
          engine);
    };

    switch (kind) {
    case ConvKind::Forward:
    case ConvKind::ForwardBias: {
      bool bias = kind == ConvKind::ForwardBias;
      auto desc = bias ? dnnl::convolution_forward::desc(
                             fwdKind, algo, g.src(Tag::any), g.weights(true),
                             g.bias(), g.dst(Tag::any), g.strides(),
                             g.dilates(), g.padding(), g.padding())
                       : dnnl::convolution_forward::desc(
                             fwdKind, algo, g.src(Tag::any), g.weights(true),
                             g.dst(Tag::any), g.strides(), g.dilates(),
                             g.padding(), g.padding());
      dnnl::convolution_forward::primitive_desc pd(desc, attr, engine);
      addOperand(*p, DNNL_ARG_DST, true, g.dst(), pd.dst_desc());
      addOperand(*p, DNNL_ARG_SRC, false, g.src(), pd.src_desc());
      addOperand(*p, DNNL_ARG_WEIGHTS, false, g.weights(), pd.weights_desc());
      if (bias)
        addOperand(*p, DNNL_ARG_BIAS, false, g.bias(), pd.bias_desc());
      finish(*p, dnnl::convolution_forward(pd), pd);
      break;
    }
    case ConvKind::InputGrad: {
      dnnl::convolution_backward_data::primitive_desc pd(
          {algo, g.src(Tag::any), g.weights(true), g.dst(Tag::any), g.strides(),
           g.dilates(), g.padding(), g.padding()},
          attr, engine, forwardHint());
      addOperand(*p, DNNL_ARG_DIFF_SRC, true, g.src(), pd.diff_src_desc());
      addOperand(*p, DNNL_ARG_DIFF_DST, false, g.dst(), pd.diff_dst_desc());
      addOperand(*p, DNNL_ARG_WEIGHTS, false, g.weights(), pd.weights_desc());
      finish(*p, dnnl::convolution_backward_data(pd), pd);
      break;
    }
    case ConvKind::WeightGrad: {
      dnnl::convolution_backward_weights::primitive_desc pd(
          {algo, g.src(Tag::any), g.weights(true), g.dst(Tag::any), g.strides(),
           g.dilates(), g.padding(), g.padding()},
          attr, engine, forwardHint());
      addOperand(*p, DNNL_ARG_DIFF_WEIGHTS, true, g.weights(),
                 pd.diff_weights_desc());
      addOperand(*p, DNNL_ARG_DIFF_DST, false, g.dst(), pd.diff_dst_desc());
      addOperand(*p, DNNL_ARG_SRC, false, g.src(), pd.src_desc());
      finish(*p, dnnl::convolution_backward_weights(pd), pd);
      break;
    }
    }
    return p;
  }

  struct FreeDeleter {
    void operator()(char *p) const { std::free(p); }
  };
  struct Buffer {
    std::unique_ptr<char, FreeDeleter> data;
    size_t size = 0;
  };

  dnnl::engine engine;
  dnnl::stream stream;
  std::map<Key, std::unique_ptr<ConvPlan>> plans;
  Buffer buffers[kScratchBuffer + 1];
};

/// Runs a convolution kernel, recording oneDNN's errors (an unsupported
/// configuration, memory exhaustion) on the context: the kernels are called
/// from compiled code and must not throw.
void runConv(dpcrt_context *ctx, const char *kernel, ConvKind kind,
             const int64_t *dims, std::initializer_list<const void *> ptrs) {
  Conv2d g(dims);
  if (!checkConv(ctx, kernel, g))
    return;
  try {
    ConvState::get().run(kind, g, dims, ptrs);
  } catch (const dnnl::error &e) {
    recordError(ctx, std::string(kernel) + ": oneDNN: " + e.what() +
                         " (status " + std::to_string(e.status) + ")");
  } catch (const std::exception &e) {
    recordError(ctx, std::string(kernel) + ": " + e.what());
  }
}

//===----------------------------------------------------------------------===//
// PyTorch's vector reductions (vec::reduce_all, vec::map2_reduce_all) with
// AVX2's 8 float lanes.
//===----------------------------------------------------------------------===//

constexpr int kLanes = 8;

/// The horizontal sum of a full vector: halves added pairwise.
float horizontalSum(float (&acc)[kLanes]) {
  for (int width = kLanes / 2; width >= 1; width /= 2)
    for (int i = 0; i < width; ++i)
      acc[i] = acc[i] + acc[i + width];
  return acc[0];
}

/// vec::reduce_all(x + y, data, size).
float laneSum(const float *data, int64_t size) {
  if (size < kLanes) {
    // A partial vector is summed lane by lane.
    float s = size > 0 ? data[0] : 0.0f;
    for (int64_t i = 1; i < size; ++i)
      s = s + data[i];
    return s;
  }
  float acc[kLanes];
  std::copy(data, data + kLanes, acc);
  int64_t d = kLanes;
  for (; d < size - size % kLanes; d += kLanes)
    for (int i = 0; i < kLanes; ++i)
      acc[i] = acc[i] + data[d + i];
  for (int64_t i = 0; i < size - d; ++i)
    acc[i] = acc[i] + data[d + i];
  return horizontalSum(acc);
}

// The loops with std::fma are compiled twice, for CPUs with and without FMA
// instructions (the clone is picked when libdpcrt loads): both compute the
// same values, std::fma being exact either way, but without the FMA clone
// each one is a libm call.
#define DPC_FMA_CLONES __attribute__((target_clones("fma", "default")))

/// vec::map2_reduce_all((x - mean) * dy, x + y, x, dy, size), with the
/// multiply-add that GCC fuses in PyTorch's AVX2 build.
DPC_FMA_CLONES float laneDot(const float *x, float mean, const float *dy,
                             int64_t size) {
  if (size < kLanes) {
    float s = size > 0 ? (x[0] - mean) * dy[0] : 0.0f;
    for (int64_t i = 1; i < size; ++i)
      s = s + (x[i] - mean) * dy[i];
    return s;
  }
  float acc[kLanes];
  for (int i = 0; i < kLanes; ++i)
    acc[i] = (x[i] - mean) * dy[i];
  int64_t d = kLanes;
  for (; d < size - size % kLanes; d += kLanes)
    for (int i = 0; i < kLanes; ++i)
      acc[i] = std::fma(x[d + i] - mean, dy[d + i], acc[i]);
  for (int64_t i = 0; i < size - d; ++i)
    acc[i] = std::fma(x[d + i] - mean, dy[d + i], acc[i]);
  return horizontalSum(acc);
}

/// y = x * alpha + beta, fused (batch_norm_cpu_contiguous_impl).
DPC_FMA_CLONES void normalizePlane(float *y, const float *x, int64_t size,
                                   float alpha, float beta) {
  for (int64_t i = 0; i < size; ++i)
    y[i] = std::fma(x[i], alpha, beta);
}

/// dx = (dy - gradMean - (x - mean) * k) * invstd * w, the multiply-add
/// fused as in PyTorch's AVX2 build, the products in that order.
DPC_FMA_CLONES void batchNormGradPlane(float *dx, const float *dy,
                                       const float *x, int64_t size, float mean,
                                       float k, float gradMean, float invstd,
                                       float w) {
  for (int64_t i = 0; i < size; ++i)
    dx[i] = std::fma(-(x[i] - mean), k, dy[i] - gradMean) * invstd * w;
}

//===----------------------------------------------------------------------===//
// Pooling helpers
//===----------------------------------------------------------------------===//

bool checkPool(dpcrt_context *ctx, const char *kernel, const Pool2d &g) {
  if (g.valid())
    return true;
  recordError(ctx, std::string(kernel) + ": invalid pooling geometry");
  return false;
}

int64_t startIndex(int64_t i, int64_t out, int64_t in) {
  return (i * in) / out;
}
int64_t endIndex(int64_t i, int64_t out, int64_t in) {
  return ((i + 1) * in + out - 1) / out;
}

} // namespace

namespace dpc::cpu {

//===----------------------------------------------------------------------===//
// conv2d
//===----------------------------------------------------------------------===//

void conv2d_f32(dpcrt_context *ctx, float *out, const float *in,
                const float *weight, const float *bias, const int64_t *dims) {
  if (bias)
    runConv(ctx, "conv2d", ConvKind::ForwardBias, dims,
            {out, in, weight, bias});
  else
    runConv(ctx, "conv2d", ConvKind::Forward, dims, {out, in, weight});
}

void conv2d_input_grad_f32(dpcrt_context *ctx, float *dx, const float *dy,
                           const float *weight, const int64_t *dims) {
  runConv(ctx, "conv2d_input_grad", ConvKind::InputGrad, dims,
          {dx, dy, weight});
}

void conv2d_weight_grad_f32(dpcrt_context *ctx, float *dweight, const float *dy,
                            const float *in, const int64_t *dims) {
  runConv(ctx, "conv2d_weight_grad", ConvKind::WeightGrad, dims,
          {dweight, dy, in});
}

//===----------------------------------------------------------------------===//
// batch_norm
//===----------------------------------------------------------------------===//

void batch_norm_f32(dpcrt_context *ctx, float *out, float *saveMean,
                    float *saveInvstd, float *runningMean, float *runningVar,
                    const float *in, const float *weight, const float *bias,
                    int64_t n, int64_t c, int64_t inner, double momentum,
                    double eps) {
  int64_t count = n * inner;
  if (n < 0 || c < 0 || inner < 0 || count < 2) {
    recordError(ctx, "batch_norm: expected more than 1 value per channel "
                     "when training, got " +
                         std::to_string(count));
    return;
  }
  float momentumF = static_cast<float>(momentum);
  for (int64_t ch = 0; ch < c; ++ch) {
    // batch_norm_cpu_collect_stats_contiguous_impl: double accumulators.
    double sum = 0.0;
    for (int64_t b = 0; b < n; ++b) {
      const float *x = in + (b * c + ch) * inner;
      for (int64_t i = 0; i < inner; ++i)
        sum += x[i];
    }
    float mean = static_cast<float>(sum / static_cast<double>(count));
    double varSumAcc = 0.0;
    for (int64_t b = 0; b < n; ++b) {
      const float *x = in + (b * c + ch) * inner;
      for (int64_t i = 0; i < inner; ++i) {
        float d = x[i] - mean;
        varSumAcc += d * d;
      }
    }
    float varSum = static_cast<float>(varSumAcc);

    // batch_norm_cpu_update_stats_template: InvStd<double> of the float
    // biased variance; running statistics in float, the unbiased variance
    // as a double.
    double var = varSum / static_cast<float>(count);
    float invstd = 0.0f;
    if (var != 0.0 || eps != 0.0)
      invstd = static_cast<float>(1.0 / std::sqrt(var + eps));
    saveMean[ch] = mean;
    saveInvstd[ch] = invstd;
    runningMean[ch] = momentumF * mean + (1.0f - momentumF) * runningMean[ch];
    double unbiased = varSum / static_cast<float>(count - 1);
    runningVar[ch] = static_cast<float>(momentumF * unbiased +
                                        (1.0f - momentumF) * runningVar[ch]);

    // batch_norm_cpu_contiguous_impl: y = x * alpha + beta, fused.
    float alpha = invstd * weight[ch];
    float beta = std::fma(-mean, alpha, bias[ch]);
    for (int64_t b = 0; b < n; ++b)
      normalizePlane(out + (b * c + ch) * inner, in + (b * c + ch) * inner,
                     inner, alpha, beta);
  }
}

void batch_norm_grad_f32(dpcrt_context *ctx, float *dx, float *dweight,
                         float *dbias, const float *dy, const float *in,
                         const float *weight, const float *saveMean,
                         const float *saveInvstd, int64_t n, int64_t c,
                         int64_t inner) {
  int64_t count = n * inner;
  if (n < 0 || c < 0 || inner < 0 || count < 1) {
    recordError(ctx, "batch_norm_grad: empty input");
    return;
  }
  for (int64_t ch = 0; ch < c; ++ch) {
    float mean = saveMean[ch], invstd = saveInvstd[ch], w = weight[ch];
    double sum = 0.0, dotp = 0.0;
    for (int64_t b = 0; b < n; ++b) {
      const float *x = in + (b * c + ch) * inner;
      const float *g = dy + (b * c + ch) * inner;
      sum += laneSum(g, inner);
      dotp += laneDot(x, mean, g, inner);
    }
    float k =
        static_cast<float>(dotp) * invstd * invstd / static_cast<float>(count);
    float gradMean = static_cast<float>(sum / static_cast<double>(count));
    for (int64_t b = 0; b < n; ++b)
      batchNormGradPlane(dx + (b * c + ch) * inner, dy + (b * c + ch) * inner,
                         in + (b * c + ch) * inner, inner, mean, k, gradMean,
                         invstd, w);
    dweight[ch] = static_cast<float>(dotp * invstd);
    dbias[ch] = static_cast<float>(sum);
  }
}

void increment_i64(dpcrt_context *, int64_t *data, int64_t n, int64_t amount) {
  for (int64_t i = 0; i < n; ++i)
    data[i] += amount;
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

void max_pool2d_f32(dpcrt_context *ctx, float *out, const float *in,
                    const int64_t *dims) {
  Pool2d g(dims);
  if (!checkPool(ctx, "max_pool2d", g))
    return;
  for (int64_t p = 0; p < g.planes; ++p) {
    const float *plane = in + p * g.h * g.w;
    float *o = out + p * g.oh * g.ow;
    for (int64_t y = 0; y < g.oh; ++y)
      for (int64_t x = 0; x < g.ow; ++x) {
        int64_t index = g.argmax(plane, y, x);
        o[y * g.ow + x] =
            index < 0 ? -std::numeric_limits<float>::infinity() : plane[index];
      }
  }
}

void max_pool2d_grad_f32(dpcrt_context *ctx, float *dx, const float *dy,
                         const float *in, const int64_t *dims) {
  Pool2d g(dims);
  if (!checkPool(ctx, "max_pool2d_grad", g))
    return;
  std::fill(dx, dx + g.planes * g.h * g.w, 0.0f);
  for (int64_t p = 0; p < g.planes; ++p) {
    const float *plane = in + p * g.h * g.w;
    const float *d = dy + p * g.oh * g.ow;
    float *grad = dx + p * g.h * g.w;
    for (int64_t y = 0; y < g.oh; ++y)
      for (int64_t x = 0; x < g.ow; ++x) {
        int64_t index = g.argmax(plane, y, x);
        if (index >= 0)
          grad[index] += d[y * g.ow + x];
      }
  }
}

void avg_pool2d_f32(dpcrt_context *ctx, float *out, const float *in,
                    const int64_t *dims, int32_t countIncludePad,
                    int64_t divisorOverride) {
  Pool2d g(dims);
  if (!checkPool(ctx, "avg_pool2d", g))
    return;
  for (int64_t p = 0; p < g.planes; ++p) {
    const float *plane = in + p * g.h * g.w;
    float *o = out + p * g.oh * g.ow;
    for (int64_t y = 0; y < g.oh; ++y)
      for (int64_t x = 0; x < g.ow; ++x) {
        auto win = g.avgWindow(y, x, countIncludePad, divisorOverride);
        float sum = 0.0f;
        for (int64_t iy = win.y0; iy < win.y1; ++iy)
          for (int64_t ix = win.x0; ix < win.x1; ++ix)
            sum += plane[iy * g.w + ix];
        o[y * g.ow + x] = (win.y0 >= win.y1 || win.x0 >= win.x1)
                              ? 0.0f
                              : sum / static_cast<float>(win.divisor);
      }
  }
}

void avg_pool2d_grad_f32(dpcrt_context *ctx, float *dx, const float *dy,
                         const int64_t *dims, int32_t countIncludePad,
                         int64_t divisorOverride) {
  Pool2d g(dims);
  if (!checkPool(ctx, "avg_pool2d_grad", g))
    return;
  std::fill(dx, dx + g.planes * g.h * g.w, 0.0f);
  for (int64_t p = 0; p < g.planes; ++p) {
    const float *d = dy + p * g.oh * g.ow;
    float *grad = dx + p * g.h * g.w;
    for (int64_t y = 0; y < g.oh; ++y)
      for (int64_t x = 0; x < g.ow; ++x) {
        auto win = g.avgWindow(y, x, countIncludePad, divisorOverride);
        float delta = d[y * g.ow + x] / static_cast<float>(win.divisor);
        for (int64_t iy = win.y0; iy < win.y1; ++iy)
          for (int64_t ix = win.x0; ix < win.x1; ++ix)
            grad[iy * g.w + ix] += delta;
      }
  }
}

void adaptive_avg_pool2d_f32(dpcrt_context *ctx, float *out, const float *in,
                             int64_t planes, int64_t h, int64_t w, int64_t oh,
                             int64_t ow) {
  if (planes < 0 || h < 1 || w < 1 || oh < 1 || ow < 1) {
    recordError(ctx, "adaptive_avg_pool2d: invalid sizes");
    return;
  }
  for (int64_t p = 0; p < planes; ++p) {
    const float *plane = in + p * h * w;
    float *o = out + p * oh * ow;
    if (oh == 1 && ow == 1) {
      // mean(dim=(-1, -2)): the sum, rounded to float, divided by h * w.
      double sum = 0.0;
      for (int64_t i = 0; i < h * w; ++i)
        sum += plane[i];
      o[0] = static_cast<float>(sum) / static_cast<float>(h * w);
      continue;
    }
    for (int64_t y = 0; y < oh; ++y) {
      int64_t y0 = startIndex(y, oh, h), y1 = endIndex(y, oh, h);
      for (int64_t x = 0; x < ow; ++x) {
        int64_t x0 = startIndex(x, ow, w), x1 = endIndex(x, ow, w);
        float sum = 0.0f;
        for (int64_t iy = y0; iy < y1; ++iy)
          for (int64_t ix = x0; ix < x1; ++ix)
            sum += plane[iy * w + ix];
        o[y * ow + x] =
            sum / static_cast<float>(y1 - y0) / static_cast<float>(x1 - x0);
      }
    }
  }
}

void adaptive_avg_pool2d_grad_f32(dpcrt_context *ctx, float *dx,
                                  const float *dy, int64_t planes, int64_t h,
                                  int64_t w, int64_t oh, int64_t ow) {
  if (planes < 0 || h < 1 || w < 1 || oh < 1 || ow < 1) {
    recordError(ctx, "adaptive_avg_pool2d_grad: invalid sizes");
    return;
  }
  for (int64_t p = 0; p < planes; ++p) {
    const float *d = dy + p * oh * ow;
    float *grad = dx + p * h * w;
    if (oh == 1 && ow == 1) {
      float delta = d[0] / static_cast<float>(h * w);
      std::fill(grad, grad + h * w, delta);
      continue;
    }
    std::fill(grad, grad + h * w, 0.0f);
    for (int64_t y = 0; y < oh; ++y) {
      int64_t y0 = startIndex(y, oh, h), y1 = endIndex(y, oh, h);
      for (int64_t x = 0; x < ow; ++x) {
        int64_t x0 = startIndex(x, ow, w), x1 = endIndex(x, ow, w);
        float delta = d[y * ow + x] / static_cast<float>(y1 - y0) /
                      static_cast<float>(x1 - x0);
        for (int64_t iy = y0; iy < y1; ++iy)
          for (int64_t ix = x0; ix < x1; ++ix)
            grad[iy * w + ix] += delta;
      }
    }
  }
}

} // namespace dpc::cpu
