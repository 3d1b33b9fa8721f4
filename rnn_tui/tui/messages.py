"""Messages the training worker posts to the app. Epoch and rollout messages are only nudges: the
data lives in the run's log, so a newer nudge may replace a stale one still waiting in the queue."""

from __future__ import annotations

from textual.message import Message


class RunMessage(Message):
    """Base: every message names the run it belongs to, so messages from an old run are ignored."""

    def __init__(self, run_id: int) -> None:
        super().__init__()
        self.run_id = run_id


class RunStarted(RunMessage):
    """Data split and model built (core Started event)."""

    def __init__(self, run_id: int, device: str, n_params: int, epochs: int) -> None:
        super().__init__(run_id)
        self.device, self.n_params, self.epochs = device, n_params, epochs


class RolloutArrived(RunMessage):
    """A new free-running forecast is in the run's log. Replaceable: only the newest matters."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RolloutArrived) and message.run_id == self.run_id


class RunEnded(RunMessage):
    """The run finished, diverged, was cancelled (core Finished) or failed (core Failed / UserError)."""

    def __init__(self, run_id: int, status: str, message: str = "", summary: dict | None = None) -> None:
        super().__init__(run_id)
        self.status, self.message, self.summary = status, message, summary or {}
