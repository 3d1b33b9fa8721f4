"""The core never imports the screen libraries, and the CLI's start-up never imports torch."""

import subprocess
import sys

import pytest

CORE = [
    "rnn_tui.config",
    "rnn_tui.systems",
    "rnn_tui.core.data",
    "rnn_tui.core.trainer",
    "rnn_tui.core.rollout",
    "rnn_tui.core.metrics",
    "rnn_tui.core.evaluate",
    "rnn_tui.core.runio",
    "rnn_tui.models.registry",
    "rnn_tui.models.base",
    "rnn_tui.commands.train",
    "rnn_tui.commands.data",
]


def _loaded_after(module: str, names: list[str]) -> list[str]:
    code = f"import sys, {module}; print(' '.join(n for n in {names!r} if n in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.split()


@pytest.mark.parametrize("module", CORE)
def test_core_module_does_not_import_screen_libraries(module):
    assert _loaded_after(module, ["textual", "plotext", "textual_plotext"]) == []


@pytest.mark.parametrize("module", ["rnn_tui.cli", "rnn_tui.config", "rnn_tui.systems", "rnn_tui.models.registry", "rnn_tui.commands.data"])
def test_light_modules_do_not_import_torch(module):
    assert _loaded_after(module, ["torch"]) == []


def test_help_does_not_import_torch_or_textual():
    code = (
        "import sys\n"
        "from rnn_tui.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('LOADED', ' '.join(n for n in ('torch', 'textual', 'scipy') if n in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "usage: rnn-tui" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "LOADED"


def test_the_public_api_imports_neither_torch_nor_screens_nor_matplotlib():
    """`import rnn_tui` and a configuration from it stay light: torch comes with training or a model,
    matplotlib with a figure."""
    heavy = ["torch", "textual", "matplotlib", "plotext"]
    assert _loaded_after("rnn_tui", heavy + ["rnn_tui.api"]) == []
    code = ("import sys, rnn_tui\n"
            "cfg = rnn_tui.load_config('lorenz63_lstm', overrides={'train.epochs': 2})\n"
            "assert cfg.train.epochs == 2 and callable(rnn_tui.train) and rnn_tui.Run.__name__ == 'Run'\n"
            f"print(' '.join(n for n in {heavy!r} if n in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == []
