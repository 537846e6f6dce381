//===- main.cpp - A training loop of one's own on libdpcrt ----------------===//
//
// Trains a model compiled by dpc (`dpc model.pt -o model.so ...`) on one
// input and one label .npy file, shuffled per epoch as PyTorch's
// DistributedSampler does, and stops early: after the first step whose loss
// (averaged over the ranks) is at most --target-loss, after --max-epochs,
// or, with validation data, once the validation loss has not improved for
// --patience epochs. The learning rate follows --lr-schedule (a
// torch.optim.lr_scheduler, dpc/lr_schedule.h), and after each epoch the
// evaluation step (Session::evaluate: the model as model.eval() runs it)
// measures the validation loss on every rank's DistributedSampler shard.
// Runs alone or under `mpirun -np N` (a module compiled with --world-size
// N). Built against an installed runtime: see CMakeLists.txt.
//
//   cpp-train MODEL.so X.npy Y.npy [--max-epochs N] [--target-loss L]
//             [--seed S] [--save FILE.safetensors] [--lr-schedule SPEC]
//             [--val-x X.npy --val-y Y.npy [--patience N]]
//
//===----------------------------------------------------------------------===//

#include <dpc/data.h>
#include <dpc/lr_schedule.h>
#include <dpc/runtime.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>

namespace {

struct Args {
  std::string model, x, y, save;
  long long maxEpochs = 10;
  double targetLoss = 0.0;
  unsigned long long seed = 0;
  std::string lrSchedule;
  std::string valX, valY;
  long long patience = 3;
};

Args parseArgs(int argc, char **argv) {
  Args args;
  std::string *positional[] = {&args.model, &args.x, &args.y};
  int next = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        throw dpc::Error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--max-epochs")
      args.maxEpochs = std::stoll(value());
    else if (arg == "--target-loss")
      args.targetLoss = std::stod(value());
    else if (arg == "--seed")
      args.seed = std::stoull(value());
    else if (arg == "--save")
      args.save = value();
    else if (arg == "--lr-schedule")
      args.lrSchedule = value();
    else if (arg == "--val-x")
      args.valX = value();
    else if (arg == "--val-y")
      args.valY = value();
    else if (arg == "--patience")
      args.patience = std::stoll(value());
    else if (next < 3 && arg.rfind("--", 0) != 0)
      *positional[next++] = arg;
    else
      throw dpc::Error("unexpected argument '" + arg + "'");
  }
  if (next != 3)
    throw dpc::Error("usage: cpp-train MODEL.so X.npy Y.npy [--max-epochs N] "
                     "[--target-loss L] [--seed S] [--save FILE] "
                     "[--lr-schedule SPEC] [--val-x X.npy --val-y Y.npy "
                     "[--patience N]]");
  if (args.valX.empty() != args.valY.empty())
    throw dpc::Error("--val-x and --val-y go together");
  return args;
}

/// The mean validation loss over every rank's shard of the validation set
/// (DistributedSampler(shuffle=False) with its padding): each rank
/// evaluates whole batches of its shard, the last one completed with the
/// shard's first samples, and weighs each batch's mean loss by its real
/// samples. (A batch's mean also covers its padding rows: exact when the
/// shard divides into batches; dpc-run --eval-data computes per sample.)
double validationLoss(dpc::Session &session, std::vector<dpc::NpyFile> &files) {
  const dpc::EvalSpec &eval = *session.manifest().eval;
  int64_t batch = eval.inputs[0].shape[0];
  std::vector<int64_t> shard = dpc::evaluationShard(
      files[0].shape()[0], session.rank(), session.worldSize());
  std::vector<std::vector<unsigned char>> buffers(files.size());
  std::vector<const void *> pointers;
  for (size_t f = 0; f < files.size(); ++f) {
    buffers[f].resize(batch * files[f].sampleBytes());
    pointers.push_back(buffers[f].data());
  }
  // Every rank evaluates with rank 0's buffers, as DDP's forward does.
  session.syncBuffers();
  double sum = 0.0, count = 0.0;
  int64_t size = static_cast<int64_t>(shard.size());
  for (int64_t first = 0; first < size; first += batch) {
    for (size_t f = 0; f < files.size(); ++f)
      for (int64_t j = 0; j < batch; ++j)
        files[f].readSample(shard[(first + j) % size],
                            buffers[f].data() + j * files[f].sampleBytes());
    int64_t real = std::min(batch, size - first);
    sum += static_cast<double>(session.evaluate(pointers).loss) * real;
    count += static_cast<double>(real);
  }
  std::vector<double> totals = {sum, count};
  dpc::ProcessGroup::sumOverRanks(totals, "summing the validation loss");
  return totals[0] / totals[1];
}

