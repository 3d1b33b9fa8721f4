"""The study in its storage: where it lives (an SQLite file in the runs folder unless --storage names
a database), what it is (the preset, settings, space and objective it was made with; joining it
with another is refused), how far it is (trials done, pruned, failed, running) and its leaderboard.

Trials that count towards a study's N: complete, pruned, and diverged (a diverged run is a result
of its settings). Trials that failed for another reason (interrupted, killed, a crash) do not: a
killed worker's trial is marked failed once its heartbeat is stale and is retried."""

from __future__ import annotations

import json
import math
import os
import re
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rnn_tui.errors import UserError

SPEC_ATTR = "rnn_tui_spec"
RDB_SCHEMES = ("sqlite", "postgresql", "mysql", "oracle", "mssql")


def quiet() -> None:
    """Optuna logs each trial (a failed one with its traceback) and warns that heartbeats are
    experimental: the sweep's progress line and table say what happened instead."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def default_storage(runs: Path) -> str:
    return f"sqlite:///{(runs / 'sweeps.db').resolve()}"


def redact(url: str) -> str:
    """The URL without its password, for messages and run folders."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


@dataclass(frozen=True)
class Spec:
    """What a study is: trials of different specs must not be ranked together."""

    source: str  # "preset sine_rnn" or "file path.toml"
    sets: tuple[str, ...]
    params: tuple[str, ...]
    objective: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    def describe(self) -> str:
        sets = "".join(f" --set {s}" for s in self.sets)
        params = "".join(f" --param {p}" for p in self.params)
        return f"{self.source}{sets}{params} --objective {self.objective}"


def open_storage(url: str, heartbeat: int):
    """An Optuna RDB storage with heartbeats (a killed worker's trial is failed after 3 beats) and a
    retry of such trials; UserError with one line when the database cannot be reached."""
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

    scheme = url.split(":", 1)[0].split("+", 1)[0]
    if scheme not in RDB_SCHEMES:
        raise UserError(f"--storage {redact(url)}: not a database URL Optuna takes (sqlite:///FILE, postgresql://…, mysql://…)")
    if scheme == "sqlite":
        _sqlite_folder(url)
    engine = {"connect_args": {"timeout": 60}} if scheme == "sqlite" else {"pool_pre_ping": True}
    try:
        for attempt in range(5):
            try:
                return RDBStorage(url, engine_kwargs=engine, heartbeat_interval=heartbeat, grace_period=3 * heartbeat,
                                  heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=3))
            except Exception as exc:  # noqa: BLE001
                # Workers started at once on a new database race to create Optuna's tables: the
                # loser sees "duplicate key" or "already exists" and finds them made on a retry.
                text = str(exc)
                if attempt == 4 or not ("duplicate key" in text or "already exists" in text):
                    raise
                time.sleep(0.3 * (attempt + 1))
    except (ImportError, ModuleNotFoundError):
        hint = "pip install 'rnn-tui[postgres]'" if scheme == "postgresql" else f"install the Python driver for {scheme}"
        raise UserError(f"--storage {redact(url)}: its database driver is not installed ({hint})") from None
    except Exception as exc:  # sqlalchemy's connection errors, bad URLs  # noqa: BLE001
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"--storage {redact(url)}: cannot open it: {first}") from None


def _sqlite_folder(url: str) -> None:
    """An SQLite storage is a file: refuse an in-memory one (workers and the table could not share it)
    and make its folder, in one line naming the storage where that cannot be done."""
    path = url.split(":///", 1)[1] if ":///" in url else ""
    path = path.split("?", 1)[0]
    if not path or path == ":memory:":
        raise UserError(f"--storage {redact(url)}: an SQLite storage needs a file (sqlite:///FILE); an in-memory "
                        "database is not shared by the workers and is gone when the sweep ends")
    folder = Path(path).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise UserError(f"--storage {redact(url)}: cannot create its folder {folder}: a file is in the way") from None
    except OSError as exc:
        raise UserError(f"--storage {redact(url)}: cannot create its folder {folder}: {exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"--storage {redact(url)}: its folder {folder} is not writable")
    if Path(path).is_dir():
        raise UserError(f"--storage {redact(url)}: {path} is a folder; name the database file in it (…/sweeps.db)")


def create_or_join(storage, name: str, spec: Spec, direction: str):
    """The study `name`: made with `spec`, or joined when it exists with the same spec."""
    import optuna

    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        study = optuna.create_study(study_name=name, storage=storage, direction=direction, load_if_exists=True)
        if SPEC_ATTR not in study.user_attrs:
            study.set_user_attr(SPEC_ATTR, spec.to_json())
    theirs = study.user_attrs.get(SPEC_ATTR)
    if theirs is not None and theirs != spec.to_json():
        old = Spec(**{k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(theirs).items()})
        raise UserError(f"study {name!r} was made with `{old.describe()}`; give this sweep another --study NAME")
    return study


def load(storage, name: str):
    import optuna

    try:
        return optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
        have = f"; studies there: {', '.join(names)}" if names else "; the storage holds no study"
        raise UserError(f"no study {name!r} in this storage{have}") from None


def spec_of(study) -> Spec | None:
    raw = study.user_attrs.get(SPEC_ATTR)
    if raw is None:
        return None
    return Spec(**{k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(raw).items()})


SURPLUS_REASON = "not needed"  # the reason trial.py gives a trial beyond the study's N places


@dataclass
class Counts:
    complete: int = 0
    pruned: int = 0
    diverged: int = 0
    failed: int = 0  # interrupted, killed or crashed: not counted, retried or sampled again
    running: int = 0
    waiting: int = 0  # retries queued
    surplus: int = 0  # lost the race for the last place (trial.py): never trained, not a failure

    def failed_text(self) -> str:
        """'1 failed' (and ', 1 not needed' where a worker's last trial was not needed)."""
        return f"{self.failed} failed" + (f", {self.surplus} not needed" if self.surplus else "")

    @property
    def done(self) -> int:
        return self.complete + self.pruned + self.diverged


def counts(trials) -> Counts:
    from optuna.trial import TrialState

    c = Counts()
    for t in trials:
        if t.state == TrialState.COMPLETE:
            c.complete += 1
        elif t.state == TrialState.PRUNED:
            c.pruned += 1
        elif t.state == TrialState.FAIL:
            if t.user_attrs.get("diverged"):
                c.diverged += 1
            elif str(t.user_attrs.get("reason", "")).startswith(SURPLUS_REASON):
                c.surplus += 1
            else:
                c.failed += 1
        elif t.state == TrialState.RUNNING:
            c.running += 1
        elif t.state == TrialState.WAITING:
            c.waiting += 1
    return c


def counted(t) -> bool:
    """Whether a trial holds one of the study's N places (finished, or running and maybe finishing)."""
    from optuna.trial import TrialState

    return t.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING) or (
        t.state == TrialState.FAIL and bool(t.user_attrs.get("diverged")))


@dataclass
class Row:
    rank: int | None
    number: int
    state: str  # complete, pruned, diverged, failed, running, waiting
    value: float | None
    params: dict = field(default_factory=dict)
    run: str = ""  # the run folder's id
    note: str = ""  # why it failed, or where it was pruned


def rows(study) -> list[Row]:
    """Every trial, the complete ones first, best first (ranked), then the others by number."""
    from optuna.trial import TrialState

    sign = -1.0 if study.direction == optuna_direction("maximize") else 1.0
    out = []
    for t in study.get_trials(deepcopy=False):
        state = {TrialState.FAIL: "failed"}.get(t.state, t.state.name.lower())
        if t.state == TrialState.FAIL and t.user_attrs.get("diverged"):
            state = "diverged"
        value = t.value if t.state == TrialState.COMPLETE and t.value is not None and math.isfinite(t.value) else None
        note = t.user_attrs.get("reason", "")
        if t.state == TrialState.PRUNED and t.last_step is not None:
            note = f"pruned after epoch {t.last_step}"
        out.append(Row(None, t.number, state, value, dict(t.params), Path(t.user_attrs.get("run", "")).name, note))
    ranked = sorted((r for r in out if r.value is not None), key=lambda r: sign * r.value)
    for i, r in enumerate(ranked, 1):
        r.rank = i
    others = sorted((r for r in out if r.value is None), key=lambda r: r.number)
    return ranked + others


def optuna_direction(name: str):
    from optuna.study import StudyDirection

    return StudyDirection.MAXIMIZE if name == "maximize" else StudyDirection.MINIMIZE


def best(study):
    """The best complete trial, or None."""
    ranked = [r for r in rows(study) if r.rank == 1]
    return ranked[0] if ranked else None
