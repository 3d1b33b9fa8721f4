"""rnn-tui from Python: the public API (`import rnn_tui` gives these names, imported on first use).

    import rnn_tui
    cfg = rnn_tui.load_config("lorenz63_lstm", overrides={"train.epochs": 5})
    run = rnn_tui.train(cfg)
    t, truth, pred = run.forecast.t, run.forecast.truth, run.forecast.prediction
"""

from rnn_tui.api.run import Run
from rnn_tui.api.training import load_config, open_run, runs, train

__all__ = ["Run", "load_config", "open_run", "runs", "train"]
