"""Hyperparameter sweeps on Optuna: a search space of settings (space), one trial = one run in the
run library (trial), the loop a worker process runs until the study holds N trials (worker), and the
study in its storage (study): an SQLite file in the runs folder by default, or any database URL
Optuna takes, so that many machines can work on one study."""
