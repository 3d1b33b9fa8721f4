"""The README's "From Python" example runs as written (the first python block under that heading)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def python_block(heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split(f"### {heading}\n", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_from_python_example_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = python_block("From Python")
    assert "rnn_tui.train(" in code and "forecast_from" in code
    exec(compile(code, str(README), "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 5 and [line.split()[0] for line in out[:3]] == ["1", "2", "3"]  # on_epoch: epoch, val_loss
    assert out[3].startswith("finished ") and out[4].startswith("['sine-from-python'] ")
    assert (tmp_path / "runs" / "sine-from-python" / "rollout.csv").is_file()
