//===- dpc-run.cpp - Train a compiled model.so on .npy data ---------------===//
//
// The command-line face of libdpcrt: loads a model.so, feeds it batches of
// .npy files as PyTorch's DataLoader with a DistributedSampler would
// (dpc/data.h: consecutive global batches of which rank r of an mpirun job
// takes the r-th slice, or shuffled per epoch), prints progress on rank 0,
// and reads or writes safetensors checkpoints (recipe.h). Setup runs under
// ProcessGroup::collectively so a mistake found on any rank is reported once
// and every rank exits cleanly.
//
//===----------------------------------------------------------------------===//

#include "dpc/data.h"
#include "dpc/lr_schedule.h"
#include "dpc/runtime.h"
#include "evaluation.h"
#include "recipe.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace dpc;
using namespace dpc::run;

namespace {

const char *const kUsage =
    R"(usage: dpc-run MODEL.so --data NAME=FILE.npy... --steps N|--epochs N
               [options]

Trains a model compiled by dpc. Under `mpirun -np N` it runs N data-parallel
ranks (the model must have been compiled with --world-size N); started
directly it runs as a single process.

  MODEL.so                  the module produced by `dpc ... -o MODEL.so`
  --data NAME=FILE.npy      data for the model input or label NAME, samples
                            along dim 0, each shaped like NAME's compiled
                            shape without its batch dimension; give one per
                            input and one for the label. f64 data is
                            converted for f32 inputs, i32 for i64 labels.
                            The files are read through memory mapping, a
                            window at a time: they may be larger than memory.
  --steps N                 number of training steps to run. Each step takes
                            the next global batch (world size x the compiled
                            batch) of consecutive samples; rank r takes the
                            r-th slice (without --shuffle). An incomplete
                            last batch is dropped (see --pad-last) and the
                            data wraps around: the next epoch. A
                            module compiled with --mode dp takes its whole
                            compiled batch and scatters it over its replicas.
                            A module compiled with --accumulate K has K
                            micro-batches in its compiled batch: rank r's
                            slice of K x B samples is run as K micro-batches
                            of B, in order, before one optimizer step.
  --epochs N                train until N epochs (passes over the data) are
                            complete, counting those of a resumed
                            checkpoint; with --steps too, whichever ends
                            first
  --shuffle                 a new order every epoch, exactly that of
                            torch.utils.data.DistributedSampler(shuffle=True,
                            seed=S) with set_epoch(epoch), feeding a
                            DataLoader(batch_size=the compiled batch): epoch
                            e's order is torch.randperm(samples) seeded with
                            S + e, and rank r takes every (world size)-th
                            sample of it from the r-th on
  --seed S                  the seed of --shuffle's order and of the
                            dropout masks (default 0; each rank draws its
                            own masks from it, see docs/ARCHITECTURE.md,
                            "Dropout"); a resumed run continues with the
                            checkpoint's
  --drop-last               leave out the samples of each epoch that do not
                            fill a last global batch (the default; with
                            --shuffle, DistributedSampler(drop_last=True) and
                            DataLoader(drop_last=True)); says so when it
                            leaves any out
  --pad-last                use them: the last batch is completed with samples
                            from the start of the epoch's order, continuing
                            the wrap-around DistributedSampler(drop_last=
                            False) pads with (DataLoader would run a smaller
                            batch, which a compiled module cannot); says how
                            many samples it repeats
  --log-every N             print progress on rank 0 every N steps and after
                            the last one (default 10): step, loss, lr,
                            the gradient norm (L2 over all parameters after
                            the all-reduce, before clipping: what
                            clip_grad_norm_ returns), epochs done,
                            samples/s and the time left
  --init-weights FILE       initial parameters and buffers from a safetensors
                            file (state_dict names, e.g. written by
                            safetensors.torch.save_file(model.state_dict()))
                            instead of the module's own; required for a
                            module compiled with --weights external (unless
                            --load-checkpoint gives them)
  --load-checkpoint FILE    start from a safetensors checkpoint written by
                            --save-checkpoint: parameters, buffers, optimizer
                            state and step counter; data continues with the
                            batch after the checkpoint's last step
  --save-checkpoint FILE    write a safetensors checkpoint after training
                            (rank 0 writes; the file is replaced atomically)
  --lr-schedule SPEC        set the learning rate of every parameter group
                            before each step as torch.optim.lr_scheduler
                            does (constructed on the compiled lrs, stepped
                            after every optimizer step; a resumed run
                            continues the schedule at its step): one of
                              linear:start_factor=F,end_factor=F,total_iters=N
                              cosine:T_max=N,eta_min=E
                              step:step_size=N,gamma=G
                              multistep:milestones=M1/M2/...,gamma=G
                              exponential:gamma=G
                              onecycle:max_lr=L,total_steps=N,pct_start=P,
                                cycle_momentum=true,base_momentum=0.85,
                                max_momentum=0.95,... (with cycle_momentum
                                it sets each group's momentum / Adam's
                                beta1 too)
                            with torch's argument names and defaults, or
                            several joined by |MILESTONE| (SequentialLR),
                            e.g. 'linear:start_factor=0.01,total_iters=100
                            |100| cosine:T_max=900' (dpc/lr_schedule.h)
  --checkpoint-dir DIR      where --checkpoint-every writes, as
                            DIR/step-N.safetensors (created if missing); a
                            checkpoint after the last step is written too
  --checkpoint-every N      write a checkpoint whenever the step counter is a
                            multiple of N (atomically, as --save-checkpoint)
  --keep-last K             keep only the K newest checkpoints of DIR
  --resume PATH             continue from the newest checkpoint of directory
                            PATH (or from the checkpoint file PATH) exactly
                            where its run stopped: parameters, optimizer
                            state, step counter, and the data order (epoch,
                            batch, --shuffle seed). It must come from the
                            same model.so on as many ranks with the same
                            data; --load-checkpoint FILE checks the same
  --eval-data NAME=FILE.npy validation data for the input or label NAME
                            (one per input and one for the label, as
                            --data): after training, and every
                            --eval-every steps, the evaluation step (the
                            model as model.eval() runs it, on rank 0's
                            buffers) reports the validation loss and, for
                            cross_entropy with class labels, the top-1
                            accuracy, over all ranks. The samples are
                            sharded as DistributedSampler(shuffle=False,
                            drop_last=False): when the ranks do not divide
                            them, the first samples are evaluated twice and
                            counted twice, as PyTorch counts them. The loss
                            is the mean over samples (tokens, for [B, T]
                            labels; elements, for mse) of each one's loss
  --eval-every N            also validate whenever the step counter is a
                            multiple of N
  --predict OUT.npy         no training: write the model's output (the
                            evaluation step's) for every sample of the
                            --data inputs to OUT.npy, in data order (a
                            --data for the label is not needed); with
                            --load-checkpoint, --resume or --init-weights
                            for the weights. The ranks share the samples
                            as for --eval-data; rank 0 writes
  --metrics FILE            append one JSON object per logged step to FILE
                            (JSON lines: step, epoch, loss, lr, grad_norm,
                            samples_per_s, elapsed_s; and per validation:
                            step, epoch, val_loss, val_accuracy,
                            val_samples); a run that resumes appends, others
                            start it afresh. scripts/plot-metrics.py draws
                            it
  --trace FILE              write a Chrome trace (chrome://tracing, Perfetto)
                            of the run: one track per stream (compute,
                            communication) per rank; rank 0 writes it
  --on-nonfinite warn|stop|ignore
                            what a loss that is NaN or infinite does: warn
                            (the default) says so once, naming the step, and
                            goes on; stop ends the run with exit code 1
                            before the next step, saving no checkpoint;
                            ignore says nothing
  --timeout SECONDS         how long a rank waits for the others in any
                            collective (an all-reduce, a broadcast) before it
                            ends the job with an error naming the collective
                            (default 600); so a stalled or dead rank never
                            hangs the others forever
  --backend cpu|cuda|auto   where to run (default auto: the GPUs when this
                            build has the cuda backend and finds one per
                            rank on the host, else the CPU)
  -h, --help                print this help and exit
)";

/// --on-nonfinite: what a NaN or infinite loss does.
enum class NonFinite { Warn, Stop, Ignore };

struct Options {
  std::string model;
  std::vector<std::pair<std::string, std::string>> data; // name, path
  int64_t steps = -1;
  int64_t logEvery = 10;
  std::string initWeights;
  std::string loadCheckpoint;
  std::string saveCheckpoint;
  std::string trace;
  std::string lrSchedule;
  NonFinite onNonFinite = NonFinite::Warn;
  double timeout = ProcessGroup::kDefaultTimeoutSeconds;
  Backend backend = Backend::Auto;
  bool help = false;

