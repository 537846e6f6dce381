//===- lr_schedule.cpp - torch.optim.lr_scheduler's schedules -------------===//
//
// A transcription of torch 1.13's torch/optim/lr_scheduler.py: the same
// state (each group's 'lr' and 'initial_lr', each scheduler's last_epoch,
// _step_count and base_lrs), the same step() and the same get_lr() /
// _get_closed_form_lr() formulas, evaluated in the same order in double
// (Python's float), so that every learning rate equals torch's bit for bit.
// Built with -ffp-contract=off: a fused multiply-add would round
// differently from Python.
//
//===----------------------------------------------------------------------===//

#include "dpc/lr_schedule.h"
#include "dpc/runtime.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>

using namespace dpc;

namespace {

constexpr double kPi = 3.141592653589793; // Python's math.pi

/// An optimizer parameter group as the schedulers see it.
struct Group {
  double lr = 0.0;
  std::optional<double> initialLr;
  double maxLr = 0.0, minLr = 0.0; // OneCycleLR's
  /// OneCycleLR(cycle_momentum=True)'s: group['momentum'] (SGD) or
  /// group['betas'][0] (Adam), which it sets; unset until it does.
  std::optional<double> momentum;
  double maxMomentum = 0.0, baseMomentum = 0.0;
};

/// torch's _LRScheduler.
class Scheduler {
public:
  virtual ~Scheduler() = default;

  /// __init__(optimizer, last_epoch=-1).
  virtual void attach(std::vector<Group> &optimizerGroups) {
    groups = &optimizerGroups;
    baseLrs.clear();
    for (Group &g : *groups) {
      if (!g.initialLr)
        g.initialLr = g.lr; // setdefault('initial_lr', group['lr'])
      baseLrs.push_back(*g.initialLr);
    }
    lastEpoch = -1;
    initialStep();
  }

  void initialStep() {
    stepCount = 0;
    step();
  }

  /// step() without an epoch.
  virtual void step() {
    ++stepCount;
    ++lastEpoch;
    assign(getLr());
  }

  /// step(epoch): the closed form where the scheduler has one.
  void stepTo(int64_t epoch) {
    ++stepCount;
    lastEpoch = epoch;
    std::optional<std::vector<double>> closed = closedFormLr();
    assign(closed ? *closed : getLr());
  }

  int64_t lastEpoch = -1;
  int64_t stepCount = 0;

protected:
  virtual std::vector<double> getLr() = 0;
  virtual std::optional<std::vector<double>> closedFormLr() {
    return std::nullopt;
  }

  /// [f(group['lr']) for group in param_groups]
  template <typename F> std::vector<double> eachLr(F f) const {
    std::vector<double> lrs;
    for (const Group &g : *groups)
      lrs.push_back(f(g.lr));
    return lrs;
  }
  /// [f(base_lr) for base_lr in base_lrs]
  template <typename F> std::vector<double> eachBaseLr(F f) const {
    std::vector<double> lrs;
    for (double base : baseLrs)
      lrs.push_back(f(base));
    return lrs;
  }

