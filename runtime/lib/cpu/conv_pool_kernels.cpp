//===- conv_pool_kernels.cpp - CPU kernels of convolution and pooling -----===//
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
// Pooling follows PyTorch's CPU kernels (torch 1.13,
// aten/src/ATen/native/cpu/{MaxPoolKernel.cpp, AvgPoolKernel.cpp,
// AdaptiveAvgPoolKernel.cpp}) operation by operation, with the window
// arithmetic of kernel_shared.h that the CUDA kernels share.
//
//===----------------------------------------------------------------------===//

#include "core/context.h"
#include "cpu/cpu_backend.h"
#include "cpu/dnnl_eltwise.h"
#include "cpu/native_bfloat16.h"
#include "kernel_shared.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

using dpc::adaptiveAvgValue;
using dpc::adaptiveEnd;
using dpc::adaptiveStart;
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
  using Type = dnnl::memory::data_type;
  static constexpr auto kF32 = Type::f32;

  /// The caller's plain tensors: NCHW activations and OIHW weights, which
  /// oneDNN sees as GOIHW when grouped (as ideep's make_grouped_weights).
  /// Float32, or bfloat16 for the multiplied operands of a bfloat16
  /// convolution (whose results stay float32).
  Desc src(Tag tag = Tag::nchw, Type type = kF32) const {
    return Desc({n, c, h, w}, type, tag);
  }
  Desc dst(Tag tag = Tag::nchw, Type type = kF32) const {
    return Desc({n, o, oh, ow}, type, tag);
  }
  Desc weights(bool any = false, Type type = kF32) const {
    if (groups == 1)
      return Desc({o, c, kh, kw}, type, any ? Tag::any : Tag::oihw);
    return Desc({groups, o / groups, c / groups, kh, kw}, type,
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
  void run(ConvKind kind, bool bf16, const Conv2d &g, const int64_t *dims,
           std::initializer_list<const void *> ptrs) {
    int threads = dpc::applyDnnlThreads();
    Key key{};
    std::copy(dims, dims + DPCRT_CONV2D_NUM_DIMS, key.begin());
    key[DPCRT_CONV2D_NUM_DIMS] = static_cast<int64_t>(kind) * 2 + bf16;
    // oneDNN's kernels split the work for the thread count they were
    // created with.
    key[DPCRT_CONV2D_NUM_DIMS + 1] = threads;
    std::unique_ptr<ConvPlan> &slot = plans[key];
    if (!slot)
      slot = plan(kind, bf16, g);
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
  /// hinted by the forward one without bias. With `bf16` the multiplied
  /// operands (src and weights forward, diff_dst and the other operand
  /// backward) are bfloat16 and the result float32, as PyTorch's bfloat16
  /// convolutions with their float32 accumulation before the rounding.
  std::unique_ptr<ConvPlan> plan(ConvKind kind, bool bf16, const Conv2d &g) {
    using Tag = Conv2d::Tag;
    const Conv2d::Type in = bf16 ? Conv2d::Type::bf16 : Conv2d::kF32;
    auto algo = dnnl::algorithm::convolution_direct;
    auto fwdKind = dnnl::prop_kind::forward_training;
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    auto p = std::make_unique<ConvPlan>();

    auto forwardHint = [&] {
      return dnnl::convolution_forward::primitive_desc(
          {fwdKind, algo, g.src(Tag::any, in), g.weights(true, in),
           g.dst(Tag::any, in), g.strides(), g.dilates(), g.padding(),
           g.padding()},
          engine);
    };

    switch (kind) {
    case ConvKind::Forward:
    case ConvKind::ForwardBias: {
      bool bias = kind == ConvKind::ForwardBias;
      auto desc = bias ? dnnl::convolution_forward::desc(
                             fwdKind, algo, g.src(Tag::any, in),
                             g.weights(true, in), g.bias(), g.dst(Tag::any),
                             g.strides(), g.dilates(), g.padding(), g.padding())
                       : dnnl::convolution_forward::desc(
                             fwdKind, algo, g.src(Tag::any, in),
                             g.weights(true, in), g.dst(Tag::any), g.strides(),
                             g.dilates(), g.padding(), g.padding());
      dnnl::convolution_forward::primitive_desc pd(desc, attr, engine);
      addOperand(*p, DNNL_ARG_DST, true, g.dst(), pd.dst_desc());
      addOperand(*p, DNNL_ARG_SRC, false, g.src(Tag::nchw, in), pd.src_desc());
      addOperand(*p, DNNL_ARG_WEIGHTS, false, g.weights(false, in),
                 pd.weights_desc());
      if (bias)
        addOperand(*p, DNNL_ARG_BIAS, false, g.bias(), pd.bias_desc());
      finish(*p, dnnl::convolution_forward(pd), pd);
      break;
    }
    case ConvKind::InputGrad: {
      dnnl::convolution_backward_data::primitive_desc pd(
          {algo, g.src(Tag::any), g.weights(true, in), g.dst(Tag::any, in),
           g.strides(), g.dilates(), g.padding(), g.padding()},
          attr, engine, forwardHint());
      addOperand(*p, DNNL_ARG_DIFF_SRC, true, g.src(), pd.diff_src_desc());
      addOperand(*p, DNNL_ARG_DIFF_DST, false, g.dst(Tag::nchw, in),
                 pd.diff_dst_desc());
      addOperand(*p, DNNL_ARG_WEIGHTS, false, g.weights(false, in),
                 pd.weights_desc());
      finish(*p, dnnl::convolution_backward_data(pd), pd);
      break;
    }
    case ConvKind::WeightGrad: {
      dnnl::convolution_backward_weights::primitive_desc pd(
          {algo, g.src(Tag::any, in), g.weights(true), g.dst(Tag::any, in),
           g.strides(), g.dilates(), g.padding(), g.padding()},
          attr, engine, forwardHint());
      addOperand(*p, DNNL_ARG_DIFF_WEIGHTS, true, g.weights(),
                 pd.diff_weights_desc());
      addOperand(*p, DNNL_ARG_DIFF_DST, false, g.dst(Tag::nchw, in),
                 pd.diff_dst_desc());
      addOperand(*p, DNNL_ARG_SRC, false, g.src(Tag::nchw, in), pd.src_desc());
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
             const int64_t *dims, std::initializer_list<const void *> ptrs,
             bool bf16 = false) {
  Conv2d g(dims);
  if (!checkConv(ctx, kernel, g))
    return;
  try {
    ConvState::get().run(kind, bf16, g, dims, ptrs);
  } catch (const dnnl::error &e) {
    recordError(ctx, std::string(kernel) + ": oneDNN: " + e.what() +
                         " (status " + std::to_string(e.status) + ")");
  } catch (const std::exception &e) {
    recordError(ctx, std::string(kernel) + ": " + e.what());
  }
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

// bfloat16 operands: oneDNN's bfloat16 convolutions where the CPU has
// bfloat16 units (native_bfloat16.h), else the
// operands widened exactly and the float32 convolutions above.

void conv2d_bf16(dpcrt_context *ctx, float *out, const uint16_t *in,
                 const uint16_t *weight, const float *bias,
                 const int64_t *dims) {
  Conv2d g(dims);
  if (!hasNativeBFloat16()) {
    if (checkConv(ctx, "conv2d_bf16", g))
      conv2d_f32(
          ctx, out, widenBFloat16(ctx, 0, in, g.n * g.c * g.h * g.w),
          widenBFloat16(ctx, 1, weight, g.o * (g.c / g.groups) * g.kh * g.kw),
          bias, dims);
    return;
  }
  if (bias)
    runConv(ctx, "conv2d_bf16", ConvKind::ForwardBias, dims,
            {out, in, weight, bias}, /*bf16=*/true);
  else
    runConv(ctx, "conv2d_bf16", ConvKind::Forward, dims, {out, in, weight},
            /*bf16=*/true);
}

void conv2d_input_grad_bf16(dpcrt_context *ctx, float *dx, const uint16_t *dy,
                            const uint16_t *weight, const int64_t *dims) {
  Conv2d g(dims);
  if (!hasNativeBFloat16()) {
    if (checkConv(ctx, "conv2d_input_grad_bf16", g))
      conv2d_input_grad_f32(
          ctx, dx, widenBFloat16(ctx, 0, dy, g.n * g.o * g.oh * g.ow),
          widenBFloat16(ctx, 1, weight, g.o * (g.c / g.groups) * g.kh * g.kw),
          dims);
    return;
  }
  runConv(ctx, "conv2d_input_grad_bf16", ConvKind::InputGrad, dims,
          {dx, dy, weight}, /*bf16=*/true);
}

void conv2d_weight_grad_bf16(dpcrt_context *ctx, float *dweight,
                             const uint16_t *dy, const uint16_t *in,
                             const int64_t *dims) {
  Conv2d g(dims);
  if (!hasNativeBFloat16()) {
    if (checkConv(ctx, "conv2d_weight_grad_bf16", g))
      conv2d_weight_grad_f32(
          ctx, dweight, widenBFloat16(ctx, 0, dy, g.n * g.o * g.oh * g.ow),
          widenBFloat16(ctx, 1, in, g.n * g.c * g.h * g.w), dims);
    return;
  }
  runConv(ctx, "conv2d_weight_grad_bf16", ConvKind::WeightGrad, dims,
          {dweight, dy, in}, /*bf16=*/true);
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
      for (int64_t x = 0; x < g.ow; ++x)
        o[y * g.ow + x] = g.maxValue(plane, y, x);
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
      for (int64_t x = 0; x < g.ow; ++x)
        o[y * g.ow + x] =
            g.avgValue(plane, y, x, countIncludePad, divisorOverride);
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
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t x = 0; x < ow; ++x)
        o[y * ow + x] = adaptiveAvgValue(plane, h, w, oh, ow, y, x);
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
      int64_t y0 = adaptiveStart(y, oh, h), y1 = adaptiveEnd(y, oh, h);
      for (int64_t x = 0; x < ow; ++x) {
        int64_t x0 = adaptiveStart(x, ow, w), x1 = adaptiveEnd(x, ow, w);
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
