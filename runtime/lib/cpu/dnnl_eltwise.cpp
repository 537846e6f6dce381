//===- dnnl_eltwise.cpp - GELU and softmax on oneDNN ----------------------===//
//
// GELU (erf and tanh forms), the unary kinds oneDNN computes as torch does
// (elementwise_kernels.cpp picks them), softmax and log-softmax with their
// gradients on oneDNN's eltwise and softmax_v2 primitives, the jitted kernels
// that vectorize erf and exp (max relative error of GELU and its gradient about
// 3e-7 and 8e-7 against double; the scalar std::erf/std::exp loops they
// replace cost 5-10x more per element). Like the convolutions in
// kernels_conv.cpp, each thread caches its primitives by geometry, so
// steady-state steps create nothing, and oneDNN's OpenMP threads follow the
// BLAS thread cap.
//
//===----------------------------------------------------------------------===//

#include "cpu/dnnl_eltwise.h"

#include "core/context.h"

#include <cblas.h>
#include <oneapi/dnnl/dnnl.hpp>
#if DNNL_CPU_RUNTIME == DNNL_RUNTIME_OMP
#include <omp.h>
#endif

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

using dpc::recordError;

namespace {

enum class Op : int64_t { Gelu, Softmax, Eltwise };

/// One cached primitive with its memory objects; the caller's buffers are
/// bound on every call.
struct Plan {
  dnnl::primitive prim;
  std::unordered_map<int, dnnl::memory> args;
};

class EltwiseState {
public:
  static EltwiseState &get() {
    thread_local EltwiseState state;
    return state;
  }

  /// Runs the primitive for `key` (created by `make` on first use) with
  /// `ptrs` bound to the given arguments.
  template <typename Make>
  void run(Op op, int64_t variant, int64_t a, int64_t b, int64_t c,
           std::initializer_list<std::pair<int, const void *>> ptrs,
           Make make) {
    int threads = dpc::applyDnnlThreads();
    // oneDNN's kernels split the work for the thread count they were
    // created with.
    Key key{static_cast<int64_t>(op), variant, a, b, c, threads};
    std::unique_ptr<Plan> &slot = plans[key];
    if (!slot)
      slot = make(engine);
    for (auto [arg, ptr] : ptrs)
      slot->args.at(arg).set_data_handle(const_cast<void *>(ptr));
    slot->prim.execute(stream, slot->args);
    stream.wait();
  }

private:
  using Key = std::array<int64_t, 6>;

  EltwiseState() : engine(dnnl::engine::kind::cpu, 0), stream(engine) {}

  dnnl::engine engine;
  dnnl::stream stream;
  std::map<Key, std::unique_ptr<Plan>> plans;
};

constexpr auto kF32 = dnnl::memory::data_type::f32;

dnnl::memory unbound(const dnnl::memory::desc &d, const dnnl::engine &e) {
  return dnnl::memory(d, e, DNNL_MEMORY_NONE);
}

std::unique_ptr<Plan> makeGelu(const dnnl::engine &e, bool tanhForm,
                               bool backward, int64_t n) {
  auto algo = tanhForm ? dnnl::algorithm::eltwise_gelu_tanh
                       : dnnl::algorithm::eltwise_gelu_erf;
  dnnl::memory::desc md({n}, kF32, dnnl::memory::format_tag::a);
  dnnl::eltwise_forward::primitive_desc fwd(
      {dnnl::prop_kind::forward_training, algo, md, 0.0f, 0.0f}, e);
  auto plan = std::make_unique<Plan>();
  if (!backward) {
    plan->prim = dnnl::eltwise_forward(fwd);
    plan->args = {{DNNL_ARG_SRC, unbound(md, e)},
                  {DNNL_ARG_DST, unbound(md, e)}};
    return plan;
  }
  // The GELU algorithms differentiate from the source, as torch's
  // gelu_backward does.
  dnnl::eltwise_backward::primitive_desc bwd({algo, md, md, 0.0f, 0.0f}, e,
                                             fwd);
  plan->prim = dnnl::eltwise_backward(bwd);
  plan->args = {{DNNL_ARG_SRC, unbound(md, e)},
                {DNNL_ARG_DIFF_DST, unbound(md, e)},
                {DNNL_ARG_DIFF_SRC, unbound(md, e)}};
  return plan;
}

std::unique_ptr<Plan> makeEltwise(const dnnl::engine &e,
                                  dpc::DnnlEltwiseForm form, bool backward,
                                  int64_t n) {
  auto algo = static_cast<dnnl::algorithm>(form.algorithm);
  dnnl::memory::desc md({n}, kF32, dnnl::memory::format_tag::a);
  dnnl::eltwise_forward::primitive_desc fwd(
      {dnnl::prop_kind::forward_training, algo, md, form.alpha, form.beta}, e);
  auto plan = std::make_unique<Plan>();
  if (!backward) {
    plan->prim = dnnl::eltwise_forward(fwd);
    plan->args = {{DNNL_ARG_SRC, unbound(md, e)},
                  {DNNL_ARG_DST, unbound(md, e)}};
    return plan;
  }
  dnnl::eltwise_backward::primitive_desc bwd(
      {algo, md, md, form.alpha, form.beta}, e, fwd);
  plan->prim = dnnl::eltwise_backward(bwd);
  plan->args = {{form.fromOutput ? DNNL_ARG_DST : DNNL_ARG_SRC, unbound(md, e)},
                {DNNL_ARG_DIFF_DST, unbound(md, e)},
                {DNNL_ARG_DIFF_SRC, unbound(md, e)}};
  return plan;
}

std::unique_ptr<Plan> makeSoftmax(const dnnl::engine &e, bool log,
                                  bool backward, int64_t outer, int64_t size,
                                  int64_t inner) {
  auto algo =
      log ? dnnl::algorithm::softmax_log : dnnl::algorithm::softmax_accurate;
  // A last-dimension softmax as a 2-D tensor, so that oneDNN sees a dense
  // axis and picks its jitted kernel.
  dnnl::memory::desc md =
      inner == 1 ? dnnl::memory::desc({outer, size}, kF32,
                                      dnnl::memory::format_tag::ab)
                 : dnnl::memory::desc({outer, size, inner}, kF32,
                                      dnnl::memory::format_tag::abc);
  dnnl::softmax_v2_forward::primitive_desc fwd(
      {dnnl::prop_kind::forward_training, algo, md, md, 1}, e);
  auto plan = std::make_unique<Plan>();
  if (!backward) {
    plan->prim = dnnl::softmax_v2_forward(fwd);
    plan->args = {{DNNL_ARG_SRC, unbound(md, e)},
                  {DNNL_ARG_DST, unbound(md, e)}};
    return plan;
  }
  dnnl::softmax_v2_backward::primitive_desc bwd({algo, md, md, md, 1}, e, fwd);
  plan->prim = dnnl::softmax_v2_backward(bwd);
  plan->args = {{DNNL_ARG_DST, unbound(md, e)},
                {DNNL_ARG_DIFF_DST, unbound(md, e)},
                {DNNL_ARG_DIFF_SRC, unbound(md, e)}};
  return plan;
}

/// Runs `body`, recording oneDNN's errors (an unsupported configuration,
/// memory exhaustion) on the context: the kernels are called from compiled
/// code and must not throw.
template <typename Body>
bool guarded(dpcrt_context *ctx, const char *kernel, Body body) {
  try {
    body();
    return true;
  } catch (const dnnl::error &e) {
    recordError(ctx, std::string(kernel) + ": oneDNN: " + e.what() +
                         " (status " + std::to_string(e.status) + ")");
  } catch (const std::exception &e) {
    recordError(ctx, std::string(kernel) + ": " + e.what());
  }
  return false;
}

} // namespace