  std::vector<Group> *groups = nullptr;
  std::vector<double> baseLrs;

private:
  void assign(const std::vector<double> &lrs) {
    for (size_t i = 0; i < groups->size(); ++i)
      (*groups)[i].lr = lrs[i];
  }
};

class LinearLR : public Scheduler {
public:
  double startFactor = 1.0 / 3, endFactor = 1.0;
  int64_t totalIters = 5;

protected:
  std::vector<double> getLr() override {
    if (lastEpoch == 0)
      return eachLr([&](double lr) { return lr * startFactor; });
    if (lastEpoch > totalIters)
      return eachLr([](double lr) { return lr; });
    return eachLr([&](double lr) {
      return lr * (1.0 + (endFactor - startFactor) /
                             (static_cast<double>(totalIters) * startFactor +
                              static_cast<double>(lastEpoch - 1) *
                                  (endFactor - startFactor)));
    });
  }
  std::optional<std::vector<double>> closedFormLr() override {
    return eachBaseLr([&](double base) {
      return base * (startFactor +
                     (endFactor - startFactor) *
                         static_cast<double>(std::min(totalIters, lastEpoch)) /
                         static_cast<double>(totalIters));
    });
  }
};

class CosineAnnealingLR : public Scheduler {
public:
  int64_t tMax = 0;
  double etaMin = 0.0;

protected:
  std::vector<double> getLr() override {
    double t = static_cast<double>(tMax);
    if (lastEpoch == 0)
      return eachLr([](double lr) { return lr; });
    if (stepCount == 1 && lastEpoch > 0) {
      std::vector<double> lrs;
      for (double base : baseLrs)
        lrs.push_back(
            etaMin +
            (base - etaMin) *
                (1 + std::cos(static_cast<double>(lastEpoch) * kPi / t)) / 2);
      return lrs;
    }
    if ((lastEpoch - 1 - tMax) % (2 * tMax) == 0) {
      std::vector<double> lrs;
      for (size_t i = 0; i < groups->size(); ++i)
        lrs.push_back((*groups)[i].lr +
                      (baseLrs[i] - etaMin) * (1 - std::cos(kPi / t)) / 2);
      return lrs;
    }
    return eachLr([&](double lr) {
      return (1 + std::cos(kPi * static_cast<double>(lastEpoch) / t)) /
                 (1 + std::cos(kPi * static_cast<double>(lastEpoch - 1) / t)) *
                 (lr - etaMin) +
             etaMin;
    });
  }
  std::optional<std::vector<double>> closedFormLr() override {
    return eachBaseLr([&](double base) {
      return etaMin + (base - etaMin) *
                          (1 + std::cos(kPi * static_cast<double>(lastEpoch) /
                                        static_cast<double>(tMax))) /
                          2;
    });
  }
};

class StepLR : public Scheduler {
public:
  int64_t stepSize = 1;
  double gamma = 0.1;

protected:
  std::vector<double> getLr() override {
    if (lastEpoch == 0 || lastEpoch % stepSize != 0)
      return eachLr([](double lr) { return lr; });
    return eachLr([&](double lr) { return lr * gamma; });
  }
  std::optional<std::vector<double>> closedFormLr() override {
    return eachBaseLr([&](double base) {
      return base * std::pow(gamma, static_cast<double>(lastEpoch / stepSize));
    });
  }
};

class MultiStepLR : public Scheduler {
public:
  std::vector<int64_t> milestones; // sorted, repeats allowed (a Counter)
  double gamma = 0.1;

protected:
  std::vector<double> getLr() override {
    auto count = std::count(milestones.begin(), milestones.end(), lastEpoch);
    if (count == 0)
      return eachLr([](double lr) { return lr; });
    return eachLr([&](double lr) {
      return lr * std::pow(gamma, static_cast<double>(count));
    });
  }
  std::optional<std::vector<double>> closedFormLr() override {
    auto passed =
        std::upper_bound(milestones.begin(), milestones.end(), lastEpoch) -
        milestones.begin();
    return eachBaseLr([&](double base) {
      return base * std::pow(gamma, static_cast<double>(passed));
    });
  }
};

class ExponentialLR : public Scheduler {
public:
  double gamma = 1.0;

protected:
  std::vector<double> getLr() override {
    if (lastEpoch == 0)
      return eachLr([](double lr) { return lr; });
    return eachLr([&](double lr) { return lr * gamma; });
  }
  std::optional<std::vector<double>> closedFormLr() override {
    return eachBaseLr([&](double base) {
      return base * std::pow(gamma, static_cast<double>(lastEpoch));
    });
  }
};

class OneCycleLR : public Scheduler {
public:
  double maxLr = 0.0;
  int64_t totalSteps = 0;
  double pctStart = 0.3, divFactor = 25.0, finalDivFactor = 1e4;
  bool cosine = true, threePhase = false;
  bool cycleMomentum = true;
  double baseMomentum = 0.85, maxMomentum = 0.95;

  void attach(std::vector<Group> &optimizerGroups) override {
    for (Group &g : optimizerGroups) {
      g.initialLr = maxLr / divFactor;
      g.maxLr = maxLr;
      g.minLr = *g.initialLr / finalDivFactor;
      if (cycleMomentum) {
        g.momentum = maxMomentum;
        g.maxMomentum = maxMomentum;
        g.baseMomentum = baseMomentum;
      }
    }
    Scheduler::attach(optimizerGroups);
  }

protected:
  enum Which { Initial, Max, Min };
  enum WhichMomentum { MaxMomentum, BaseMomentum };
  struct Phase {
    double endStep;
    Which start, end;
    WhichMomentum startMomentum, endMomentum;
  };

  static double value(const Group &g, Which which) {
    return which == Initial ? *g.initialLr : which == Max ? g.maxLr : g.minLr;
  }
  static double value(const Group &g, WhichMomentum which) {
    return which == MaxMomentum ? g.maxMomentum : g.baseMomentum;
  }

  double anneal(double start, double end, double pct) const {
    if (cosine) {
      double cosOut = std::cos(kPi * pct) + 1;
      return end + (start - end) / 2.0 * cosOut;
    }
    return (end - start) * pct + start;
  }

