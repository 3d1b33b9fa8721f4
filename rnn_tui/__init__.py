"""rnn-tui: train recurrent networks on dynamical systems and watch them forecast, in the terminal,
or from Python:

    import rnn_tui
    cfg = rnn_tui.load_config("lorenz63_lstm", overrides={"train.epochs": 5})
    run = rnn_tui.train(cfg)                      # the run `rnn-tui train` makes, in a run folder
    run.summary.evaluation.vpt                    # the typed results; run.forecast.prediction: numpy
    t, x = rnn_tui.systems.trajectory("lorenz63", steps=2000)

`import rnn_tui` imports neither torch nor textual nor matplotlib: the public names (`load_config`,
`train`, `open_run`, `runs`, `Run`; rnn_tui/api/) are imported when first used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# Public name -> the module that defines it. Every module of the package imports this one first (for
# __version__), so the API, which sits above the core, is looked up by name on first use, never
# imported here.
_PUBLIC = {"load_config": "rnn_tui.api", "train": "rnn_tui.api", "open_run": "rnn_tui.api", "runs": "rnn_tui.api",
           "Run": "rnn_tui.api", "systems": "rnn_tui.systems"}

__all__ = ["__version__", *_PUBLIC]

# Type checkers and editors read the names' types from __init__.pyi beside this file.


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'rnn_tui' has no attribute {name!r}")
    loaded = importlib.import_module(module)
    value = loaded if name == "systems" else getattr(loaded, name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
