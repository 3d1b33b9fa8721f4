"""The memory a configuration would need, estimated before anything is allocated: the data, the
model with its optimiser state, one training batch's backward pass, a closed-form fit, and the
evaluation. A run that would need more than half of this machine's memory is refused with one
line naming the setting that weighs most; its partner in time, `check_integration`, refuses a true
trajectory whose integration would take too long (torch- and numpy-free: the app's panel and the CLI call
it while checking a configuration)."""

from __future__ import annotations

import os
from dataclasses import dataclass

LIMIT_FRACTION = 0.5  # of the machine's physical memory
EVAL_STARTS = 200  # free runs scored at the end (core/evaluate.py: MAX_STARTS)
EVAL_WINDOWS = 1024  # windows per chunk of a validation pass (core/losses.py)

# The setting to lower when a part is too large (the model's own size setting, and any part its
# architecture says otherwise of, come from the architecture: ArchConfig.budget_key).
FIELD = {"data": "system.steps", "batch": "train.batch_size", "fit": "system.steps", "evaluation": "rollout.horizon"}


@dataclass(frozen=True)
class Estimate:
    parts: dict[str, int]  # bytes by part: data, model, batch, fit, evaluation

    @property
    def total(self) -> int:
        return sum(self.parts.values())

    @property
    def largest(self) -> str:
        return max(self.parts, key=self.parts.get)


def machine_memory() -> int:
    """Physical memory in bytes (16 GiB where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 16 * 2**30


def dimension(cfg) -> int:
    """Values per sample: the system's components, a field's grid points (1 where only the data
    file knows: a CSV system)."""
    from rnn_tui.systems import get_system

    system = get_system(cfg.system.name)
    if system.components:
        return len(system.components)
    resolved = system.resolve(cfg.system.params)
    return int(resolved.get("n", 1))


def estimate(cfg, members: int | None = None) -> Estimate:
    """The estimate for `cfg`, with train.ensemble members (or `members`): each member has its own
    weights, batch, fit and forecasts; an ensemble also keeps each member's module, the weights
    before the step and the best weights (three more copies of the weights)."""
    from rnn_tui.systems import get_system

    t, m = cfg.train, cfg.model
    k = t.ensemble if members is None else members
    steps = cfg.system.steps or get_system(cfg.system.name).steps
    dim = dimension(cfg)
    b = 8 if t.dtype == "float64" else 4
    batch = min(t.batch_size, steps)
    params, activations = m.footprint(dim, t.seq_len, batch)
    fit = m.fit_values(steps, dim) if hasattr(m, "fit_values") else 0
    horizon = min(cfg.rollout.horizon, steps)
    return Estimate({
        "data": steps * dim * (2 * 8 + 2 * b),  # the trajectory and its noisy copy, both normalised on the device
        "model": params * b * (4 if k == 1 else 7) * k,  # weights, gradients, two moments of Adam
        "batch": activations * b * k,
        "fit": fit * 8 * k,
        "evaluation": (EVAL_STARTS * horizon * dim * 8 * 3 + EVAL_WINDOWS * (t.seq_len + t.rollout_steps) * dim * b * 3) * k,
    })


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"  # pragma: no cover


def check_integration(cfg, source: str = "configuration") -> None:
    """The time partner of the memory estimate: UserError (key: the setting to lower) when the true
    trajectory's integration would take more than the systems' work limit (systems/base.py: MAX_WORK,
    internal steps x the values each advances)."""
    from rnn_tui.errors import UserError
    from rnn_tui.systems import get_system

    system, s = get_system(cfg.system.name), cfg.system
    try:
        system.check_work(s.params, s.steps or system.steps, s.dt or system.dt)
    except UserError as exc:
        raise UserError(f"{source}: {exc}", key=exc.key) from None


def check(cfg, source: str = "configuration") -> None:
    """UserError (key: the setting that weighs most) when the run would need more than
    LIMIT_FRACTION of the machine's memory, or its integration more than the work limit."""
    from rnn_tui.errors import UserError

    check_integration(cfg, source)
    est, memory = estimate(cfg), machine_memory()
    limit = LIMIT_FRACTION * memory
    if est.total <= limit:
        return
    part = est.largest
    field = cfg.model.budget_key(part) or FIELD[part]
    if cfg.train.ensemble > 1 and estimate(cfg, members=1).total <= limit:
        field = "train.ensemble"  # one member would fit: fewer members is the change to make
    raise UserError(
        f"{source}: this run would need about {_size(est.total)} of memory ({part}: {_size(est.parts[part])}), "
        f"more than half of this machine's {_size(memory)}; lower {field}",
        key=field,
    )