  std::vector<double> getLr() override {
    if (lastEpoch > totalSteps)
      throw Error("onecycle: tried to step " + std::to_string(lastEpoch + 1) +
                  " times; total_steps is " + std::to_string(totalSteps) +
                  " (torch's OneCycleLR raises here)");
    double total = static_cast<double>(totalSteps);
    // _schedule_phases: end_step, start and end lr of each phase.
    Phase phases[3] = {
        {pctStart * total - 1, Initial, Max, MaxMomentum, BaseMomentum},
        {total - 1, Max, Min, BaseMomentum, MaxMomentum},
        {total - 1, Max, Min, BaseMomentum, MaxMomentum}};
    size_t numPhases = 2;
    if (threePhase) {
      phases[1] = {2 * pctStart * total - 2, Max, Initial, BaseMomentum,
                   MaxMomentum};
      phases[2] = {total - 1, Initial, Min, MaxMomentum, MaxMomentum};
      numPhases = 3;
    }
    std::vector<double> lrs;
    double stepNum = static_cast<double>(lastEpoch);
    for (Group &g : *groups) {
      double startStep = 0;
      for (size_t i = 0; i < numPhases; ++i) {
        double endStep = phases[i].endStep;
        if (stepNum <= endStep || i == numPhases - 1) {
          if (endStep - startStep == 0)
            throw Error("onecycle: phase " + std::to_string(i + 1) +
                        " has no steps (torch's OneCycleLR divides by zero "
                        "here); raise total_steps or change pct_start");
          double pct = (stepNum - startStep) / (endStep - startStep);
          lrs.push_back(
              anneal(value(g, phases[i].start), value(g, phases[i].end), pct));
          // get_lr sets the momentum itself, as torch's does.
          if (cycleMomentum)
            g.momentum = anneal(value(g, phases[i].startMomentum),
                                value(g, phases[i].endMomentum), pct);
          break;
        }
        startStep = endStep;
      }
    }
    return lrs;
  }
};

/// SequentialLR(optimizer, schedulers, milestones), built after its
/// schedulers, as in torch.
class SequentialLR : public Scheduler {
public:
  std::vector<std::unique_ptr<Scheduler>> schedulers;
  std::vector<int64_t> milestones;

  void attach(std::vector<Group> &optimizerGroups) override {
    groups = &optimizerGroups;
    // The schedulers are constructed first, each on the optimizer.
    for (auto &s : schedulers)
      s->attach(optimizerGroups);
    lastEpoch = 0; // last_epoch + 1
    for (Group &g : *groups)
      g.lr = *g.initialLr;
    for (auto &s : schedulers)
      s->lastEpoch -= 1;
    schedulers[0]->initialStep();
  }

  void step() override {
    ++lastEpoch;
    size_t idx =
        std::upper_bound(milestones.begin(), milestones.end(), lastEpoch) -
        milestones.begin();
    Scheduler &s = *schedulers[idx];
    if (idx > 0 && milestones[idx - 1] == lastEpoch)
      s.stepTo(0);
    else
      s.step();
  }

protected:
  std::vector<double> getLr() override { return {}; } // not used
};

//===----------------------------------------------------------------------===//
// Parsing
//===----------------------------------------------------------------------===//

std::string trim(const std::string &s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string &s, char sep) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(s);
  while (std::getline(in, part, sep))
    parts.push_back(trim(part));
  if (!s.empty() && s.back() == sep)
    parts.push_back("");
  return parts;
}

/// The KEY=VALUE arguments of one scheduler; each must be used.
class Arguments {
public:
  Arguments(std::string scheduler, const std::string &text)
      : scheduler(std::move(scheduler)) {
    if (text.empty())
      return;
    for (const std::string &assignment : split(text, ',')) {
      size_t eq = assignment.find('=');
      if (eq == std::string::npos)
        fail("'" + assignment + "' is not KEY=VALUE");
      std::string key = trim(assignment.substr(0, eq));
      if (values.count(key))
        fail(key + " is given twice");
      values[key] = trim(assignment.substr(eq + 1));
    }
  }

  [[noreturn]] void fail(const std::string &why) const {
    throw Error("--lr-schedule: " + scheduler + ": " + why);
  }

  bool has(const std::string &key) const { return values.count(key) != 0; }

  double number(const std::string &key, std::optional<double> fallback) {
    auto it = values.find(key);
    if (it == values.end()) {
      if (!fallback)
        fail("needs " + key + "=");
      return *fallback;
    }
    used.push_back(key);
    char *end = nullptr;
    double v = std::strtod(it->second.c_str(), &end);
    if (it->second.empty() || *end != '\0' || !std::isfinite(v))
      fail(key + " '" + it->second + "' is not a finite number");
    return v;
  }

