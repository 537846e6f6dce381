//===- lr_schedule.h - torch.optim.lr_scheduler's schedules -----*- C++ -*-===//
//
// Learning-rate schedules with the formulas of torch 1.13's
// torch.optim.lr_scheduler, step for step: the learning rate of each
// parameter group after the scheduler was constructed and stepped k times
// is the value torch's scheduler gives, bit for bit, because the same
// (chainable, recursive) double arithmetic is done in the same order.
// dpc-run's --lr-schedule uses it; a C++ training loop can too:
//
//   dpc::LrSchedule schedule("linear:start_factor=0.1,total_iters=5 |5| "
//                            "cosine:T_max=95");
//   schedule.start(initialLrs);            // the groups' lrs at construction
//   for (...) {
//     for (int g = 0; g < groups; ++g)
//       session.setLearningRate(schedule.learningRates()[g], g);
//     for (int g = 0; g < schedule.momenta().size(); ++g)
//       session.setMomentum(schedule.momenta()[g], g);
//     session.step(batch);                 // optimizer.step()
//     schedule.step();                     // scheduler.step()
//   }
//
// The spec: one scheduler `NAME[:KEY=VALUE,...]` with torch's argument
// names, or several joined by `|MILESTONE|` (SequentialLR: the scheduler
// before the milestone runs until that step, the next one from it on).
//   linear       LinearLR(start_factor=1/3, end_factor=1.0, total_iters=5)
//   cosine       CosineAnnealingLR(T_max, eta_min=0)
//   step         StepLR(step_size, gamma=0.1)
//   multistep    MultiStepLR(milestones=M1/M2/..., gamma=0.1)
//   exponential  ExponentialLR(gamma)
//   onecycle     OneCycleLR(max_lr, total_steps, pct_start=0.3,
//                anneal_strategy=cos|linear, div_factor=25,
//                final_div_factor=1e4, three_phase=false,
//                cycle_momentum=true, base_momentum=0.85,
//                max_momentum=0.95): max_lr is one value for every group;
//                with cycle_momentum it also sets every group's momentum
//                (SGD's momentum, Adam's beta1) each step, see momenta().
// torch's class names (LinearLR, CosineAnnealingLR, ...) work as NAME too.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_LR_SCHEDULE_H
#define DPC_LR_SCHEDULE_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dpc {

class LrSchedule {
public:
  /// Parses `spec`; throws dpc::Error with one line naming the problem.
  explicit LrSchedule(const std::string &spec);
  LrSchedule(LrSchedule &&) noexcept;
  LrSchedule &operator=(LrSchedule &&) noexcept;
  ~LrSchedule();

  /// Constructs the schedulers on an optimizer whose parameter groups have
  /// learning rates `initialLrs` (their param_group['lr'], which becomes
  /// 'initial_lr'), as torch's constructors do: learningRates() is then the
  /// lr of the first optimizer step. Restarts a started schedule.
  void start(const std::vector<double> &initialLrs);
  /// scheduler.step(): moves to the learning rates of the next optimizer
  /// step. Throws dpc::Error where torch raises (OneCycleLR past
  /// total_steps).
  void step();
  /// The learning rate of every group for the next optimizer step.
  const std::vector<double> &learningRates() const;
  /// The momentum of every group for the next optimizer step (SGD's
  /// momentum or Adam's beta1: Session::setMomentum), where the schedule
  /// sets it (OneCycleLR with cycle_momentum, once constructed); empty
  /// where it leaves the momentum alone.
  const std::vector<double> &momenta() const;
  /// scheduler.step() calls since start().
  int64_t stepsTaken() const;

  /// The spec as given.
  const std::string &spec() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

} // namespace dpc

#endif // DPC_LR_SCHEDULE_H
