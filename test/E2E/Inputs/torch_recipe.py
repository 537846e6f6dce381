"""dpc's recipe options as their PyTorch equivalents, for the reference
scripts: dpc --param-group specs as torch.optim param_groups, and dpc-run
--lr-schedule specs (dpc/lr_schedule.h) as torch.optim.lr_scheduler
objects."""
import fnmatch

import torch

S = torch.optim.lr_scheduler


def param_groups(named_params, specs, lr, weight_decay):
    """[{'params', 'lr', 'weight_decay'}, ...]: group 0 the parameters no
    PATTERN of `specs` ('PATTERN:lr=X,weight_decay=Y') matches, group k those
    whose name the k-th pattern matches first (dpc's numbering)."""
    groups = [{"params": [], "lr": lr, "weight_decay": weight_decay, "names": []}]
    patterns = []
    for spec in specs:
        pattern, settings = spec.split(":", 1)
        group = {"params": [], "lr": lr, "weight_decay": weight_decay, "names": []}
        for assignment in settings.split(","):
            key, value = assignment.split("=")
            group[key.strip()] = float(value)
        groups.append(group)
        patterns.append(pattern)
    for name, p in named_params:
        index = next((i + 1 for i, pat in enumerate(patterns)
                      if fnmatch.fnmatchcase(name, pat)), 0)
        groups[index]["params"].append(p)
        groups[index]["names"].append(name)
    return groups


def _value(text):
    if text in ("true", "True"):
        return True
    if text in ("false", "False"):
        return False
    if "/" in text or text.lstrip("-").isdigit():
        parts = [int(x) for x in text.split("/")]
        return parts if "/" in text else parts[0]
    try:
        return float(text)
    except ValueError:
        return text


NAMES = {"linear": "LinearLR", "cosine": "CosineAnnealingLR", "step": "StepLR",
         "multistep": "MultiStepLR", "exponential": "ExponentialLR",
         "onecycle": "OneCycleLR"}


def _one(opt, text):
    name, _, args = text.strip().partition(":")
    kwargs = {}
    for assignment in filter(None, args.split(",")):
        key, value = assignment.split("=")
        kwargs[key.strip()] = _value(value.strip())
    if name.strip() in ("multistep", "MultiStepLR") and isinstance(kwargs.get("milestones"), int):
        kwargs["milestones"] = [kwargs["milestones"]]
    for key in ("pct_start", "div_factor", "final_div_factor", "max_lr", "gamma",
                "start_factor", "end_factor", "eta_min", "base_momentum", "max_momentum"):
        if key in kwargs:
            kwargs[key] = float(kwargs[key])
    return getattr(S, NAMES.get(name.strip(), name.strip()))(opt, **kwargs)


def lr_scheduler(opt, spec):
    """The scheduler of a --lr-schedule spec, constructed on `opt` as a
    user would: each scheduler in order, then SequentialLR."""
    parts = [p.strip() for p in spec.split("|")]
    schedulers = [_one(opt, p) for p in parts[0::2]]
    if len(schedulers) == 1:
        return schedulers[0]
    return S.SequentialLR(opt, schedulers, milestones=[int(m) for m in parts[1::2]])
