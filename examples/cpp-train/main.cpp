//===- main.cpp - A training loop of one's own on libdpcrt ----------------===//
//
// Trains a model compiled by dpc (`dpc model.pt -o model.so ...`) on one
// input and one label .npy file, shuffled per epoch as PyTorch's
// DistributedSampler does, and stops early: after the first step whose loss
// (averaged over the ranks) is at most --target-loss, or after
// --max-epochs. Runs alone or under `mpirun -np N` (a module compiled with
// --world-size N). Built against an installed runtime: see CMakeLists.txt.
//
//   cpp-train MODEL.so X.npy Y.npy [--max-epochs N] [--target-loss L]
//             [--seed S] [--save FILE.safetensors]
//
//===----------------------------------------------------------------------===//

#include <dpc/data.h>
#include <dpc/runtime.h>

#include <cstdio>
#include <string>

namespace {

struct Args {
  std::string model, x, y, save;
  long long maxEpochs = 10;
  double targetLoss = 0.0;
  unsigned long long seed = 0;
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
    else if (next < 3 && arg.rfind("--", 0) != 0)
      *positional[next++] = arg;
    else
      throw dpc::Error("unexpected argument '" + arg + "'");
  }
  if (next != 3)
    throw dpc::Error("usage: cpp-train MODEL.so X.npy Y.npy [--max-epochs N] "
                     "[--target-loss L] [--seed S] [--save FILE]");
  return args;
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

  bool print = session.rank() == 0;
  float loss = 0.0f;
  int64_t steps = 0;
  bool reached = false;
  for (int64_t epoch = 0; epoch < args.maxEpochs && !reached; ++epoch) {
    double sum = 0.0;
    int64_t batches = 0;
    for (; batches < perEpoch && !reached; ++batches) {
      loss = session.step(loader.next());
      sum += loss;
      ++steps;
      // The loss is the same on every rank: all stop together.
      reached = loss <= args.targetLoss;
    }
    if (print)
      std::printf("epoch %lld: mean loss %.6f over %lld steps\n",
                  static_cast<long long>(epoch), sum / batches,
                  static_cast<long long>(batches));
  }
  if (!args.save.empty())
    session.saveCheckpoint(args.save);
  if (print)
    std::printf("%s after %lld steps, final loss %.6f\n",
                reached ? "stopped early: target loss reached"
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
