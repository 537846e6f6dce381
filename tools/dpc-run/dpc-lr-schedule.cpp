//===- dpc-lr-schedule.cpp - Print the learning rates of a schedule -------===//
//
// `dpc-lr-schedule SPEC --lr LR[,LR...] --steps N` prints the learning rate
// of every parameter group for optimizer steps 0..N (step k: after k
// scheduler.step() calls), as dpc-run --lr-schedule would set them: one
// line per step, "STEP LR0 LR1 ...", each lr with 17 significant digits
// (exact for a double), followed by "momentum M0 M1 ..." where the schedule
// sets the momentum (OneCycleLR's cycle_momentum). To look at a schedule before
// training with it, and to check the formulas against torch.optim.lr_scheduler.
//
//===----------------------------------------------------------------------===//

#include "dpc/lr_schedule.h"
#include "dpc/runtime.h"

#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

using namespace dpc;

namespace {

const char *const kUsage =
    R"(usage: dpc-lr-schedule SPEC --lr LR[,LR...] --steps N

Prints the learning rate of each parameter group (their initial lrs given
by --lr) for optimizer steps 0..N under the schedule SPEC, as dpc-run
--lr-schedule SPEC sets them (see dpc-run --help for SPEC), and their
momentum (SGD's momentum, Adam's beta1) where the schedule sets it.
)";

double parseNumber(const std::string &flag, const std::string &text) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception &) {
    used = 0;
  }
  if (used == 0 || used != text.size() || !std::isfinite(v) || v < 0)
    throw Error(flag + " expects non-negative numbers, got '" + text + "'");
  return v;
}

int run(int argc, char **argv) {
  std::string spec;
  std::vector<double> lrs;
  long long steps = -1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if ((arg == "--lr" || arg == "--steps") && i + 1 < argc) {
      std::string value = argv[++i];
      if (arg == "--steps") {
        steps = static_cast<long long>(parseNumber(arg, value));
        if (static_cast<double>(steps) != parseNumber(arg, value))
          throw Error("--steps expects an integer, got '" + value + "'");
        continue;
      }
      std::stringstream list(value);
      std::string item;
      while (std::getline(list, item, ','))
        lrs.push_back(parseNumber(arg, item));
      continue;
    }
    if (arg.rfind("-", 0) == 0 || !spec.empty())
      throw Error("unexpected argument '" + arg + "'; see --help");
    spec = arg;
  }
  if (spec.empty() || lrs.empty() || steps < 0)
    throw Error("usage: dpc-lr-schedule SPEC --lr LR[,LR...] --steps N");
  LrSchedule schedule(spec);
  schedule.start(lrs);
  for (long long step = 0; step <= steps; ++step) {
    if (step > 0)
      schedule.step();
    std::printf("%lld", step);
    for (double lr : schedule.learningRates())
      std::printf(" %.17g", lr);
    if (!schedule.momenta().empty()) {
      std::printf(" momentum");
      for (double m : schedule.momenta())
        std::printf(" %.17g", m);
    }
    std::printf("\n");
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception &e) {
    std::fflush(stdout);
    std::fprintf(stderr, "dpc-lr-schedule: error: %s\n", e.what());
    return 1;
  }
}