  // Data order, checkpoints and metrics (recipe.h).
  int64_t epochs = -1;
  bool shuffle = false;
  std::optional<int64_t> seed;
  std::optional<LastBatch> lastBatch; // --drop-last, --pad-last
  std::string checkpointDir;
  int64_t checkpointEvery = 0;
  int64_t keepLast = 0;
  std::string resume;
  std::string metrics;

  // Evaluation (evaluation.h).
  std::vector<std::pair<std::string, std::string>> evalData; // name, path
  int64_t evalEvery = 0;
  std::string predict;
};

/// The flags of Options' last block; false when `flag` is none of them.
bool parseRecipeFlag(const std::string &flag,
                     const std::function<std::string()> &takeValue,
                     Options &opts);

int64_t parseCount(const std::string &flag, const std::string &text,
                   int64_t min);

/// NAME=FILE.npy of --data and --eval-data.
std::pair<std::string, std::string> parseDataSpec(const std::string &flag,
                                                  const std::string &spec) {
  size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
    throw Error(flag + " expects NAME=FILE.npy, got '" + spec + "'");
  return {spec.substr(0, eq), spec.substr(eq + 1)};
}

/// Refuses combinations of Options' last block that would be ignored or
/// contradict each other.
void checkRecipeFlags(const Options &opts) {
  if (opts.checkpointEvery > 0 && opts.checkpointDir.empty())
    throw Error("--checkpoint-every needs --checkpoint-dir");
  if (opts.keepLast > 0 && opts.checkpointDir.empty())
    throw Error("--keep-last needs --checkpoint-dir");
  if (!opts.resume.empty() && !opts.loadCheckpoint.empty())
    throw Error("--resume and --load-checkpoint both give the checkpoint; "
                "use one");
  if (!opts.resume.empty() && !opts.initWeights.empty())
    throw Error("--init-weights and --resume both give the parameters; use "
                "one");
  if (opts.evalEvery > 0 && opts.evalData.empty())
    throw Error("--eval-every needs --eval-data");
  if (!opts.predict.empty()) {
    std::vector<std::string> training;
    if (opts.steps >= 0)
      training.push_back("--steps");
    if (opts.epochs >= 0)
      training.push_back("--epochs");
    if (!opts.evalData.empty())
      training.push_back("--eval-data");
    if (!opts.saveCheckpoint.empty())
      training.push_back("--save-checkpoint");
    if (!opts.checkpointDir.empty())
      training.push_back("--checkpoint-dir");
    if (!opts.lrSchedule.empty())
      training.push_back("--lr-schedule");
    if (opts.shuffle)
      training.push_back("--shuffle");
    if (!opts.metrics.empty())
      training.push_back("--metrics");
    if (!opts.trace.empty())
      training.push_back("--trace");
    if (!training.empty())
      throw Error("--predict only predicts, it does not train: " +
                  training.front() + " makes no sense with it");
  }
}

bool parseRecipeFlag(const std::string &flag,
                     const std::function<std::string()> &takeValue,
                     Options &opts) {
  if (flag == "--epochs") {
    opts.epochs = parseCount(flag, takeValue(), 0);
  } else if (flag == "--shuffle") {
    opts.shuffle = true;
  } else if (flag == "--seed") {
    opts.seed = parseCount(flag, takeValue(), 0);
  } else if (flag == "--drop-last" || flag == "--pad-last") {
    LastBatch last = flag == "--drop-last" ? LastBatch::Drop : LastBatch::Pad;
    if (opts.lastBatch && *opts.lastBatch != last)
      throw Error("--drop-last and --pad-last contradict each other; give "
                  "one");
    opts.lastBatch = last;
  } else if (flag == "--checkpoint-dir") {
    opts.checkpointDir = takeValue();
  } else if (flag == "--checkpoint-every") {
    opts.checkpointEvery = parseCount(flag, takeValue(), 1);
  } else if (flag == "--keep-last") {
    opts.keepLast = parseCount(flag, takeValue(), 1);
  } else if (flag == "--resume") {
    opts.resume = takeValue();
  } else if (flag == "--metrics") {
    opts.metrics = takeValue();
  } else if (flag == "--eval-data") {
    opts.evalData.push_back(parseDataSpec(flag, takeValue()));
  } else if (flag == "--eval-every") {
    opts.evalEvery = parseCount(flag, takeValue(), 1);
  } else if (flag == "--predict") {
    opts.predict = takeValue();
  } else {
    return false;
  }
  return true;
}

int64_t parseCount(const std::string &flag, const std::string &text,
                   int64_t min) {
  size_t used = 0;
  long long value = -1;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception &) {
    used = 0;
  }
  if (used == 0 || used != text.size() || value < min)
    throw Error(flag + " expects an integer of at least " +
                std::to_string(min) + ", got '" + text + "'");
  return value;
}

