"""Resumable training state: what a run of K >= 1 members needs to go on exactly where it stopped
(weights, optimiser and schedule state, each member's order of the training windows and record,
torch's random state, the counters and the weights kept by early stopping). Saved as state.pt beside
model.pt; `rnn-tui train --resume DIR` reads it. On the CPU with a fixed thread count, 5 epochs +
resume to 10 give the losses of 10 in one go, to the last digit (tests/test_resume.py), for one
model and for an ensemble.

The state is read back into a freshly built trainer of the same configuration through `restore`,
the one place that knows the trainer's counters; states written by earlier versions (one model's
and an ensemble's, before the two trainers were one) are read too.
"""

from __future__ import annotations

import copy
import dataclasses

import torch

from rnn_tui.core.members import Member

FORMAT = "rnn-tui/state-2"
OLD_FORMATS = ("rnn-tui/state-1", "rnn-tui/ensemble-state-1")  # one model's, an ensemble's (before state-2)
FORMATS = (FORMAT, *OLD_FORMATS)


def checkpoint(trainer) -> dict:
    """The trainer's state after its last epoch, taken before the members still training are marked
    finished and before early stopping's best weights are put back (a resumed run goes on from the
    weights it ended with)."""
    last = trainer.history[-1].epoch if trainer.history else trainer.first_epoch - 1
    return {
        "format": FORMAT,
        "epoch": last,
        "batched": trainer.batched,
        "members": [{k: v for k, v in dataclasses.asdict(m).items() if k not in Member.TRANSIENT} for m in trainer.members],
        "model": copy.deepcopy(trainer.model.state_dict()),
        "optimizer": trainer.opt.state_dict(),
        "schedules": trainer.schedules.state_dict(),
        "generators": [g.get_state() for g in trainer.gens],
        "best": dict(trainer.best.kept),
        "torch_rng": torch.get_rng_state(),
        "train_time_s": trainer.train_seconds(),
    }


def restore(trainer, state: dict) -> None:
    """Put a checkpoint back into a freshly built trainer of the same configuration."""
    from rnn_tui.errors import UserError

    if not trainer.runner.optimises:
        raise UserError("--resume: a closed-form run has nothing to go on with (its fit is one step)")
    state = upgrade(trainer, state)
    trainer.model.load_state_dict(state["model"])
    trainer.members = [Member(**m) for m in state["members"]]
    trainer.opt.load_state_dict(state["optimizer"])
    trainer.schedules.load_state_dict(state["schedules"], trainer.epochs * trainer.steps_per_epoch)
    for g, s in zip(trainer.gens, state["generators"]):
        g.set_state(s)
    trainer.best.kept = dict(state["best"]) if trainer.best.enabled else {}
    for j, m in enumerate(trainer.members):
        if not m.training:
            trainer.runner.freeze(j)
    torch.set_rng_state(state["torch_rng"])
    trainer.first_epoch = int(state["epoch"]) + 1
    trainer.batched = int(state["batched"])
    trainer.earlier_train_s = float(state["train_time_s"])


def upgrade(trainer, state: dict) -> dict:
    """A state of an earlier format as a state-2 one."""
    if state["format"] == "rnn-tui/state-1":  # one model: its record was the trainer's own
        member = Member(trainer.members[0].seed, steps=int(state["step"]), epochs_run=int(state["epoch"]),
                        best_val=float(state["best_val"]), since_best=int(state["since_best"]))
        return {**state, "batched": state["step"], "members": [dataclasses.asdict(member)],
                "schedules": {"schedule": state["schedule"]}, "generators": [state["generator"]],
                "best": {0: state["best_state"]} if state.get("best_state") is not None else {}}
    if state["format"] == "rnn-tui/ensemble-state-1":  # best weights as rows of the stacked parameter
        members = [{k: v for k, v in m.items() if k != "has_best"} for m in state["members"]]
        best = {}
        if state.get("best_rows") is not None:
            saved = trainer.model.flat.detach().clone()
            with torch.no_grad():
                trainer.model.flat.copy_(state["best_rows"])
                best = {j: trainer.model.member_state(j) for j, m in enumerate(state["members"]) if m.get("has_best")}
                trainer.model.flat.copy_(saved)
        return {**state, "batched": state["step"], "members": members, "best": best}
    return state
