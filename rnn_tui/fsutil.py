"""The one way rnn-tui writes a file: atomically, through a temporary file in the same folder that
replaces the target only once complete (never a half-written file; on any failure the temporary
file is removed and an existing target is untouched). Torch- and numpy-free."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO, Callable


def atomic_write(path: str | Path, writer: Callable[[IO], object], mode: str = "w", **open_kw) -> None:
    """Call `writer(fh)` on a temporary file beside `path`, then rename it to `path`. An existing
    file keeps its permission bits; a new one gets the usual ones under the umask."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    perms = path.stat().st_mode & 0o777 if path.exists() else _default_mode()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, mode, **open_kw) as fh:
            writer(fh)
        os.chmod(tmp, perms)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _default_mode() -> int:
    """The mode a new file gets under the current umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
