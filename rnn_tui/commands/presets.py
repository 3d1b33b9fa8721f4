"""`rnn-tui presets`: list the shipped presets, one line each."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("presets", help="list the shipped presets", description="List the shipped presets with one line each.")
    p.set_defaults(func=run)


def run(args) -> int:
    from rnn_tui.config import list_presets

    presets = list_presets()
    width = max((len(n) for n in presets), default=0)
    for name, doc in presets.items():
        print(f"{name:<{width}}  {doc}")
    return 0
