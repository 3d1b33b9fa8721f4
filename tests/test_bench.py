"""The benchmarks run at a tiny size (so they cannot rot) and their JSON has the documented fields.
No test asserts a timing."""

import json
import subprocess
import sys

import pytest


def run(*args, tmp):
    out = tmp / "b.json"
    p = subprocess.run([sys.executable, "-m", "rnn_tui", "bench", *args, "--json", str(out)], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    return p.stdout, json.loads(out.read_text())


@pytest.mark.bench
def test_bench_speed_quick(tmp_path):
    table, res = run("speed", "--quick", "--device", "cpu", tmp=tmp_path)
    assert "ref steps/s" in table and "rollout" in table
    assert res["device"] == "cpu" and res["machine"]["cpus"] >= 1
    case = res["cases"][0]
    for who in ("reference", "ours", "app"):
        assert case[who]["steps_per_s"] > 0 and case[who]["samples_per_s"] > 0
    assert case["ours_vs_reference"] > 0 and case["app_vs_headless"] > 0
    assert [t["threshold_mse"] for t in res["time_to_accuracy"]] == [1e-4, 1e-5]
    assert res["time_to_accuracy"][0]["persistence_mse"] > 0
    two = res["two_at_once"]
    assert len(two["steps_per_s"]) == 2 and all(v > 0 for v in two["vs_alone"]) and "two runs at once" in table
    assert res["graph_vs_eager"] == [None] and "CUDA graph against eager" not in table  # CUDA only
    assert case["ours"]["step_mode"] == "eager (not on CUDA)"
    many = res["many_at_once"][0]  # K members batched against K separate runs (issue 14)
    assert many["members"] == 4 and many["batched"]["member_steps"] == many["separate"]["member_steps"] > 0
    assert many["speedup"] > 0 and "4 models at once" in table
    cost = res["inspect_cost"][0]  # train.inspect on against off (issue 24): probes within their time budget
    assert 2 <= cost["on"]["probes"] <= 4 and cost["off"]["probes"] == 0 and cost["on"]["steps"] == cost["off"]["steps"]
    assert cost["ratio"] > 0 and "train.inspect (sine lstm (tiny)" in table
    r = res["rollout"]
    assert r["ours_s_per_10k"] > 0 and r["refeed_s_per_10k"] > 0 and r["seq_len"] == 20
    assert res["startup"]["help_s"] > 0 and res["startup"]["first_frame_s"] > 0


@pytest.mark.bench
def test_bench_skill_quick(tmp_path):
    table, res = run("skill", "--quick", tmp=tmp_path)
    assert "published" in table and "Lotka-Volterra" in table
    rows = res["lorenz"]["rows"]
    assert {(r["model"], r["noise"]) for r in rows} == {(m, n) for m in ("mlp", "rk4", "lstm", "gru", "esn", "ngrc") for n in (0.0, 0.5)}
    rk4 = next(r for r in rows if r["model"] == "rk4" and r["noise"] == 0.5)
    assert rk4["published"] == [1e-6, 0.054, 0.14] and rk4["preset"] == "lorenz63_rk4_noisy"
    for r in rows:
        assert len(r["rmse"]) == 3 and r["vpt_lyapunov"]["lyapunov_exponent"] == 0.906
        assert (r["fit_seconds"] is not None) == (r["model"] in ("esn", "ngrc"))  # closed-form fits are timed
    fields = res["fields"]["rows"]
    assert [r["preset"] for r in fields] == ["lorenz96_esn", "lorenz96_ngrc", "lorenz96_convlstm", "ks_esn", "ks_ngrc", "ks_convlstm"]
    assert all(r["vpt_lyapunov"]["median"] >= 0 and r["vpt_lyapunov"]["truth_valid"] > 0 for r in fields)
    assert "truth valid to" in table
    lv = res["lotka_volterra"]["rows"]
    assert {(r["preset"], r["seq_len"]) for r in lv} == {(p, s) for p in ("lotka_volterra_rnn", "lotka_volterra_lstm") for s in (1, 10)}
    assert all(isinstance(r["stays_positive"], bool) and r["amplitude_error"] >= 0 for r in lv)
    assert set(res["kdv"]["relative_l2_at_frame"]) <= {"10", "50"}
    assert [r["preset"] for r in res["sines"]["rows"]] == ["sine_rnn", "sine_lstm", "noisy_sine_rnn"]


def test_bench_speed_on_cuda_without_a_gpu_is_one_clear_line():
    import pytest
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the error path cannot be reached")
    p = subprocess.run([sys.executable, "-m", "rnn_tui", "bench", "speed", "--device", "cuda"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert p.stderr.strip().count("\n") == 0 and "--device cuda" in p.stderr and "Traceback" not in p.stderr
