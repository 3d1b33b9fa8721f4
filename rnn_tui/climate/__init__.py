"""Learned dynamics ("climate"): whether a model left to run for a long time stays on an attractor
with the truth's statistics. Pure numerics, no screen and no run files: the Lyapunov spectrum of
any batched step function by Benettin's QR method (`lyapunov.py`), the fate of a long run
(`fate.py`), the invariant statistics D_stsp and D_H (`stats.py`), the truth's long runs and known
spectra (`truth.py`), and the typed result written to summary.json (`result.py`). The trainer's
after-training evaluation that ties them to a model is `rnn_tui/core/climate.py`.
"""
