"""The one error type a user sees: a clear, one-line message and exit status 2, never a traceback."""


class UserError(Exception):
    """Bad input from the user (a value, a key, a file). The message is one line that names the problem."""

    exit_code = 2


def closest(name: str, valid) -> str:
    """A ' (did you mean X?)' hint for an unknown name, or '' when nothing is close."""
    import difflib

    match = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.5)
    return f" (did you mean {match[0]!r}?)" if match else ""
