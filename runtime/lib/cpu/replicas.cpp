//===- replicas.cpp - Running the replicas of a --mode dp stage -----------===//
//
// A module compiled with --mode dp outlines each concurrent stage of its
// step into one function per replica and calls dpcrt_run_replicas (see
// abi.h). On the CPU backend a replica is a thread: replica 0 runs on the
// calling thread, replica r > 0 on worker r of a process-wide pool whose
// threads persist across stages and steps (a step has two concurrent
// stages, forward and backward; starting threads for each would cost more
// than small stages take).
//
// Thread safety: each replica gets a context of its own, so the only state
// kernels share is what the compiled schedule says they share (read-only
// inputs and parameters; the memory plan gives every replica's values
// disjoint arena space). OpenBLAS is called concurrently from the replicas,
// each call single-threaded: its thread pool is global, and n replicas
// already keep n cores busy.
//
//===----------------------------------------------------------------------===//

#include "core/context.h"
#include "cpu/cpu_backend.h"

#include <cblas.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

/// Set on replica threads while they run a replica function: a nested
/// dpcrt_run_replicas runs its functions one after the other.
thread_local bool inReplica = false;

class ReplicaPool {
public:
  static ReplicaPool &get() {
    static ReplicaPool pool;
    return pool;
  }

  ~ReplicaPool() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    wake.notify_all();
    for (auto &w : workers)
      w->thread.join();
  }

  void run(dpcrt_context *ctx, int n, const dpcrt_replica_fn *fns,
           void *const *env) {
    // One stage at a time (several sessions in one process share the pool).
    std::lock_guard<std::mutex> stage(runMutex);
    while (static_cast<int>(contexts.size()) < n)
      contexts.push_back(std::make_unique<dpcrt_context>());
    while (static_cast<int>(workers.size()) < n - 1) {
      workers.push_back(std::make_unique<Worker>());
      Worker *w = workers.back().get();
      w->thread = std::thread([this, w] { loop(*w); });
    }
    for (int r = 0; r < n; ++r) {
      dpcrt_context &c = *contexts[r];
      c.backend = ctx->backend;
      c.rank = ctx->rank;
      c.worldSize = ctx->worldSize;
      c.step = ctx->step;
      c.gradScaler = ctx->gradScaler;
      c.seed = ctx->seed;
      c.error.clear();
    }

    int blasThreads = openblas_get_num_threads();
    if (blasThreads > 1)
      openblas_set_num_threads(1);
    {
      std::lock_guard<std::mutex> lock(mutex);
      remaining = n - 1;
      for (int r = 1; r < n; ++r) {
        Worker &w = *workers[r - 1];
        w.fn = fns[r];
        w.ctx = contexts[r].get();
        w.env = env;
      }
    }
    wake.notify_all();
    runOne(fns[0], contexts[0].get(), env);
    {
      std::unique_lock<std::mutex> lock(mutex);
      done.wait(lock, [&] { return remaining == 0; });
    }
    if (blasThreads > 1)
      openblas_set_num_threads(blasThreads);

    for (int r = 0; r < n; ++r)
      if (!contexts[r]->error.empty())
        dpc::recordError(ctx, "replica " + std::to_string(r) + ": " +
                                  contexts[r]->error);
  }

private:
  struct Worker {
    std::thread thread;
    // Work of the current stage; fn is reset once it has run.
    dpcrt_replica_fn fn = nullptr;
    dpcrt_context *ctx = nullptr;
    void *const *env = nullptr;
  };

  static void runOne(dpcrt_replica_fn fn, dpcrt_context *ctx,
                     void *const *env) {
    if (!fn)
      return;
    inReplica = true;
    fn(ctx, env);
    inReplica = false;
  }

  void loop(Worker &w) {
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      wake.wait(lock, [&] { return stopping || w.ctx; });
      if (!w.ctx)
        return; // stopping with no work left
      dpcrt_replica_fn fn = w.fn;
      dpcrt_context *ctx = w.ctx;
      void *const *env = w.env;
      lock.unlock();
      runOne(fn, ctx, env);
      lock.lock();
      w.fn = nullptr;
      w.ctx = nullptr;
      if (--remaining == 0)
        done.notify_one();
    }
  }

  std::mutex runMutex;
  std::mutex mutex;
  std::condition_variable wake, done;
  bool stopping = false;
  int remaining = 0;
  std::vector<std::unique_ptr<Worker>> workers; // worker i runs replica i+1
  std::vector<std::unique_ptr<dpcrt_context>> contexts; // one per replica
};

} // namespace

void dpc::cpu::run_replicas(dpcrt_context *ctx, int32_t n,
                            const dpcrt_replica_fn *fns, void *const *env) {
  if (n <= 0)
    return;
  if (n == 1 || inReplica) {
    // Nothing to overlap, or already on a replica thread.
    for (int32_t r = 0; r < n; ++r)
      if (fns[r])
        fns[r](ctx, env);
    return;
  }
  ReplicaPool::get().run(ctx, n, fns, env);
}