  int64_t integer(const std::string &key, std::optional<int64_t> fallback) {
    auto it = values.find(key);
    if (it == values.end()) {
      if (!fallback)
        fail("needs " + key + "=");
      return *fallback;
    }
    used.push_back(key);
    return parseInteger(key, it->second);
  }

  std::vector<int64_t> integers(const std::string &key) {
    auto it = values.find(key);
    if (it == values.end())
      fail("needs " + key + "=M1/M2/...");
    used.push_back(key);
    std::vector<int64_t> list;
    for (const std::string &item : split(it->second, '/'))
      list.push_back(parseInteger(key, item));
    return list;
  }

  bool boolean(const std::string &key, bool fallback) {
    auto it = values.find(key);
    if (it == values.end())
      return fallback;
    used.push_back(key);
    if (it->second == "true" || it->second == "True")
      return true;
    if (it->second == "false" || it->second == "False")
      return false;
    fail(key + " '" + it->second + "' is not true or false");
  }

  std::string word(const std::string &key, const std::string &fallback) {
    auto it = values.find(key);
    if (it == values.end())
      return fallback;
    used.push_back(key);
    return it->second;
  }

  /// Fails on an argument the scheduler does not have.
  void finish(const std::string &known) const {
    for (const auto &entry : values)
      if (std::find(used.begin(), used.end(), entry.first) == used.end())
        fail("unknown argument '" + entry.first + "' (it takes " + known + ")");
  }

private:
  int64_t parseInteger(const std::string &key, const std::string &text) const {
    char *end = nullptr;
    errno = 0;
    long long v = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || errno == ERANGE)
      fail(key + " '" + text + "' is not an integer");
    return v;
  }

  std::string scheduler;
  std::map<std::string, std::string> values;
  std::vector<std::string> used;
};

std::unique_ptr<Scheduler> parseScheduler(const std::string &text) {
  size_t colon = text.find(':');
  std::string name = trim(text.substr(0, colon));
  Arguments args(
      name, colon == std::string::npos ? "" : trim(text.substr(colon + 1)));
  if (name == "linear" || name == "LinearLR") {
    auto s = std::make_unique<LinearLR>();
    s->startFactor = args.number("start_factor", 1.0 / 3);
    s->endFactor = args.number("end_factor", 1.0);
    s->totalIters = args.integer("total_iters", 5);
    args.finish("start_factor, end_factor, total_iters");
    if (s->startFactor > 1.0 || s->startFactor < 0 || s->endFactor > 1.0 ||
        s->endFactor < 0)
      args.fail("start_factor and end_factor must be in [0, 1] (as torch)");
    if (s->totalIters < 1)
      args.fail("total_iters must be at least 1");
    if (s->startFactor == 0.0)
      args.fail("start_factor 0 makes torch's LinearLR divide by zero");
    return s;
  }
  if (name == "cosine" || name == "CosineAnnealingLR") {
    auto s = std::make_unique<CosineAnnealingLR>();
    s->tMax = args.integer("T_max", std::nullopt);
    s->etaMin = args.number("eta_min", 0.0);
    args.finish("T_max, eta_min");
    if (s->tMax < 1)
      args.fail("T_max must be at least 1");
    return s;
  }
  if (name == "step" || name == "StepLR") {
    auto s = std::make_unique<StepLR>();
    s->stepSize = args.integer("step_size", std::nullopt);
    s->gamma = args.number("gamma", 0.1);
    args.finish("step_size, gamma");
    if (s->stepSize < 1)
      args.fail("step_size must be at least 1");
    return s;
  }
  if (name == "multistep" || name == "MultiStepLR") {
    auto s = std::make_unique<MultiStepLR>();
    s->milestones = args.integers("milestones");
    s->gamma = args.number("gamma", 0.1);
    args.finish("milestones, gamma");
    std::sort(s->milestones.begin(), s->milestones.end());
    return s;
  }
  if (name == "exponential" || name == "ExponentialLR") {
    auto s = std::make_unique<ExponentialLR>();
    s->gamma = args.number("gamma", std::nullopt);
    args.finish("gamma");
    return s;
  }
  if (name == "onecycle" || name == "OneCycleLR") {
    auto s = std::make_unique<OneCycleLR>();
    s->maxLr = args.number("max_lr", std::nullopt);
    s->totalSteps = args.integer("total_steps", std::nullopt);
    s->pctStart = args.number("pct_start", 0.3);
    std::string strategy = args.word("anneal_strategy", "cos");
    s->divFactor = args.number("div_factor", 25.0);
    s->finalDivFactor = args.number("final_div_factor", 1e4);
    s->threePhase = args.boolean("three_phase", false);
    s->cycleMomentum = args.boolean("cycle_momentum", true);
    s->baseMomentum = args.number("base_momentum", 0.85);
    s->maxMomentum = args.number("max_momentum", 0.95);
    args.finish("max_lr, total_steps, pct_start, anneal_strategy, "
                "div_factor, final_div_factor, three_phase, cycle_momentum, "
                "base_momentum, max_momentum");
    if (strategy != "cos" && strategy != "linear")
      args.fail("anneal_strategy must be cos or linear, not '" + strategy +
                "'");
    s->cosine = strategy == "cos";
    if (s->totalSteps < 1)
      args.fail("total_steps must be a positive integer");
    if (s->pctStart < 0 || s->pctStart > 1)
      args.fail("pct_start must be in [0, 1]");
    if (!(s->maxLr > 0) || !(s->divFactor > 0) || !(s->finalDivFactor > 0))
      args.fail("max_lr, div_factor and final_div_factor must be positive");
    return s;
  }
  throw Error("--lr-schedule: unknown scheduler '" + name +
              "' (linear, cosine, step, multistep, exponential, onecycle)");
}

} // namespace