Options parseArgs(int argc, char **argv) {
  Options opts;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      opts.help = true;
      return opts;
    }
    if (arg.rfind("-", 0) != 0) {
      if (!opts.model.empty())
        throw Error("unexpected argument '" + arg + "' (the model is '" +
                    opts.model + "'); see --help");
      opts.model = arg;
      continue;
    }
    // Both "--flag value" and "--flag=value".
    std::string flag = arg, value;
    bool inlineValue = false;
    if (size_t eq = arg.find('=');
        eq != std::string::npos && arg.rfind("--", 0) == 0) {
      flag = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      inlineValue = true;
    }
    auto takeValue = [&]() {
      if (!inlineValue && i + 1 >= argc)
        throw Error(flag + " needs a value; see --help");
      std::string v = inlineValue ? value : std::string(argv[++i]);
      // `--save-checkpoint ""` (an unset shell variable) would otherwise
      // silently save nothing.
      if (v.empty())
        throw Error(flag + " needs a value, got an empty one; see --help");
      return v;
    };
    if (flag == "--data") {
      opts.data.push_back(parseDataSpec(flag, takeValue()));
    } else if (flag == "--steps") {
      opts.steps = parseCount(flag, takeValue(), 0);
    } else if (flag == "--log-every") {
      opts.logEvery = parseCount(flag, takeValue(), 1);
    } else if (flag == "--init-weights") {
      opts.initWeights = takeValue();
    } else if (flag == "--load-checkpoint") {
      opts.loadCheckpoint = takeValue();
    } else if (flag == "--save-checkpoint") {
      opts.saveCheckpoint = takeValue();
    } else if (flag == "--trace") {
      opts.trace = takeValue();
    } else if (flag == "--lr-schedule") {
      opts.lrSchedule = takeValue();
      LrSchedule check(opts.lrSchedule); // a bad spec fails before loading
    } else if (flag == "--on-nonfinite") {
      std::string what = takeValue();
      if (what == "warn")
        opts.onNonFinite = NonFinite::Warn;
      else if (what == "stop")
        opts.onNonFinite = NonFinite::Stop;
      else if (what == "ignore")
        opts.onNonFinite = NonFinite::Ignore;
      else
        throw Error("--on-nonfinite expects warn, stop or ignore, got '" +
                    what + "'");
    } else if (flag == "--timeout") {
      std::string text = takeValue();
      size_t used = 0;
      try {
        opts.timeout = std::stod(text, &used);
      } catch (const std::exception &) {
        used = 0;
      }
      if (used == 0 || used != text.size() || !(opts.timeout > 0.0) ||
          !std::isfinite(opts.timeout))
        throw Error("--timeout expects a positive number of seconds, got '" +
                    text + "'");
    } else if (flag == "--backend") {
      std::string name = takeValue();
      if (name == "cpu")
        opts.backend = Backend::Cpu;
      else if (name == "cuda")
        opts.backend = Backend::Cuda;
      else if (name == "auto")
        opts.backend = Backend::Auto;
      else
        throw Error("--backend expects cpu, cuda or auto, got '" + name + "'");
    } else if (!parseRecipeFlag(flag, takeValue, opts)) {
      throw Error("unknown option '" + flag + "'; see --help");
    }
  }
  if (opts.model.empty())
    throw Error("no model given; usage: dpc-run MODEL.so --data NAME=FILE.npy "
                "--steps N (see --help)");
  checkRecipeFlags(opts);
  if (opts.steps < 0 && opts.epochs < 0 && opts.predict.empty())
    throw Error("--steps is required (or --epochs)");
  if (!opts.initWeights.empty() && !opts.loadCheckpoint.empty())
    throw Error("--init-weights and --load-checkpoint both give the "
                "parameters; use one (a checkpoint also restores the "
                "optimizer state and the step counter)");
  if (!opts.trace.empty() && opts.trace == opts.saveCheckpoint)
    throw Error("--trace and --save-checkpoint name the same file '" +
                opts.trace + "'");
  if (!backendAvailable(opts.backend))
    throw Error(std::string("--backend ") + backendName(opts.backend) +
                ": this dpc-run was built without the cuda backend; use "
                "--backend cpu");
  if (opts.backend == Backend::Cuda) {
    // A missing or broken plugin first: that is the problem to fix.
    requireCudaBackend();
    if (cudaDeviceCount() == 0)
      throw Error("--backend cuda: no CUDA device found");
  }
  return opts;
}

