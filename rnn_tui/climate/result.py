"""The typed result of the long-run evaluation: summary.json's `climate` object (to_dict / from_dict)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


def _f(v) -> float | None:
    return None if v is None or not math.isfinite(float(v)) else float(v)


@dataclass(frozen=True)
class Climate:
    """What a model's long free run showed: its fate, its own Lyapunov exponents against the
    truth's, the Kaplan–Yorke dimensions, and D_stsp and D_H against their truth-against-truth floors."""

    fate: str  # "bounded", "blew_up", "fixed_point" or "periodic"
    lyapunov_model: tuple[float, ...]  # per time unit, largest first ((): not measured, e.g. it blew up)
    lyapunov_truth: tuple[float, ...]  # the truth's known exponents, largest first
    kaplan_yorke_model: float | None
    kaplan_yorke_truth: float | None
    d_stsp: float | None
    d_h: float | None
    d_stsp_floor: float | None  # the same divergences between two true runs from different starts
    d_h_floor: float | None
    seconds: float  # what the long-run evaluation took
    fate_detail: str = ""  # "blew up at step 1,234", "periodic orbit, period 1.5", "bounded"
    lyapunov_model_error: tuple[float, ...] = ()  # standard error of each model exponent
    tangent: str = ""  # how the tangent vectors were carried: "jvp" or "finite differences"
    length_steps: int = 0  # steps of the long run
    note: str = ""  # why a figure is missing

    def to_dict(self) -> dict[str, Any]:
        return {"fate": self.fate, "fate_detail": self.fate_detail,
                "lyapunov_model": [_f(v) for v in self.lyapunov_model],
                "lyapunov_model_error": [_f(v) for v in self.lyapunov_model_error],
                "lyapunov_truth": list(self.lyapunov_truth),
                "kaplan_yorke_model": _f(self.kaplan_yorke_model), "kaplan_yorke_truth": _f(self.kaplan_yorke_truth),
                "d_stsp": _f(self.d_stsp), "d_h": _f(self.d_h), "d_stsp_floor": _f(self.d_stsp_floor), "d_h_floor": _f(self.d_h_floor),
                "seconds": self.seconds, "tangent": self.tangent, "length_steps": self.length_steps, "note": self.note}

    @classmethod
    def from_dict(cls, d: dict) -> Climate:
        nums = lambda key: tuple(float("nan") if v is None else float(v) for v in d.get(key) or ())  # noqa: E731
        return cls(str(d["fate"]), nums("lyapunov_model"), nums("lyapunov_truth"), _f(d.get("kaplan_yorke_model")),
                   _f(d.get("kaplan_yorke_truth")), _f(d.get("d_stsp")), _f(d.get("d_h")), _f(d.get("d_stsp_floor")),
                   _f(d.get("d_h_floor")), float(d.get("seconds") or 0.0), str(d.get("fate_detail", "")),
                   nums("lyapunov_model_error"), str(d.get("tangent", "")), int(d.get("length_steps") or 0), str(d.get("note", "")))

    @property
    def lambda1(self) -> float | None:
        return self.lyapunov_model[0] if self.lyapunov_model else None

    def text(self) -> str:
        """'climate: bounded; λ1 0.91 (truth 0.906); D_stsp 0.12 (floor 0.08); D_H 0.05 (floor 0.03)'."""
        parts = [f"climate: {self.fate_detail or self.fate}"]
        if self.lambda1 is not None:
            truth = f" (truth {self.lyapunov_truth[0]:.3g})" if self.lyapunov_truth else ""
            parts.append(f"λ1 {self.lambda1:.3g}{truth}")
        for name, v, floor in (("D_stsp", self.d_stsp, self.d_stsp_floor), ("D_H", self.d_h, self.d_h_floor)):
            if v is not None:
                parts.append(f"{name} {v:.3g}" + (f" (floor {floor:.3g})" if floor is not None else ""))
        return "; ".join(parts)
