"""Resumable training state: what a run needs to go on exactly where it stopped (weights, optimiser
and schedule state, the order of the training windows, torch's random state, the counters and the
early-stopping record). Saved as state.pt beside model.pt; `rnn-tui train --resume DIR` reads it.
On the CPU with a fixed thread count, 5 epochs + resume to 10 give the losses of 10 in one go, to
the last digit (tests/test_resume.py)."""

from __future__ import annotations

import copy

import torch

FORMAT = "rnn-tui/state-1"


def checkpoint(trainer) -> dict:
    """The trainer's state after its last epoch (before the best weights of early stopping are put
    back: a resumed run goes on from the weights it ended with)."""
    last = trainer.history[-1].epoch if trainer.history else trainer.first_epoch - 1
    return {
        "format": FORMAT,
        "epoch": last,
        "step": trainer.step,
        "best_val": trainer.best_val,
        "since_best": trainer.since_best,
        "best_state": trainer.best_state,
        "model": copy.deepcopy(trainer.model.state_dict()),
        "optimizer": trainer.opt.state_dict() if trainer.opt is not None else None,
        "schedule": trainer.schedule.sched.state_dict() if trainer.schedule is not None and trainer.schedule.sched is not None else None,
        "generator": trainer.gen.get_state(),
        "torch_rng": torch.get_rng_state(),
        "train_time_s": trainer.train_seconds(),
    }


def restore(trainer, state: dict) -> None:
    """Put a checkpoint back into a freshly built trainer of the same configuration."""
    trainer.model.load_state_dict(state["model"])
    if trainer.opt is not None and state["optimizer"] is not None:
        trainer.opt.load_state_dict(state["optimizer"])
    sched = trainer.schedule.sched if trainer.schedule is not None else None
    if sched is not None and state["schedule"] is not None:
        sched.load_state_dict(state["schedule"])
        if hasattr(sched, "T_max"):  # cosine: anneal over the new total
            sched.T_max = max(1, trainer.epochs * trainer.steps_per_epoch)
    trainer.gen.set_state(state["generator"])
    torch.set_rng_state(state["torch_rng"])
    trainer.first_epoch = int(state["epoch"]) + 1
    trainer.step = int(state["step"])
    trainer.best_val, trainer.since_best = float(state["best_val"]), int(state["since_best"])
    trainer.best_state = state["best_state"]
    trainer.earlier_train_s = float(state["train_time_s"])
