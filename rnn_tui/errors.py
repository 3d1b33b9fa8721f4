"""The one error type a user sees: a clear, one-line message and exit status 2, never a traceback."""

from __future__ import annotations


class UserError(Exception):
    """Bad input from the user (a value, a key, a file). The message is one line that names the problem.

    `key` is the dotted setting at fault ("model.hidden_size") where there is one, else "": the
    configuration panel marks that field without reading the message.
    """

    exit_code = 2

    def __init__(self, message: str, key: str = "") -> None:
        super().__init__(message)
        self.key = key


class Stopped(Exception):
    """A long loop (a reservoir run, a free run) saw the run's stop flag set and gave up."""


STOP_EVERY = 64  # steps of a long loop between looks at the stop flag


def check_stop(stop, step: int) -> None:
    """Raise Stopped every STOP_EVERY steps once `stop` (a threading.Event, or None) is set."""
    if stop is not None and step % STOP_EVERY == 0 and stop.is_set():
        raise Stopped


def closest(name: str, valid) -> str:
    """A ' (did you mean X?)' hint for an unknown name, or '' when nothing is close."""
    import difflib

    match = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.5)
    return f" (did you mean {match[0]!r}?)" if match else ""