/// The training data, checked against the manifest: one mapped .npy file
/// per model input, then the label.
struct Dataset {
  std::vector<NpyFile> files;
  int64_t samples = 0;
  int64_t localBatch = 0;
  int64_t globalBatch = 0;
};

Dataset loadData(const Options &opts, const Session &session) {
  const Manifest &m = session.manifest();
  std::vector<const TensorSpec *> specs;
  std::string known;
  for (const TensorSpec &s : m.inputs)
    specs.push_back(&s);
  if (m.label)
    specs.push_back(&*m.label);
  for (const TensorSpec *s : specs)
    known += (known.empty() ? "" : ", ") + s->name;

  std::map<std::string, std::string> files;
  for (const auto &[name, path] : opts.data) {
    bool found = false;
    for (const TensorSpec *s : specs)
      found |= s->name == name;
    if (!found)
      throw Error("--data " + name + "=" + path + ": " + opts.model +
                  " has no input or label named '" + name +
                  "' (it has: " + known + ")");
    if (!files.emplace(name, path).second)
      throw Error("--data " + name + " is given twice");
  }

  Dataset data;
  for (const TensorSpec *s : specs) {
    const char *role = m.label && s == &*m.label ? "label" : "input";
    auto it = files.find(s->name);
    if (it == files.end())
      throw Error("no --data for " + std::string(role) + " '" + s->name +
                  "' of " + opts.model + " (give --data " + s->name +
                  "=FILE.npy)");
    if (s->shape.empty())
      throw Error(std::string(role) + " '" + s->name + "' of " + opts.model +
                  " is a scalar: it has no batch dimension to feed");
    const std::string &path = it->second;
    NpyFile file = NpyFile::open(path, s->dtype);
    const std::vector<int64_t> &shape = file.shape();
    std::vector<int64_t> want(s->shape.begin() + 1, s->shape.end());
    if (shape.empty() ||
        std::vector<int64_t>(shape.begin() + 1, shape.end()) != want)
      throw Error(path + ": samples have shape " +
                  (shape.empty()
                       ? std::string("(none: a scalar file)")
                       : formatShape({shape.begin() + 1, shape.end()})) +
                  ", but " + role + " '" + s->name + "' of " + opts.model +
                  " needs " + formatShape(want) + " (compiled shape " +
                  formatShape(s->shape) + " without the batch dimension)");
    if (data.files.empty()) {
      data.samples = shape[0];
      data.localBatch = s->shape[0];
    } else {
      const NpyFile &first = data.files.front();
      if (shape[0] != data.samples)
        throw Error(path + " has " + std::to_string(shape[0]) +
                    " samples but " + first.path() + " has " +
                    std::to_string(data.samples));
      if (s->shape[0] != data.localBatch)
        throw Error(opts.model + ": '" + s->name + "' has batch size " +
                    std::to_string(s->shape[0]) + " but '" + specs[0]->name +
                    "' has " + std::to_string(data.localBatch));
    }
    data.files.push_back(std::move(file));
  }
  data.globalBatch = data.localBatch * session.worldSize();
  bool padLast = opts.lastBatch == LastBatch::Pad;
  if (!data.files.empty() && data.samples < data.globalBatch && !padLast)
    throw Error(
        data.files.front().path() + " has " + std::to_string(data.samples) +
        " samples, fewer than one global batch (" +
        std::to_string(session.worldSize()) + " ranks x " +
        (m.accumulate > 1 ? std::to_string(m.accumulate) + " micro-batches x " +
                                std::to_string(data.localBatch / m.accumulate)
                          : std::to_string(data.localBatch)) +
        " = " + std::to_string(data.globalBatch) +
        "); --pad-last repeats samples to fill one");
  if (data.samples == 0)
    throw Error(data.files.front().path() + " has no samples");
  return data;
}

/// What --lr-schedule sets before one optimizer step: every parameter
/// group's learning rate and, where the schedule sets it (OneCycleLR's
/// cycle_momentum), its momentum (SGD) or beta1 (Adam).
struct ScheduledStep {
  std::vector<double> lrs;
  std::vector<double> momenta;
};

