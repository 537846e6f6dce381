//===- ParamGroups.h - torch.optim parameter groups by name -----*- C++ -*-===//
//
// `dpc --param-group 'PATTERN:lr=X,weight_decay=Y'` (repeatable) puts the
// parameters whose state_dict name matches the glob PATTERN into a group
// with its own learning rate and weight decay, as torch.optim's
// param_groups do. The first matching pattern wins; parameters no pattern
// matches stay in the default group, which has the optimizer's --lr and
// --weight-decay. Group 0 is the default group, group k the k-th
// --param-group. The optimizer passes tag each update with its group
// (`group`) and record the groups on @train_step (`dpc.param_groups`),
// which the manifest lists; the runtime holds each group's current learning
// rate.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_COMPILER_TRANSFORMS_PARAMGROUPS_H
#define DPC_COMPILER_TRANSFORMS_PARAMGROUPS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include "llvm/Support/GlobPattern.h"

#include <optional>
#include <string>

namespace dpc {

/// The separator of the groups in the passes' `param-groups` option.
inline constexpr char kParamGroupSeparator = ';';

struct ParamGroup {
  std::string pattern; // empty for the default group
  double lr = 0.0;
  double weightDecay = 0.0;
};

class ParamGroups {
public:
  /// Parses the `;`-separated specs `PATTERN:lr=X,weight_decay=Y` (either
  /// key may be left out: it then takes the default group's value). On a
  /// bad spec returns std::nullopt with one line in `error`.
  static std::optional<ParamGroups> parse(llvm::StringRef specs,
                                          double defaultLr,
                                          double defaultWeightDecay,
                                          std::string &error);

  /// The group of the parameter named `name`: the first pattern that
  /// matches it, else the default group 0.
  unsigned groupOf(llvm::StringRef name) const;

  llvm::ArrayRef<ParamGroup> groups() const { return all; }

  /// Records the groups on `func` as kParamGroupsAttr (TrainStep.h):
  /// [{lr = f64, weight_decay = f64, pattern = "..."}, ...].
  void attachTo(mlir::func::FuncOp func) const;

private:
  llvm::SmallVector<ParamGroup> all;
  llvm::SmallVector<llvm::GlobPattern> patterns; // of groups 1..
};

} // namespace dpc

#endif // DPC_COMPILER_TRANSFORMS_PARAMGROUPS_H
