"""Checks dpc-lr-schedule (dpc/lr_schedule.h, what dpc-run --lr-schedule
uses) against torch.optim.lr_scheduler: for each schedule, the learning rate
of every parameter group at every optimizer step 0..N (and the momentum
where the schedule sets it: OneCycleLR's cycle_momentum), where torch's
value of step k is param_group['lr'] (['momentum']) after constructing the scheduler(s) on an
optimizer with the given lrs and calling scheduler.step() k times (after an
optimizer.step() each, as in a training loop).

Usage: check_lr_schedule.py DPC_LR_SCHEDULE [--rtol R]
Compares exactly unless --rtol is given; prints the worst relative
difference over all schedules and fails listing every mismatch."""
import argparse
import subprocess
import sys
import warnings

import torch

warnings.filterwarnings("ignore")
S = torch.optim.lr_scheduler

# (dpc spec, groups' initial lrs, steps, builder of the torch scheduler)
CASES = [
    ("linear:start_factor=0.1,total_iters=7", [0.1, 0.01], 12,
     lambda o: S.LinearLR(o, start_factor=0.1, total_iters=7)),
    ("linear", [0.3], 9, lambda o: S.LinearLR(o)),
    ("LinearLR:start_factor=1,end_factor=0.05,total_iters=10", [0.5], 14,
     lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=10)),
    ("cosine:T_max=20", [0.1, 0.02], 50, lambda o: S.CosineAnnealingLR(o, T_max=20)),
    ("cosine:T_max=7,eta_min=0.001", [0.05], 40,
     lambda o: S.CosineAnnealingLR(o, T_max=7, eta_min=0.001)),
    ("step:step_size=3,gamma=0.5", [0.1, 0.2], 20, lambda o: S.StepLR(o, step_size=3, gamma=0.5)),
    ("step:step_size=4", [1e-3], 13, lambda o: S.StepLR(o, step_size=4)),
    ("multistep:milestones=3/8/8/15,gamma=0.3", [0.1], 20,
     lambda o: S.MultiStepLR(o, milestones=[3, 8, 8, 15], gamma=0.3)),
    ("exponential:gamma=0.93", [0.1, 0.003], 30, lambda o: S.ExponentialLR(o, gamma=0.93)),
    ("onecycle:max_lr=0.4,total_steps=30,cycle_momentum=false", [0.1, 0.01], 30,
     lambda o: S.OneCycleLR(o, max_lr=0.4, total_steps=30, cycle_momentum=False)),
    # torch's default cycle_momentum=True: the momentum is compared too.
    ("onecycle:max_lr=0.4,total_steps=30", [0.1, 0.01], 30,
     lambda o: S.OneCycleLR(o, max_lr=0.4, total_steps=30)),
    ("OneCycleLR:max_lr=0.3,total_steps=21,pct_start=0.25,three_phase=true,"
     "anneal_strategy=linear,base_momentum=0.8,max_momentum=0.9", [0.2], 21,
     lambda o: S.OneCycleLR(o, max_lr=0.3, total_steps=21, pct_start=0.25,
                            three_phase=True, anneal_strategy="linear",
                            base_momentum=0.8, max_momentum=0.9)),
    ("linear:start_factor=0.5,total_iters=4 |6| onecycle:max_lr=0.2,total_steps=20",
     [0.1], 25,
     lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.5, total_iters=4),
                                  S.OneCycleLR(o, max_lr=0.2, total_steps=20)],
                              milestones=[6])),
    ("onecycle:max_lr=0.2,total_steps=25,pct_start=0.4,anneal_strategy=linear,"
     "div_factor=10,final_div_factor=100,three_phase=true,cycle_momentum=false",
     [0.1], 25,
     lambda o: S.OneCycleLR(o, max_lr=0.2, total_steps=25, pct_start=0.4,
                            anneal_strategy="linear", div_factor=10.0,
                            final_div_factor=100.0, three_phase=True,
                            cycle_momentum=False)),
    ("linear:start_factor=0.01,total_iters=5 |5| cosine:T_max=25", [0.1, 0.01], 40,
     lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.01, total_iters=5),
                                  S.CosineAnnealingLR(o, T_max=25)], milestones=[5])),
    ("linear:start_factor=0.2,total_iters=4|4|exponential:gamma=0.9|10|step:step_size=3",
     [0.05], 25,
     lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.2, total_iters=4),
                                  S.ExponentialLR(o, gamma=0.9),
                                  S.StepLR(o, step_size=3)], milestones=[4, 10])),
    ("cosine:T_max=10,eta_min=0.01 |6| multistep:milestones=2/5", [0.1], 15,
     lambda o: S.SequentialLR(o, [S.CosineAnnealingLR(o, T_max=10, eta_min=0.01),
                                  S.MultiStepLR(o, milestones=[2, 5])], milestones=[6])),
]


def torch_rates(lrs, steps, build):
    """Each step's [lr of every group], followed by the groups' momenta
    where a scheduler changed them from the optimizer's 0.9."""
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in lrs]
    opt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)],
                          lr=lrs[0], momentum=0.9)
    sched = build(opt)
    cycles = any("max_momentum" in g for g in opt.param_groups)

    def state():
        return ([g["lr"] for g in opt.param_groups] +
                ([g["momentum"] for g in opt.param_groups] if cycles else []))

    rates = [state()]
    for _ in range(steps):
        opt.step()
        sched.step()
        rates.append(state())
    return rates


def dpc_rates(tool, spec, lrs, steps):
    out = subprocess.run([tool, spec, "--lr", ",".join(repr(x) for x in lrs),
                          "--steps", str(steps)], check=True, capture_output=True,
                         text=True).stdout
    rates = []
    for k, line in enumerate(out.splitlines()):
        fields = line.split()
        assert int(fields[0]) == k, line
        rates.append([float(x) for x in fields[1:] if x != "momentum"])
    return rates


def main():
    p = argparse.ArgumentParser()
    p.add_argument("tool")
    p.add_argument("--rtol", type=float, default=0.0)
    a = p.parse_args()
    failures, worst, values = [], 0.0, 0
    for spec, lrs, steps, build in CASES:
        want = torch_rates(lrs, steps, build)
        got = dpc_rates(a.tool, spec, lrs, steps)
        if len(got) != len(want) or any(len(g) != len(w) for g, w in zip(got, want)):
            failures.append(f"{spec}: dpc printed {len(got)} steps of {len(got[0])} values, "
                            f"torch has {len(want)} of {len(want[0])}")
            continue
        for k, (g, w) in enumerate(zip(got, want)):
            for group, (x, y) in enumerate(zip(g, w)):
                values += 1
                rel = abs(x - y) / abs(y) if y != 0 else abs(x - y)
                worst = max(worst, rel)
                if rel > a.rtol:
                    failures.append(f"{spec}: step {k} value {group}: dpc {x!r}, "
                                    f"torch {y!r}")
    for f in failures[:20]:
        print("MISMATCH", f)
    if failures:
        sys.exit(f"{len(failures)} learning rates differ from torch")
    print(f"compared {values} learning rates and momenta of {len(CASES)} schedules with "
          f"torch.optim.lr_scheduler: worst relative difference {worst:.3g}")


if __name__ == "__main__":
    main()