/// --lr-schedule: what it sets for the optimizer steps firstStep ..
/// firstStep + steps (inclusive: the last is the state after the run, which
/// a checkpoint keeps, as torch's optimizer has it after the last
/// scheduler.step()). The schedule starts from the compiled lrs at step 0
/// and is replayed up to firstStep, as a resumed torch scheduler continues;
/// computed before training so that a schedule torch would refuse
/// (OneCycleLR past total_steps) stops the run before it starts.
std::vector<ScheduledStep> planSchedule(const Options &opts,
                                        const Session &session,
                                        int64_t firstStep, int64_t steps) {
  const Manifest &m = session.manifest();
  if (m.paramGroups.empty())
    throw Error("--lr-schedule: " + opts.model +
                " has its learning rate compiled in (it was built by a dpc "
                "without parameter groups); recompile it");
  std::vector<double> initial;
  for (const ParamGroupSpec &g : m.paramGroups)
    initial.push_back(g.lr);
  LrSchedule schedule(opts.lrSchedule);
  schedule.start(initial);
  std::vector<ScheduledStep> plan;
  for (int64_t step = 0; step <= firstStep + steps; ++step) {
    if (step > 0) {
      try {
        schedule.step();
      } catch (const Error &e) {
        throw Error(std::string(e.what()) + " (step " + std::to_string(step) +
                    " of this run's " + std::to_string(firstStep + steps) +
                    ")");
      }
    }
    if (!schedule.momenta().empty() && !m.optimizer.momentumAtRunTime)
      throw Error(
          "--lr-schedule '" + opts.lrSchedule +
          "' sets the momentum (OneCycleLR's cycle_momentum, torch's "
          "default), but " +
          opts.model + " compiles it in" +
          (m.optimizer.kind == "sgd" && m.optimizer.momentum == 0.0
               ? ": SGD without --momentum has no momentum buffer, which "
                 "torch would start using; compile with --momentum, or give "
                 "cycle_momentum=false"
               : "; recompile it with this dpc, or give "
                 "cycle_momentum=false"));
    if (step >= firstStep)
      plan.push_back({schedule.learningRates(), schedule.momenta()});
  }
  return plan;
}

void applySchedule(Session &session, const ScheduledStep &step) {
  for (size_t g = 0; g < step.lrs.size(); ++g)
    session.setLearningRate(step.lrs[g], static_cast<int>(g));
  for (size_t g = 0; g < step.momenta.size(); ++g)
    session.setMomentum(step.momenta[g], static_cast<int>(g));
}

/// Finds a bad --save-checkpoint or --trace before training rather than
/// after the last step. Rank 0, which writes them.
void checkOutputs(const Options &opts) {
  // Saving over the checkpoint a run resumed from is the usual way to
  // continue training (it has been read whole by then); replacing the
  // module, the data or the initial weights is not.
  std::vector<std::string> inputs = {opts.model, opts.initWeights};
  for (const auto &entry : opts.data)
    inputs.push_back(entry.second);
  if (!opts.saveCheckpoint.empty())
    checkOutputFile(opts.saveCheckpoint, "checkpoint", inputs);
  inputs.push_back(opts.loadCheckpoint);
  if (!opts.trace.empty())
    checkOutputFile(opts.trace, "trace", inputs);
  if (!opts.metrics.empty())
    checkOutputFile(opts.metrics, "metrics file", inputs);
  for (const auto &entry : opts.evalData)
    inputs.push_back(entry.second);
  if (!opts.predict.empty())
    checkOutputFile(opts.predict, "predictions", inputs);
  if (!opts.checkpointDir.empty())
    prepareCheckpointDir(opts.checkpointDir);
}

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

/// The checkpoint a run continues from (--resume, --load-checkpoint), or "".
std::string resumeFrom(const Options &opts) {
  if (!opts.resume.empty())
    return latestCheckpoint(opts.resume);
  return opts.loadCheckpoint;
}

/// Says on rank 0 what happens to the samples that do not fill a last
/// global batch, rather than leaving them out (or repeating some) silently.
/// On stdout, with the progress: it describes the run, it is no warning.
void reportRemainder(const BatchSampler &sampler) {
  const SamplerOptions &order = sampler.options();
  int64_t remainder = sampler.remainderPerEpoch();
  if (remainder == 0 || order.rank != 0)
    return;
  int64_t global = order.batchSize * order.worldSize;
  if (order.last == LastBatch::Drop)
    std::printf("dpc-run: note: %lld samples make %lld global batches of "
                "%lld; each epoch leaves out its last %lld %s (--drop-last; "
                "--pad-last uses them)\n",
                static_cast<long long>(order.samples),
                static_cast<long long>(sampler.batchesPerEpoch()),
                static_cast<long long>(global),
                static_cast<long long>(remainder),
                order.shuffle ? "in its order" : "in file order");
  else
    std::printf("dpc-run: note: %lld samples do not fill %lld global batches "
                "of %lld; each epoch's last batch is completed with %lld "
                "samples from the start of its order (--pad-last)\n",
                static_cast<long long>(order.samples),
                static_cast<long long>(sampler.batchesPerEpoch()),
                static_cast<long long>(global),
                static_cast<long long>(remainder));
}

/// Whether the module's step draws random numbers: dropout masks or
/// Bernoulli tensors (StochasticDepth). Its schedule lists the ops by name.
bool drawsDropout(const Manifest &manifest) {
  return std::any_of(manifest.schedule.begin(), manifest.schedule.end(),
                     [](const std::string &op) {
                       std::string name = op.substr(0, op.find(' '));
                       return name == "nn.dropout" || name == "nn.bernoulli";
                     });
}

