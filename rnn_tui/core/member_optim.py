"""Optimisation of K > 1 members at once (train.ensemble): the configured optimiser on the stacked
(K, P) weights with a learning rate per member, and each member's learning-rate schedule.

Adam, RMSprop and SGD are elementwise, so one update of the stacked weights is each member's own
update; only the learning rate is a (K, 1) column. A member that no longer trains (diverged or
stopped early) gets a zero gradient and a zero rate, so its weights stay exactly as they are. The
formulas are torch's (torch.optim.Adam, RMSprop and SGD with this project's settings); the tests
compare every member with its own run to 1e-9 in float64.

The step count is a device tensor, not a Python number, so a CUDA graph that captures the step
(kernels/cudagraph.py) replays the right bias correction every time.
"""

from __future__ import annotations


import torch

from rnn_tui.core.optim import Schedule, set_lr

ADAM_BETAS, ADAM_EPS = (0.9, 0.999), 1e-8  # torch.optim.Adam's defaults, as core/optim.py uses them
RMSPROP_ALPHA, RMSPROP_EPS = 0.99, 1e-8  # torch.optim.RMSprop's


class MemberOptimizer:
    """train.optimizer over the rows of `flat` (K, P), one learning rate per row."""

    def __init__(self, cfg, flat: torch.Tensor) -> None:
        t = cfg.train
        self.kind, self.weight_decay, self.momentum = t.optimizer, t.weight_decay, t.momentum
        self.flat = flat
        # every training member steps together, so one count serves all (float64: the bias corrections are exact)
        self.count = torch.zeros((), dtype=torch.float64, device=flat.device)
        zeros = lambda: torch.zeros_like(flat, memory_format=torch.contiguous_format)  # noqa: E731
        if self.kind == "adam":
            self.exp_avg, self.exp_avg_sq = zeros(), zeros()
        elif self.kind == "rmsprop":
            self.square_avg = zeros()
        else:
            self.buf: torch.Tensor | None = None

    def state_dict(self) -> dict:
        """The moments (or momentum buffer) and the step count (core/resume.py)."""
        names = {"adam": ("exp_avg", "exp_avg_sq"), "rmsprop": ("square_avg",)}.get(self.kind, ("buf",))
        out = {n: getattr(self, n) for n in names}
        return {"steps": int(self.count.item()), **{n: (v.clone() if v is not None else None) for n, v in out.items()}}

    @property
    def state(self) -> dict:
        """The tensors a captured step changes (kernels/cudagraph.py resets them to zeros)."""
        names = {"adam": ("exp_avg", "exp_avg_sq"), "rmsprop": ("square_avg",)}.get(self.kind, ())
        return {self.flat: {"count": self.count, **{n: getattr(self, n) for n in names}}}

    def load_state_dict(self, state: dict) -> None:
        self.count.fill_(float(state["steps"]))
        for name, value in state.items():
            if name == "steps":
                continue
            if value is None or getattr(self, name, None) is None:
                setattr(self, name, value.clone() if value is not None else None)
            else:
                getattr(self, name).copy_(value)

    @torch.no_grad()
    def step(self, grad: torch.Tensor, lr: torch.Tensor) -> None:
        """One update from `grad` (K, P), finite in every row, with rates `lr` (K,)."""
        p, rate = self.flat.data, lr.unsqueeze(1)
        self.count.add_(1)
        if self.weight_decay != 0:
            grad = grad.add(p, alpha=self.weight_decay)
        if self.kind == "adam":
            b1, b2 = ADAM_BETAS
            self.exp_avg.lerp_(grad, 1 - b1)
            self.exp_avg_sq.mul_(b2).addcmul_(grad, grad, value=1 - b2)
            step_size = (rate / (1 - b1**self.count)).to(p.dtype)
            denom = (self.exp_avg_sq.sqrt() / (1 - b2**self.count).sqrt().to(p.dtype)).add_(ADAM_EPS)
            p.sub_(step_size * self.exp_avg / denom)
        elif self.kind == "rmsprop":
            self.square_avg.mul_(RMSPROP_ALPHA).addcmul_(grad, grad, value=1 - RMSPROP_ALPHA)
            p.sub_(rate * grad / self.square_avg.sqrt().add_(RMSPROP_EPS))
        else:
            if self.momentum != 0:
                if self.buf is None:
                    self.buf = grad.clone()
                else:
                    self.buf.mul_(self.momentum).add_(grad)
                grad = self.buf
            p.sub_(rate * grad)


def _holder(lr: float) -> torch.optim.Optimizer:
    """An optimiser over nothing that only holds a learning rate, so that torch's own schedulers
    (through core/optim.py's Schedule) give each member exactly the rates of its own run."""
    return torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)


class MemberSchedules:
    """Each member's learning rate. Cosine annealing depends only on the step count, which every
    training member shares, so one schedule serves all; a plateau schedule is per member (its own
    validation losses); a rate sent from the app applies to every member."""

    def __init__(self, cfg, k: int, total_steps: int) -> None:
        self.k = k
        self.per_member = cfg.train.schedule == "plateau"
        self.holders = [_holder(cfg.train.lr) for _ in range(k if self.per_member else 1)]
        self.schedules = [Schedule(cfg, h, total_steps) for h in self.holders]
        for h in self.holders:
            h.step()  # no gradient, so nothing changes; torch's schedulers want a step before theirs

    def state_dict(self) -> dict:
        return {"holders": [h.state_dict() for h in self.holders],
                "schedules": [s.sched.state_dict() if s.sched is not None else None for s in self.schedules]}

    def load_state_dict(self, state: dict, total_steps: int) -> None:
        """As it was; a cosine schedule is stretched over the new total, as a resumed run's is."""
        for h, hs in zip(self.holders, state["holders"]):
            h.load_state_dict(hs)
        for s, ss in zip(self.schedules, state["schedules"]):
            if s.sched is not None and ss is not None:
                s.sched.load_state_dict(ss)
                if hasattr(s.sched, "T_max"):
                    s.sched.T_max = max(1, total_steps)

    def rates(self) -> list[float]:
        values = [float(h.param_groups[0]["lr"]) for h in self.holders]
        return values if self.per_member else values * self.k

    def set_all(self, lr: float) -> None:
        for h in self.holders:
            set_lr(h, lr)

    def after_step(self) -> None:
        for s in self.schedules:
            s.after_step()

    def after_epoch(self, val: list[float], train: list[float], training: list[bool]) -> None:
        """The plateau schedule of each member that trained this epoch, on its own losses."""
        if self.per_member:
            for j, s in enumerate(self.schedules):
                if training[j]:
                    s.after_epoch(val[j], train[j])
        else:
            self.schedules[0].after_epoch(val[0], train[0])