int dpc::applyDnnlThreads() {
  int threads = std::max(1, openblas_get_num_threads());
#if DNNL_CPU_RUNTIME == DNNL_RUNTIME_OMP
  if (omp_get_max_threads() != threads)
    omp_set_num_threads(threads);
#endif
  return threads;
}

bool dpc::dnnlGelu(dpcrt_context *ctx, const char *kernel, bool tanhForm,
                   bool backward, float *out, const float *x, const float *dy,
                   int64_t n) {
  if (n <= 0)
    return true;
  return guarded(ctx, kernel, [&] {
    auto make = [&](const dnnl::engine &e) {
      return makeGelu(e, tanhForm, backward, n);
    };
    EltwiseState &s = EltwiseState::get();
    if (!backward)
      s.run(Op::Gelu, tanhForm, n, 0, 0,
            {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, out}}, make);
    else
      s.run(Op::Gelu, 2 + tanhForm, n, 0, 0,
            {{DNNL_ARG_SRC, x},
             {DNNL_ARG_DIFF_DST, dy},
             {DNNL_ARG_DIFF_SRC, out}},
            make);
  });
}

bool dpc::dnnlEltwise(dpcrt_context *ctx, const char *kernel,
                      DnnlEltwiseForm form, bool backward, float *out,
                      const float *saved, const float *dy, int64_t n) {
  if (n <= 0)
    return true;
  return guarded(ctx, kernel, [&] {
    auto make = [&](const dnnl::engine &e) {
      return makeEltwise(e, form, backward, n);
    };
    // The plans are keyed by the algorithm and direction, the size and the
    // bits of alpha and beta.
    auto bits = [](float v) {
      uint32_t b;
      std::memcpy(&b, &v, sizeof b);
      return static_cast<int64_t>(b);
    };
    int64_t variant = 2 * static_cast<int64_t>(form.algorithm) + backward;
    EltwiseState &s = EltwiseState::get();
    if (!backward)
      s.run(Op::Eltwise, variant, n, bits(form.alpha), bits(form.beta),
            {{DNNL_ARG_SRC, saved}, {DNNL_ARG_DST, out}}, make);
    else
      s.run(Op::Eltwise, variant, n, bits(form.alpha), bits(form.beta),
            {{form.fromOutput ? DNNL_ARG_DST : DNNL_ARG_SRC, saved},
             {DNNL_ARG_DIFF_DST, dy},
             {DNNL_ARG_DIFF_SRC, out}},
            make);
  });
}

bool dpc::dnnlSoftmax(dpcrt_context *ctx, const char *kernel, bool log,
                      bool backward, float *out, const float *in,
                      const float *y, int64_t outer, int64_t size,
                      int64_t inner) {
  if (outer <= 0 || size <= 0 || inner <= 0)
    return true;
  return guarded(ctx, kernel, [&] {
    auto make = [&](const dnnl::engine &e) {
      return makeSoftmax(e, log, backward, outer, size, inner);
    };
    EltwiseState &s = EltwiseState::get();
    if (!backward)
      s.run(Op::Softmax, log, outer, size, inner,
            {{DNNL_ARG_SRC, in}, {DNNL_ARG_DST, out}}, make);
    else
      s.run(Op::Softmax, 2 + log, outer, size, inner,
            {{DNNL_ARG_DST, y},
             {DNNL_ARG_DIFF_DST, in},
             {DNNL_ARG_DIFF_SRC, out}},
            make);
  });
}
