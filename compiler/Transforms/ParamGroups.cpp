//===- ParamGroups.cpp - torch.optim parameter groups by name -------------===//

#include "compiler/Transforms/ParamGroups.h"
#include "compiler/TrainStep/TrainStep.h"

#include "mlir/IR/Builders.h"

#include "llvm/ADT/StringExtras.h"

#include <cmath>

using namespace mlir;
using namespace dpc;

namespace {

/// A non-negative finite number that stays finite in float32 (the SGD
/// kernel rounds its hyper-parameters to float32).
bool parseHyperParameter(llvm::StringRef text, double &value) {
  if (text.trim().getAsDouble(value))
    return false;
  return std::isfinite(value) && value >= 0.0 &&
         std::isfinite(static_cast<float>(value)) &&
         (value == 0.0 || static_cast<float>(value) != 0.0f);
}

} // namespace

std::optional<ParamGroups> ParamGroups::parse(llvm::StringRef specs,
                                              double defaultLr,
                                              double defaultWeightDecay,
                                              std::string &error) {
  ParamGroups result;
  result.all.push_back({"", defaultLr, defaultWeightDecay});
  llvm::SmallVector<llvm::StringRef> parts;
  specs.split(parts, kParamGroupSeparator, /*MaxSplit=*/-1,
              /*KeepEmpty=*/false);
  for (llvm::StringRef spec : parts) {
    auto fail = [&](const llvm::Twine &why) {
      error = ("--param-group '" + spec + "': " + why).str();
      return std::nullopt;
    };
    auto [pattern, settings] = spec.split(':');
    if (pattern.empty() || !spec.contains(':'))
      return fail("expected PATTERN:lr=X,weight_decay=Y (PATTERN a glob on "
                  "state_dict names, e.g. '*.bias')");
    llvm::Expected<llvm::GlobPattern> glob = llvm::GlobPattern::create(pattern);
    if (!glob)
      return fail("bad pattern: " + llvm::toString(glob.takeError()));
    ParamGroup group{pattern.str(), defaultLr, defaultWeightDecay};
    llvm::SmallVector<llvm::StringRef> assignments;
    settings.split(assignments, ',', -1, /*KeepEmpty=*/false);
    if (assignments.empty())
      return fail("no settings after the pattern (lr=X and/or "
                  "weight_decay=Y)");
    for (llvm::StringRef assignment : assignments) {
      auto [key, text] = assignment.split('=');
      key = key.trim();
      double *target = key == "lr"             ? &group.lr
                       : key == "weight_decay" ? &group.weightDecay
                                               : nullptr;
      if (!target)
        return fail("unknown setting '" + key +
                    "' (a group sets lr and weight_decay)");
      if (!parseHyperParameter(text, *target))
        return fail(key + " '" + text +
                    "' is not a non-negative number that float32 keeps "
                    "finite and non-zero");
    }
    if (!(group.lr > 0.0))
      return fail("lr must be positive");
    result.all.push_back(std::move(group));
    result.patterns.push_back(std::move(*glob));
  }
  return result;
}

unsigned ParamGroups::groupOf(llvm::StringRef name) const {
  for (auto [i, pattern] : llvm::enumerate(patterns))
    if (pattern.match(name))
      return i + 1;
  return 0;
}

void ParamGroups::attachTo(func::FuncOp func) const {
  Builder b(func.getContext());
  SmallVector<Attribute> entries;
  for (const ParamGroup &g : all)
    entries.push_back(b.getDictionaryAttr(
        {b.getNamedAttr("lr", b.getF64FloatAttr(g.lr)),
         b.getNamedAttr("weight_decay", b.getF64FloatAttr(g.weightDecay)),
         b.getNamedAttr("pattern", b.getStringAttr(g.pattern))}));
  func->setAttr(kParamGroupsAttr, b.getArrayAttr(entries));
}
