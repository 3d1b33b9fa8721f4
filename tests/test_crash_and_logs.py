"""Unexpected errors leave a crash report and one line; the log tells what a user may read later."""

import logging

from rnn_tui.cli import main

FAST = ["--preset", "sine_rnn", "--set", "train.epochs=2", "--set", "model.hidden_size=8", "--set", "train.threads=1",
        "--set", "system.steps=300", "--set", "rollout.horizon=20", "--set", "train.device=cpu"]  # the CPU path, on any machine


def _boom(self):
    raise RuntimeError("something inside broke\nsecond line of the error")


def test_a_bug_during_training_writes_a_report_in_the_run_folder(tmp_path, monkeypatch, capsys):
    from rnn_tui.core import trainer

    monkeypatch.setattr(trainer.Trainer, "_epochs", _boom)
    out = tmp_path / "run"
    code = main(["train", *FAST, "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 1 and err[0].startswith("rnn-tui: error: unexpected RuntimeError: something inside broke (full report: ")
    reports = list(out.glob("crash-*.txt"))
    assert len(reports) == 1 and str(reports[0]) in err[0]
    text = reports[0].read_text()
    assert "Traceback" in text and "second line of the error" in text and "_boom" in text
    assert "[train]" in text and "epochs = 2" in text  # the configuration of the run
    assert (out / "config.toml").is_file() and (out / "metrics.jsonl").is_file()  # what was written stays


def test_a_bug_before_the_run_folder_exists_reports_to_the_data_folder(tmp_path, monkeypatch, capsys):
    from rnn_tui.core import trainer

    def broken_prepare(*a, **k):
        raise ValueError("bad shape")

    monkeypatch.setattr(trainer, "prepare", broken_prepare)
    code = main(["train", *FAST, "--out", str(tmp_path / "never"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and "unexpected ValueError: bad shape" in err
    assert not (tmp_path / "never").exists()
    reports = list((tmp_path / "home" / "crashes").glob("crash-*.txt"))  # RNN_TUI_HOME is tmp_path/home in tests
    assert len(reports) == 1 and "bad shape" in reports[0].read_text()


def test_log_level_info_tells_the_device_and_step_mode(tmp_path, capsys):
    code = main(["--log-level", "info", "train", *FAST, "--out", str(tmp_path / "r"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 0
    assert "INFO rnn_tui.core.trainer: training sine/rnn on cpu (eager (not on CUDA))" in err
    logging.getLogger("rnn_tui").handlers.clear()


def test_user_errors_are_not_crashes(tmp_path, capsys):
    assert main(["train", "--preset", "sine_rnn", "--set", "train.lr=-1", "--out", str(tmp_path / "r")]) == 2
    assert "crash" not in capsys.readouterr().err
    assert not (tmp_path / "home" / "crashes").exists()


def test_headless_progress_is_plain_lines_when_stderr_is_not_a_terminal():
    from rnn_tui.commands import progress

    assert type(progress.make()) is progress.LineProgress
    assert type(progress.make(quiet=True)) is progress.Quiet


def test_rich_progress_draws_a_bar_with_the_losses():
    import io

    from rich.console import Console

    from rnn_tui.commands import progress
    from rnn_tui.core import events as ev

    buf = io.StringIO()
    bar = progress.RichProgress(Console(file=buf, force_terminal=True, width=140))
    bar(ev.Started("cpu", 10, 100, 10, 4, 3, "eager (not on CUDA)", 1))
    bar(ev.EpochEnd(epoch=2, epochs=4, train_loss=1.5e-3, val_loss=2.5e-3, train_rmse_units=0.1, val_rmse_units=0.1,
                    grad_norm=0.1, grad_norms=(0.1,), lr=1e-3, elapsed_s=1.0, samples_per_s=1000.0, step=6, best_val_loss=2.5e-3))
    bar.close()
    out = buf.getvalue()
    assert "training on cpu, 1 thread" in out
    assert "2/4" in out and "train 1.500e-03" in out and "val 2.500e-03" in out
