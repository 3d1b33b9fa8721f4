"""Shared fixtures: keep user presets and runs inside the test's tmp folder."""

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    monkeypatch.setenv("RNN_TUI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "runs"))
