"""The long-run table of docs/climate.md: every Lorenz-63 preset trained as shipped (noise-free), its
VPT over the test starts beside its long run's fate, its own Lyapunov exponents, Kaplan–Yorke
dimension, D_stsp and D_H against their truth-against-truth floors, and what the long run took.

    PYTHONPATH=. python scripts/climate_table.py [PRESET_LABEL ...]   (labels: mlp rk4 lstm gru esn ngrc ngrc_paper)

The same rows (and the noisy ones) come from `rnn-tui bench skill --only lorenz`."""

from __future__ import annotations

import sys

from rnn_tui.bench import skill

MODELS = {**skill.LORENZ_MODELS, "ngrc_paper": ("lorenz63_ngrc", None, ())}


def main(labels: list[str]) -> None:
    rows = []
    for label, (preset, _, extra) in MODELS.items():
        if labels and label not in labels:
            continue
        result, seconds = skill._run(preset, list(extra) + ["rollout.horizon=2000"], False)
        s = result.summary
        e = s.evaluation
        rows.append({"model": label, "noise": 0.0, "preset": preset, "train_seconds": round(seconds, 1),
                     "vpt_lyapunov": e.to_dict().get("vpt_lyapunov") if e is not None else None,
                     "climate": s.climate.to_dict() if s.climate is not None else None})
        print("\n".join(skill.climate_table({"lorenz": {"rows": rows[-1:]}})[3:4]), f"(whole run {seconds:.1f} s)", flush=True)
    print("\n".join(skill.climate_table({"lorenz": {"rows": rows}})))


if __name__ == "__main__":
    main(sys.argv[1:])
