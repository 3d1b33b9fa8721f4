"""The dysts systems where dysts is not installed (the default suite): one line naming the extra, exit
2; and, on a small stand-in catalogue in dysts' own format, the did-you-mean, the one-line refusals
and the typed parameters. The real catalogue is tested in tests/test_dysts.py (-m dysts, .ci/dysts.sh)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from rnn_tui.errors import UserError
from rnn_tui.systems import dysts_catalogue as dc
from rnn_tui.systems import dysts_flow, get_system

# Run rnn-tui with the import of dysts blocked, as on a machine without the extra (the shared venv has it).
WITHOUT_DYSTS = "import sys; sys.modules['dysts'] = None; from rnn_tui.cli import main; sys.exit(main(sys.argv[1:]))"


def rnn_tui_without_dysts(*args, cwd=None):
    return subprocess.run([sys.executable, "-c", WITHOUT_DYSTS, *map(str, args)], capture_output=True, text=True, cwd=cwd)


def test_without_dysts_a_dysts_system_is_one_line_naming_the_extra(tmp_path):
    result = rnn_tui_without_dysts("data", "dysts:Rossler", "--steps", 5, "--out", tmp_path / "r.csv")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["rnn-tui: error: the dysts systems need the dysts package: pip install 'rnn-tui[dysts]'"]
    assert not (tmp_path / "r.csv").exists()
    train = rnn_tui_without_dysts("train", "--preset", "lorenz63_esn", "--set", "system.name=dysts:Rossler", "--out", tmp_path / "run", cwd=tmp_path)
    assert train.returncode == 2 and len(train.stderr.strip().splitlines()) == 1 and "rnn-tui[dysts]" in train.stderr


def test_without_dysts_the_list_says_how_to_get_the_catalogue():
    result = rnn_tui_without_dysts("data", "--list")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        "dysts:NAME (flow): the 135 flows of the dysts catalogue (Gilpin 2021); not installed: pip install 'rnn-tui[dysts]'")
    only = rnn_tui_without_dysts("data", "--list", "--dysts")
    assert only.returncode == 2 and "pip install 'rnn-tui[dysts]'" in only.stderr


def test_without_dysts_bench_dysts_names_the_extra():
    result = rnn_tui_without_dysts("bench", "dysts", "--systems", 2)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["rnn-tui: error: the dysts systems need the dysts package: pip install 'rnn-tui[dysts]'"]


def _entry(**over):
    base = {"citation": "A. Author (2000). A flow.", "description": "A test flow.", "dt": 0.001, "period": 2.0,
            "initial_conditions": [1.0, 2.0, 3.0], "maximum_lyapunov_estimated": 0.5,
            "lyapunov_spectrum_estimated": [0.6, 0.0, -5.0], "kaplan_yorke_dimension": 2.1, "correlation_dimension": 2.0,
            "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0], "delay": False, "nonautonomous": False, "unbounded_indices": [],
            "parameters": {"a": 0.2, "b": 0.2, "c": 5.7}}
    return {**base, **over}


@pytest.fixture
def small_catalogue(tmp_path, monkeypatch):
    """A catalogue of four flows in chaotic_attractors.json's format, in place of dysts' own."""
    path = tmp_path / "chaotic_attractors.json"
    path.write_text(json.dumps({"Rossler": _entry(), "HyperRossler": _entry(initial_conditions=[1.0, 1.0, 1.0, 1.0]),
                                "MackeyGlass": _entry(delay=True), "Duffing": _entry(nonautonomous=True, unbounded_indices=[2]),
                                "Hopfield": _entry(parameters={"k": [[1.0, 2.0], [3.0, 4.0]], "tau": 2.5})}))
    monkeypatch.setattr(dc, "installed", lambda: True)
    monkeypatch.setattr(dc, "_data_path", lambda: path)
    for cached in (dc.catalogue, dysts_flow.system):
        cached.cache_clear()
    yield
    for cached in (dc.catalogue, dysts_flow.system):
        cached.cache_clear()


@pytest.mark.parametrize("name, message", [
    ("dysts:Rosler", "unknown dysts system 'dysts:Rosler' (did you mean 'dysts:Rossler', 'dysts:HyperRossler'?); "
                     "`rnn-tui data --list --dysts` lists the 5"),
    ("dysts:rossler", "unknown dysts system 'dysts:rossler' (did you mean 'dysts:Rossler', 'dysts:HyperRossler'?)"),
    ("dysts:Qwerty", "unknown dysts system 'dysts:Qwerty'; `rnn-tui data --list --dysts` lists the 5"),
    ("Rossler", "unknown system 'Rossler' (did you mean 'dysts:Rossler', 'dysts:HyperRossler'?); valid: sine,"),
    ("dysts:MackeyGlass", "dysts:MackeyGlass is not supported: a delay differential equation (its state is a history)"),
    ("dysts:Duffing", "dysts:Duffing is not supported: non-autonomous (forced in time"),
])
def test_did_you_mean_and_refusals_are_one_line(small_catalogue, name, message):
    with pytest.raises(UserError) as exc:
        get_system(name)
    assert str(exc.value).startswith(message) and "\n" not in str(exc.value)


def test_a_catalogue_flow_has_typed_parameters_and_the_catalogue_facts(small_catalogue):
    s = get_system("dysts:Rossler")
    assert (s.kind, s.dt, s.lyapunov, s.period) == ("flow", 2.0 / 100, 0.5, 2.0)
    assert s.lyapunov_source == "dysts 0.96 catalogue, maximum_lyapunov_estimated" and s.lyapunov_source in s.doc
    assert s.defaults() == {"a": 0.2, "b": 0.2, "c": 5.7, "spinup": 0.0}
    assert "dysts gives no bounds" in s.fields["a"].description and "A. Author (2000)" in s.doc
    assert s.check("c", "6.5") == 6.5
    assert s.lyapunov_for({"c": 6.5}) is None and s.lyapunov_for({"spinup": 3.0}) == 0.5  # λ1 holds at the catalogue's parameters
    with pytest.raises(UserError, match=r"unknown parameter 'd' for system 'dysts:Rossler' \(did you mean 'a'\?\)|unknown parameter 'd'"):
        s.resolve({"d": 1.0})
    with pytest.raises(UserError, match="parameter 'a' needs a number"):
        s.resolve({"a": "x"})
    hop = get_system("dysts:Hopfield")
    assert list(hop.fields) == ["tau", "spinup"] and "array parameters k fixed at the catalogue's" in hop.doc
    assert dc.names() == ["dysts:Duffing", "dysts:Hopfield", "dysts:HyperRossler", "dysts:MackeyGlass", "dysts:Rossler"]
    assert dc.names(usable_only=True) == ["dysts:Hopfield", "dysts:HyperRossler", "dysts:Rossler"]


def test_a_trajectory_far_off_the_catalogue_attractor_is_refused(small_catalogue):
    e = dc.entry("dysts:Rossler")  # mean 0, std 1
    dysts_flow._check_bounded(e, np.array([[1.0, -2.0, 900.0]]))
    with pytest.raises(UserError, match=r"^dysts:Rossler: the trajectory blows up with these parameters \(a state 1e\+04 catalogue"):
        dysts_flow._check_bounded(e, np.array([[1.0, 2.0, 3.0], [0.0, 1e4, 0.0]]))
    with pytest.raises(UserError, match="blows up"):
        dysts_flow._check_bounded(e, np.array([[np.nan, 0.0, 0.0]]))


def test_listing_and_naming_systems_never_import_dysts():
    """The catalogue is read from dysts' JSON file; dysts itself (gluonts, pandas) only when a trajectory is made."""
    code = ("import sys; from rnn_tui.commands.data import list_systems; from rnn_tui.systems import system_docs; "
            "list_systems(); system_docs(); assert 'dysts' not in sys.modules and 'gluonts' not in sys.modules, 'imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
