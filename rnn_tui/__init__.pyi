# The public API as type checkers see it (at run time, rnn_tui/__init__.py imports these on first use).
from rnn_tui import systems as systems
from rnn_tui.api import Run as Run
from rnn_tui.api import load_config as load_config
from rnn_tui.api import open_run as open_run
from rnn_tui.api import runs as runs
from rnn_tui.api import train as train

__version__: str
__all__: list[str]