void train(const Options &opts) {
  SessionOptions options;
  options.backend = opts.backend;
  options.initWeights = opts.initWeights;
  Session session = Session::load(opts.model, options);
  session.setSeed(static_cast<uint64_t>(opts.seed.value_or(0)));
  Dataset data;
  std::unique_ptr<EvalData> evalData;
  std::string checkpoint;
  ProcessGroup::collectively([&] {
    if (opts.seed && !opts.shuffle && !drawsDropout(session.manifest()))
      throw Error("--seed seeds the order of --shuffle and the dropout "
                  "masks; " +
                  opts.model + " has no dropout: give --shuffle too");
    if (session.manifest().externalWeights && opts.initWeights.empty() &&
        opts.loadCheckpoint.empty() && opts.resume.empty())
      throw Error(opts.model + " was compiled with --weights external: give "
                               "its initial parameters and buffers with "
                               "--init-weights FILE.safetensors");
    data = loadData(opts, session);
    if (!opts.evalData.empty()) {
      checkValidationSupported(session);
      evalData = std::make_unique<EvalData>(session, opts.evalData,
                                            /*withLabel=*/true, "--eval-data");
    }
    if (session.rank() == 0)
      checkOutputs(opts);
    checkpoint = resumeFrom(opts);
  });
  if (evalData)
    ProcessGroup::agree({{"the number of samples in the --eval-data files",
                          evalData->samples()}});
  // Data of different lengths wraps around at different steps: the batches
  // would silently differ from one uninterrupted global data set.
  ProcessGroup::agree(
      {{"the number of samples in the --data files", data.samples}});

  SamplerOptions order;
  order.samples = data.samples;
  order.batchSize = data.localBatch;
  order.rank = session.rank();
  order.worldSize = session.worldSize();
  order.shuffle = opts.shuffle;
  order.seed = static_cast<uint64_t>(opts.seed.value_or(0));
  order.last = opts.lastBatch.value_or(LastBatch::Drop);
  int64_t batchesPerEpoch = 0;
  ProcessGroup::collectively(
      [&] { batchesPerEpoch = BatchSampler(order).batchesPerEpoch(); });

  DataPosition position;
  if (!checkpoint.empty()) {
    std::map<std::string, std::string> metadata =
        session.loadCheckpointWithMetadata(checkpoint);
    // Every rank has rank 0's counter and metadata: all agree.
    ProcessGroup::collectively([&] {
      position = checkResume(metadata, checkpoint, session, order,
                             opts.seed.has_value(), batchesPerEpoch);
      // loadCheckpoint restored the dropout seed the checkpoint records.
      if (opts.seed && drawsDropout(session.manifest()) &&
          session.seed() != static_cast<uint64_t>(*opts.seed))
        throw Error(checkpoint + " was written by a run with --seed " +
                    std::to_string(session.seed()) + ", this one has --seed " +
                    std::to_string(*opts.seed) +
                    ": its dropout masks would not continue (leave --seed "
                    "out to continue with the checkpoint's)");
      if (opts.steps >= 0 && session.stepCount() > INT64_MAX - opts.steps)
        throw Error(checkpoint + ": 'optimizer.step' is " +
                    std::to_string(session.stepCount()) + "; " +
                    std::to_string(opts.steps) +
                    " more steps would overflow the step counter (int64)");
    });
  }

  // This run's steps: --steps more, and no further than the end of epoch
  // --epochs.
  int64_t steps = opts.steps >= 0 ? opts.steps : INT64_MAX;
  if (opts.epochs >= 0) {
    ProcessGroup::collectively([&] {
      if (opts.epochs > INT64_MAX / batchesPerEpoch ||
          position.epoch > INT64_MAX / batchesPerEpoch - 1)
        throw Error("--epochs " + std::to_string(opts.epochs) + " of " +
                    std::to_string(batchesPerEpoch) +
                    " batches would overflow the step count (int64)");
    });
    int64_t done = position.epoch * batchesPerEpoch + position.batch;
    steps = std::min(
        steps, std::max<int64_t>(0, opts.epochs * batchesPerEpoch - done));
  }

  std::unique_ptr<DataLoader> loader;
  ProcessGroup::collectively([&] {
    loader = std::make_unique<DataLoader>(std::move(data.files), order);
    loader->seek(position.epoch, position.batch);
  });
  reportRemainder(loader->sampler());

  bool print = session.rank() == 0;
  MetricsFile metrics;
  if (print && !opts.metrics.empty())
    metrics = MetricsFile(opts.metrics, /*append=*/!checkpoint.empty());
  std::vector<ScheduledStep> schedule;
  if (!opts.lrSchedule.empty())
    ProcessGroup::collectively([&] {
      schedule = planSchedule(opts, session, session.stepCount(), steps);
    });

  if (!opts.trace.empty())
    session.startTrace();

  auto saveTo = [&](const std::string &path) {
    session.saveCheckpoint(
        path, dataMetadata(order, {loader->epoch(), loader->batchInEpoch()}));
  };
  // --eval-data: one line on rank 0 and a line of the metrics file.
  int64_t lastValidated = -1;
  auto runValidation = [&]() {
    Clock::time_point begin = Clock::now();
    Validation v = validate(session, *evalData);
    lastValidated = session.stepCount();
    if (!print)
      return;
    double epoch =
        static_cast<double>(loader->epoch()) +
        static_cast<double>(loader->batchInEpoch()) / batchesPerEpoch;
    char accuracy[32] = "";
    if (!std::isnan(v.accuracy))
      std::snprintf(accuracy, sizeof(accuracy), "  val_acc %.4f", v.accuracy);
    std::printf("eval step %lld  val_loss %.6f%s  samples %lld  (%.2f s)\n",
                static_cast<long long>(session.stepCount()), v.loss, accuracy,
                static_cast<long long>(v.samples),
                seconds(begin, Clock::now()));
    std::fflush(stdout);
    metrics.writeValidation(session.stepCount(), epoch, v.loss, v.accuracy,
                            v.samples);
  };

  int64_t firstStep = session.stepCount();
  int64_t lastSaved = -1;
  // The learning rate the progress shows: the first group's current one
  // (set by --lr-schedule before each step).
  double lr = session.numParamGroups() > 0 ? session.learningRate(0)
                                           : session.manifest().optimizer.lr;
  Clock::time_point start = Clock::now(), intervalStart = start;
  int64_t intervalSteps = 0;
  double loss = 0.0;
  bool warnedNonFinite = false;
  for (int64_t i = 0; i < steps; ++i) {
    // The loader gathered this batch while the previous step ran.
    if (!schedule.empty()) {
      applySchedule(session, schedule[i]);
      lr = session.learningRate(0);
    }
    loss = session.step(loader->next());
    ++intervalSteps;
    // The loss is averaged over the ranks: every rank decides the same.
    if (!std::isfinite(loss) && opts.onNonFinite != NonFinite::Ignore) {
      std::string what = "step " + std::to_string(firstStep + i + 1) +
                         ": the loss is " +
                         (std::isnan(loss) ? "NaN" : "infinite");
      if (opts.onNonFinite == NonFinite::Stop)
        throw Error(what + "; stopped (--on-nonfinite stop), no checkpoint "
                           "saved",
                    /*reportedElsewhere=*/!print, /*agreed=*/true);
      if (print && !warnedNonFinite)
        std::fprintf(stderr,
                     "dpc-run: warning: %s (later ones are not reported; "
                     "--on-nonfinite stop ends the run)\n",
                     what.c_str());
      warnedNonFinite = true;
    }
    if (opts.checkpointEvery > 0 &&
        session.stepCount() % opts.checkpointEvery == 0) {
      saveTo(checkpointPath(opts.checkpointDir, session.stepCount()));
      lastSaved = session.stepCount();
      if (print)
        pruneCheckpoints(opts.checkpointDir, opts.keepLast);
    }
    if (print && ((i + 1) % opts.logEvery == 0 || i + 1 == steps)) {
      Clock::time_point now = Clock::now();
      Progress p;
      p.step = session.stepCount();
      p.runStep = i + 1;
      p.runSteps = steps;
      p.epoch = static_cast<double>(loader->epoch()) +
                static_cast<double>(loader->batchInEpoch()) / batchesPerEpoch;
      p.loss = loss;
      p.lr = lr;
      p.gradNorm = session.gradientNorm();
      if (session.hasGradScaler()) {
        p.lossScale = session.lastStepLossScale();
        p.skipped = session.lastStepSkipped();
      }
      p.samplesPerSecond = intervalSteps * data.globalBatch /
                           std::max(seconds(intervalStart, now), 1e-9);
      p.elapsedSeconds = seconds(start, now);
      p.secondsLeft = p.elapsedSeconds / (i + 1) * (steps - i - 1);
      // GradScaler: the scale the step ran with, and whether its updates
      // were skipped for an inf or NaN gradient.
      char scaler[64] = "";
      if (p.lossScale)
        std::snprintf(scaler, sizeof(scaler), "  loss_scale %.6g%s",
                      *p.lossScale, p.skipped ? " (skipped)" : "");
      std::printf("step %lld/%lld  loss %.6f  lr %.6g  grad_norm %.6g%s  "
                  "epoch %.2f  samples/s %.1f  left %s\n",
                  static_cast<long long>(p.runStep),
                  static_cast<long long>(p.runSteps), loss, lr, p.gradNorm,
                  scaler, p.epoch, p.samplesPerSecond,
                  formatDuration(p.secondsLeft).c_str());
      std::fflush(stdout);
      metrics.write(p);
      intervalStart = now;
      intervalSteps = 0;
    }
    if (evalData && opts.evalEvery > 0 &&
        session.stepCount() % opts.evalEvery == 0) {
      // Validation time is no training time: samples/s leaves it out.
      Clock::time_point before = Clock::now();
      runValidation();
      intervalStart += Clock::now() - before;
    }
  }
  double elapsed = seconds(start, Clock::now());
  if (!schedule.empty())
    applySchedule(session, schedule.back());
  // The model training ended with, unless just validated.
  if (evalData && lastValidated != session.stepCount())
    runValidation();

  if (!opts.checkpointDir.empty() && steps > 0 &&
      lastSaved != session.stepCount()) {
    saveTo(checkpointPath(opts.checkpointDir, session.stepCount()));
    if (print)
      pruneCheckpoints(opts.checkpointDir, opts.keepLast);
  }
  if (!opts.saveCheckpoint.empty())
    saveTo(opts.saveCheckpoint);
  if (!opts.trace.empty())
    session.writeTrace(opts.trace);
  if (!print)
    return;
  // A --mode dp module runs its replicas in this one process.
  bool dataParallel = session.manifest().mode == "dp";
  int64_t units =
      dataParallel ? session.manifest().replicas : session.worldSize();
  if (steps > 0)
    std::printf("done: %lld steps on %lld %s%s in %.6f s, %.1f samples/s, "
                "final loss %.6f, backend %s, %s memory: %lld bytes\n",
                static_cast<long long>(steps), static_cast<long long>(units),
                dataParallel ? "replica" : "rank", units == 1 ? "" : "s",
                elapsed, steps * data.globalBatch / std::max(elapsed, 1e-9),
                loss, backendName(session.backend()),
                session.backend() == Backend::Cuda ? "device" : "host",
                static_cast<long long>(session.memoryBytes()));
  else
    std::printf("done: 0 steps\n");
  if (session.hasGradScaler())
    std::printf("grad scaler: loss scale %.6g, %lld of %lld steps skipped "
                "(inf/NaN gradients)\n",
                session.lossScale(),
                static_cast<long long>(session.skippedSteps()),
                static_cast<long long>(session.stepCount()));
  if (!opts.checkpointDir.empty() && steps > 0)
    std::printf("saved checkpoint %s (step %lld)\n",
                checkpointPath(opts.checkpointDir, session.stepCount()).c_str(),
                static_cast<long long>(session.stepCount()));
  if (!opts.saveCheckpoint.empty())
    std::printf("saved checkpoint %s (step %lld)\n",
                opts.saveCheckpoint.c_str(),
                static_cast<long long>(session.stepCount()));
  if (!opts.trace.empty())
    std::printf("wrote trace %s\n", opts.trace.c_str());
  std::fflush(stdout);
}

