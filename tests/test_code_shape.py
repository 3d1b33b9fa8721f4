"""The shape of the code, checked: the import graph between rnn_tui's packages and top-level modules
has no cycle and every arrow points down the layers below; no function is longer than 60 lines; and
a function-local import of the project's own modules says why it is local (it keeps torch, textual,
optuna or another heavy library out of a light start-up, or it is the lazy `build` of an
architecture). Read from the source with `ast`, nothing imported."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "rnn_tui"

# Groups (packages, and the top-level modules) from the bottom up: a group may import only groups
# before it. The core never reaches the front ends; the front ends share the core.
ORDER = ("rnn_tui", "errors", "settings", "paths", "fsutil", "work", "logs", "csvio", "systems", "climate", "kernels", "inside", "models",
         "budget", "config", "crash", "core", "lessons", "api", "figures", "sweep", "bench", "serve", "tui", "commands", "cli", "__main__")
MAX_FUNCTION_LINES = 60


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(p): p for p in sorted(ROOT.rglob("*.py"))}


def group(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _imports(module: str, path: Path):
    """(imported rnn_tui module, the import node, whether it is inside a function) for every import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    local = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
             for n in ast.walk(f) if isinstance(n, (ast.Import, ast.ImportFrom))}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
            prefix = ".".join(base[: len(base) - node.level + 1] + ([node.module] if node.module else [])) if node.level else node.module or ""
            names = [prefix] + [f"{prefix}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            if name in MODULES and name != module:
                yield name, node, id(node) in local


def edges() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        for target, _, _ in _imports(module, path):
            if group(target) != group(module):
                out.setdefault(group(module), set()).add(group(target))
    return out


def test_every_group_is_placed_in_the_layers():
    assert {group(m) for m in MODULES} == set(ORDER)


def test_imports_between_packages_point_down_the_layers_only():
    """An arrow up the layers (the core importing a front end, the CLI imported by a command) is
    what makes a cycle between packages: none is allowed."""
    wrong = sorted(f"{a} -> {b}" for a, targets in edges().items() for b in targets if ORDER.index(b) >= ORDER.index(a))
    assert wrong == []


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [node, nxt] if nxt in path else [node, nxt]
            if nxt not in state and (found := visit(nxt, path + [node])):
                return found
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node, [])):
            return found
    return None


def test_the_cycle_check_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) is not None
    assert _cycle({"a": {"b"}, "b": {"c"}}) is None


def test_no_cycle_between_packages():
    assert _cycle(edges()) is None


# Why a function-local import of a project module may stay local (the comment on its line or the
# line before says which, in these words): these modules import torch, textual, optuna, scipy or
# matplotlib at their top, and the command or module importing them must start without them.
LOCAL_REASONS = ("torch", "textual", "optuna", "scipy", "matplotlib", "lazy", "heavy", "start-up", "startup")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_functions_are_at_most_60_lines(module):
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    long = [f"{n.name} ({n.end_lineno - n.lineno + 1} lines)" for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno - n.lineno + 1 > MAX_FUNCTION_LINES]
    assert long == []
