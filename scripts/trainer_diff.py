"""Runs twelve small configurations (every architecture family, divergence, early stopping, schedules,
L-BFGS, ensembles) and writes every epoch's losses, the summary and the forecasts to a JSON file, to
compare the trainer before and after a change digit for digit:

    PYTHONPATH=OLD_TREE python scripts/trainer_diff.py /tmp/before.json
    PYTHONPATH=NEW_TREE python scripts/trainer_diff.py /tmp/after.json
    cmp /tmp/before.json /tmp/after.json
"""
import json, sys
from rnn_tui import config as C
from rnn_tui.core.trainer import train
from rnn_tui.core import events as ev

TINY = ["system.steps=300", "train.seq_len=5", "train.batch_size=16", "train.epochs=3", "rollout.every=2", "rollout.horizon=12", "train.threads=1", "model.hidden_size=6", "train.lr=0.01", "train.device=cpu"]
NOHID = [x for x in TINY if not x.startswith("model.hidden")]
CASES = {
 "rnn": ["model.arch=rnn"],
 "lstm-plateau-es": ["model.arch=lstm", "train.schedule=plateau", "train.early_stop_patience=1", "train.epochs=6"],
 "gru-cosine-clip": ["model.arch=gru", "train.schedule=cosine", "train.clip_grad_norm=0.5"],
 "mlp-k2": ["model.arch=mlp", "train.rollout_steps=2"],
 "rk4-lbfgs": ["system.name=lorenz63", "model.arch=rk4", "model.hidden_size=3", "train.seq_len=1", "train.lbfgs_steps=5", "train.dtype=float64"],
 "esn": ["system.name=lorenz63", "model.arch=esn", "model.hidden_size=20", "model.washout=10"],
 "ngrc": ["system.name=lorenz63", "model.arch=ngrc", "NOHID"],
 "diverge": ["model.arch=mlp", "model.activation=relu", "train.optimizer=sgd", "train.momentum=0.9", "train.lr=3"],
 "ens-lstm": ["model.arch=lstm", "train.ensemble=3", "train.schedule=plateau", "train.early_stop_patience=1", "train.epochs=5"],
 "ens-diverge": ["model.arch=mlp", "model.activation=relu", "train.optimizer=sgd", "train.momentum=0.9", "train.lr=0.3", "train.ensemble=6"],
 "ens-esn": ["system.name=lorenz63", "model.arch=esn", "model.hidden_size=20", "model.washout=10", "train.ensemble=2"],
 "ens-rk4": ["system.name=lorenz63", "model.arch=rk4", "model.hidden_size=3", "train.seq_len=1", "train.lbfgs_steps=5", "train.ensemble=2", "train.dtype=float64"],
}
out = {}
for name, extra in CASES.items():
    base = NOHID if "NOHID" in extra else TINY
    cfg = C.load(None, overrides=base + [x for x in extra if x != "NOHID"])
    seen = []
    r = train(cfg, seen.append)
    d = r.summary.to_dict()
    for k in ("wall_time_s", "train_time_s", "fit_time_s", "threads_reason"):
        d.pop(k, None)
    rows = [e.row() for e in seen if isinstance(e, ev.EpochEnd)]
    for row in rows:
        row.pop("elapsed_s"); row.pop("samples_per_s")
    fc = r.forecast
    out[name] = {"summary": d, "rows": rows, "forecast": None if fc is None else fc.prediction.tolist(),
                 "members": None if fc is None or fc.members is None else fc.members.tolist(),
                 "events": [type(e).__name__ for e in seen]}
json.dump(out, open(sys.argv[1], "w"), indent=1, default=str, allow_nan=True)
print("wrote", sys.argv[1])