/// --predict: the model's outputs for the --data inputs, no training.
void predict(const Options &opts) {
  SessionOptions options;
  options.backend = opts.backend;
  options.initWeights = opts.initWeights;
  Session session = Session::load(opts.model, options);
  std::unique_ptr<EvalData> data;
  std::string checkpoint;
  ProcessGroup::collectively([&] {
    if (session.manifest().externalWeights && opts.initWeights.empty() &&
        opts.loadCheckpoint.empty() && opts.resume.empty())
      throw Error(opts.model + " was compiled with --weights external: give "
                               "its parameters and buffers with "
                               "--init-weights or --load-checkpoint");
    data = std::make_unique<EvalData>(session, opts.data, /*withLabel=*/false,
                                      "--data");
    if (session.rank() == 0)
      checkOutputs(opts);
    checkpoint = resumeFrom(opts);
  });
  ProcessGroup::agree(
      {{"the number of samples in the --data files", data->samples()}});
  if (!checkpoint.empty())
    session.loadCheckpoint(checkpoint);
  std::vector<int64_t> shape = predictToFile(session, *data, opts.predict);
  if (session.rank() == 0) {
    std::string weights =
        checkpoint.empty() ? "" : " (weights of " + checkpoint + ")";
    std::printf("wrote %s: the outputs %s of %lld samples%s\n",
                opts.predict.c_str(), formatShape(shape).c_str(),
                static_cast<long long>(data->samples()), weights.c_str());
    std::fflush(stdout);
  }
}

} // namespace