struct LrSchedule::Impl {
  std::string spec;
  std::unique_ptr<Scheduler> root;
  std::vector<Group> groups;
  std::vector<double> lrs;
  /// Each group's momentum once a scheduler sets it, else empty.
  std::vector<double> momenta;
  int64_t steps = 0;

  void refresh() {
    lrs.clear();
    momenta.clear();
    for (const Group &g : groups)
      lrs.push_back(g.lr);
    // OneCycleLR sets every group's momentum or none.
    if (!groups.empty() && groups[0].momentum)
      for (const Group &g : groups)
        momenta.push_back(*g.momentum);
  }
};

LrSchedule::LrSchedule(const std::string &spec)
    : impl(std::make_unique<Impl>()) {
  impl->spec = spec;
  // SCHED |M1| SCHED |M2| SCHED ...: even parts schedulers, odd milestones.
  std::vector<std::string> parts = split(spec, '|');
  if (parts.empty() || trim(spec).empty())
    throw Error("--lr-schedule: empty (e.g. cosine:T_max=100)");
  if (parts.size() % 2 == 0)
    throw Error("--lr-schedule '" + spec +
                "': expected SCHEDULER |MILESTONE| SCHEDULER ...");
  if (parts.size() == 1) {
    impl->root = parseScheduler(parts[0]);
    return;
  }
  auto sequential = std::make_unique<SequentialLR>();
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i % 2 == 0) {
      sequential->schedulers.push_back(parseScheduler(parts[i]));
      continue;
    }
    char *end = nullptr;
    long long milestone = std::strtoll(parts[i].c_str(), &end, 10);
    if (parts[i].empty() || *end != '\0' || milestone < 1)
      throw Error("--lr-schedule: milestone '" + parts[i] +
                  "' is not a positive step number");
    if (!sequential->milestones.empty() &&
        milestone <= sequential->milestones.back())
      throw Error("--lr-schedule: milestones must increase (" +
                  std::to_string(sequential->milestones.back()) + " then " +
                  parts[i] + ")");
    sequential->milestones.push_back(milestone);
  }
  impl->root = std::move(sequential);
}

LrSchedule::LrSchedule(LrSchedule &&) noexcept = default;
LrSchedule &LrSchedule::operator=(LrSchedule &&) noexcept = default;
LrSchedule::~LrSchedule() = default;

void LrSchedule::start(const std::vector<double> &initialLrs) {
  impl->groups.assign(initialLrs.size(), Group{});
  for (size_t i = 0; i < initialLrs.size(); ++i)
    impl->groups[i].lr = initialLrs[i];
  impl->steps = 0;
  impl->root->attach(impl->groups);
  impl->refresh();
}

void LrSchedule::step() {
  if (impl->groups.empty() && impl->lrs.empty())
    throw Error("LrSchedule::step before start");
  impl->root->step();
  ++impl->steps;
  impl->refresh();
}

const std::vector<double> &LrSchedule::learningRates() const {
  return impl->lrs;
}

const std::vector<double> &LrSchedule::momenta() const { return impl->momenta; }

int64_t LrSchedule::stepsTaken() const { return impl->steps; }

const std::string &LrSchedule::spec() const { return impl->spec; }
