"""Resumable state of an ensemble run (train.ensemble = K > 1), as core/resume.py is for one run:
the stacked weights, every member's own record (status, steps, early-stopping record), the batched
optimiser's moments, each member's learning-rate schedule and order of the training windows, the
random state and the counters. Saved as state.pt; `rnn-tui train --resume DIR` reads it. On the CPU
with a fixed thread count, 2 epochs + resume to 4 give the losses of 4 in one go to the last digit
(tests/test_resume.py)."""

from __future__ import annotations

import copy
import dataclasses

import torch

FORMAT = "rnn-tui/ensemble-state-1"
TRANSIENT = ("epoch_losses", "epoch_norms")  # a member's current epoch, empty between epochs


def checkpoint(trainer) -> dict:
    """The ensemble trainer's state after its last epoch, taken before the members still training are
    marked finished and before early stopping's best weights are put back."""
    last = trainer.history[-1].epoch if trainer.history else trainer.first_epoch - 1
    return {
        "format": FORMAT,
        "epoch": last,
        "step": trainer.step,
        "members": [{k: v for k, v in dataclasses.asdict(m).items() if k not in TRANSIENT} for m in trainer.members],
        "model": copy.deepcopy(trainer.model.state_dict()),
        "optimizer": trainer.opt.state_dict(),
        "schedules": trainer.schedules.state_dict(),
        "generators": [g.get_state() for g in trainer.gens],
        "best_rows": trainer.best_rows.clone() if trainer.best_rows is not None else None,
        "torch_rng": torch.get_rng_state(),
        "train_time_s": trainer.train_seconds(),
    }


def restore(trainer, state: dict) -> None:
    """Put a checkpoint back into a freshly built ensemble trainer of the same configuration."""
    from rnn_tui.ensemble.members import Member

    trainer.model.load_state_dict(state["model"])
    trainer.members = [Member(**m) for m in state["members"]]
    trainer.opt.load_state_dict(state["optimizer"])
    trainer.schedules.load_state_dict(state["schedules"], trainer.epochs * trainer.steps_per_epoch)
    for g, s in zip(trainer.gens, state["generators"]):
        g.set_state(s)
    if trainer.best_rows is not None and state["best_rows"] is not None:
        trainer.best_rows.copy_(state["best_rows"])
    torch.set_rng_state(state["torch_rng"])
    trainer.first_epoch = int(state["epoch"]) + 1
    trainer.step = int(state["step"])
    trainer.earlier_train_s = float(state["train_time_s"])