int main(int argc, char **argv) {
  try {
    ProcessGroup::init(&argc, &argv);
    Options opts;
    ProcessGroup::collectively([&] { opts = parseArgs(argc, argv); });
    ProcessGroup::setTimeout(opts.timeout);
    // Ranks started with different flags would run different collectives
    // and wait for each other forever.
    ProcessGroup::agree(
        {{"--steps", opts.steps},
         {"whether --init-weights is given", !opts.initWeights.empty()},
         {"whether --load-checkpoint is given", !opts.loadCheckpoint.empty()},
         {"whether --save-checkpoint is given", !opts.saveCheckpoint.empty()},
         {"whether --trace is given", !opts.trace.empty()},
         {"--on-nonfinite", static_cast<int64_t>(opts.onNonFinite)},
         {"--timeout (milliseconds)",
          static_cast<int64_t>(std::min(opts.timeout * 1e3, 1e18))},
         {"--backend", static_cast<int64_t>(opts.backend)},
         {"--epochs", opts.epochs},
         {"--shuffle", opts.shuffle},
         {"--seed", opts.seed.value_or(-1)},
         {"--drop-last/--pad-last",
          static_cast<int64_t>(opts.lastBatch.value_or(LastBatch::Drop))},
         {"--checkpoint-every", opts.checkpointEvery},
         {"whether --checkpoint-dir is given", !opts.checkpointDir.empty()},
         {"whether --resume is given", !opts.resume.empty()},
         {"the number of --data flags", static_cast<int64_t>(opts.data.size())},
         {"the number of --eval-data flags",
          static_cast<int64_t>(opts.evalData.size())},
         {"--eval-every", opts.evalEvery},
         {"whether --predict is given", !opts.predict.empty()}});
    if (opts.help) {
      if (ProcessGroup::rank() == 0)
        std::fputs(kUsage, stdout);
    } else if (!opts.predict.empty()) {
      predict(opts);
    } else {
      train(opts);
    }
  } catch (const Error &e) {
    if (!e.isReportedElsewhere())
      std::fprintf(stderr, "dpc-run: error: %s\n", e.what());
    // An agreed error reached every rank at the same point: all exit
    // normally. Any other error may leave ranks waiting in a collective.
    if (ProcessGroup::isDistributed() && !e.isAgreed())
      ProcessGroup::abort(1);
    ProcessGroup::finalize();
    return 1;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "dpc-run: error: %s\n", e.what());
    ProcessGroup::abort(1);
  }
  ProcessGroup::finalize();
  return 0;
}