int train(const Args &args) {
  dpc::Session session = dpc::Session::load(args.model);
  const dpc::Manifest &manifest = session.manifest();
  if (manifest.inputs.size() != 1 || !manifest.label)
    throw dpc::Error(args.model + ": this example feeds one input and a label");

  // The data as DataLoader(DistributedSampler(shuffle=True, seed)) gives it,
  // each file read as the dtype the model wants.
  std::vector<dpc::NpyFile> files;
  files.push_back(dpc::NpyFile::open(args.x, manifest.inputs[0].dtype));
  files.push_back(dpc::NpyFile::open(args.y, manifest.label->dtype));
  dpc::SamplerOptions order;
  order.samples = files[0].shape()[0];
  order.batchSize = manifest.inputs[0].shape[0];
  order.rank = session.rank();
  order.worldSize = session.worldSize();
  order.shuffle = true;
  order.seed = args.seed;
  dpc::DataLoader loader(std::move(files), order);
  int64_t perEpoch = loader.sampler().batchesPerEpoch();

  // The schedule, from the compiled learning rates of the parameter groups.
  std::optional<dpc::LrSchedule> schedule;
  if (!args.lrSchedule.empty()) {
    std::vector<double> initial;
    for (int g = 0; g < session.numParamGroups(); ++g)
      initial.push_back(session.learningRate(g));
    schedule.emplace(args.lrSchedule);
    schedule->start(initial);
  }
  std::vector<dpc::NpyFile> validation;
  if (!args.valX.empty()) {
    if (!session.hasEvalStep())
      throw dpc::Error(args.model + " has no evaluation step; compile it "
                                    "without --eval-step=false");
    validation.push_back(
        dpc::NpyFile::open(args.valX, manifest.eval->inputs[0].dtype));
    validation.push_back(
        dpc::NpyFile::open(args.valY, manifest.eval->label->dtype));
  }

  bool print = session.rank() == 0;
  double loss = 0.0;
  int64_t steps = 0;
  bool reached = false, stalled = false;
  double bestValidation = std::numeric_limits<double>::infinity();
  int64_t epochsWithoutImprovement = 0;
  for (int64_t epoch = 0; epoch < args.maxEpochs && !reached && !stalled;
       ++epoch) {
    double sum = 0.0;
    int64_t batches = 0;
    for (; batches < perEpoch && !reached; ++batches) {
      if (schedule)
        for (size_t g = 0; g < schedule->learningRates().size(); ++g)
          session.setLearningRate(schedule->learningRates()[g],
                                  static_cast<int>(g));
      loss = session.step(loader.next());
      if (schedule)
        schedule->step();
      sum += loss;
      ++steps;
      // The loss is the same on every rank: all stop together.
      reached = loss <= args.targetLoss;
    }
    if (print)
      std::printf("epoch %lld: mean loss %.6f over %lld steps\n",
                  static_cast<long long>(epoch), sum / batches,
                  static_cast<long long>(batches));
    if (!validation.empty()) {
      // Summed over the ranks: every rank decides the same.
      double validationLossNow = validationLoss(session, validation);
      if (validationLossNow < bestValidation) {
        bestValidation = validationLossNow;
        epochsWithoutImprovement = 0;
      } else {
        stalled = ++epochsWithoutImprovement >= args.patience;
      }
      if (print)
        std::printf("epoch %lld: validation loss %.6f (best %.6f)\n",
                    static_cast<long long>(epoch), validationLossNow,
                    bestValidation);
    }
  }
  if (!args.save.empty())
    session.saveCheckpoint(args.save);
  if (print)
    std::printf("%s after %lld steps, final loss %.6f\n",
                reached   ? "stopped early: target loss reached"
                : stalled ? "stopped early: the validation loss stopped "
                            "improving"
                          : "stopped: --max-epochs done",
                static_cast<long long>(steps), loss);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  try {
    dpc::ProcessGroup::init(&argc, &argv);
    int rc = train(parseArgs(argc, argv));
    dpc::ProcessGroup::finalize();
    return rc;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "cpp-train: error: %s\n", e.what());
    if (dpc::ProcessGroup::isDistributed())
      dpc::ProcessGroup::abort(1);
    return 1;
  }
}
