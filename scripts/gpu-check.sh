#!/usr/bin/env bash
# The GPU measurement of rnn-tui (issue 14), from a plain checkout on a CUDA machine whose Python has
# torch, numpy and scipy but no textual (no install, no network): the package runs from the checkout.
# It extends ../shared/gpu-check.sh with what that left out:
#   - `rnn-tui bench speed --device cuda`, which on CUDA adds the graphed-against-eager row (the same
#     case with train.cuda_graph = false) and runs its "16 models at once" rows on the device;
#   - every preset's step mode on CUDA: "cuda-graph" when the captured step passed its self-check
#     against an eager step, else "eager (reason)";
#   - a markdown table of the figures for docs/benchmarks.md ($OUT/gpu-table.md).
# Usage: bash scripts/gpu-check.sh [cuda|cpu]; a quick dry run of the script itself on the CPU:
#   BENCH_ARGS=--quick PRESETS=sine_rnn bash scripts/gpu-check.sh cpu
set -u
dev=${1:-cuda}
out=${OUT:-gpu-check-out}
mkdir -p "$out"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export RNN_TUI_HOME="$out/home"
py=${PYTHON:-python3}
step() { echo; echo "== $*"; }

step "device"
$py -c "import torch; print('torch', torch.__version__); print('cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '-')"

step "rnn-tui bench speed --device $dev (graphed against eager, 16 models at once)"
timeout "${BENCH_TIMEOUT:-420}" $py -m rnn_tui bench speed ${BENCH_ARGS:-} --device "$dev" --no-app --json "$out/bench_speed_$dev.json" 2>&1 | tail -25

for p in ${PRESETS:-sine_rnn lorenz63_lstm lorenz63_rk4 kdv_convlstm}; do
  step "train $p on $dev"
  timeout 300 $py -m rnn_tui train --preset "$p" --set train.device="$dev" --out "$out/$p" --force --quiet 2>&1 | tail -3
done

step "table"
$py - "$out" "$dev" <<'PY' | tee "$out/gpu-table.md"
import json, os, sys
out, dev = sys.argv[1], sys.argv[2]
def load(path):
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError) as exc:
        return {"error": str(exc)}
b = load(os.path.join(out, f"bench_speed_{dev}.json"))
print(f"| figure (device {b.get('device', dev)}) | value |")
print("|---|---|")
for c in b.get("cases", []):
    print(f"| {c['name']}: ours against the notes' loop | {c['ours_vs_reference']:.2f}x ({c['ours']['steps_per_s']:.0f} steps/s, {c['ours'].get('step_mode', '')}) |")
for g in b.get("graph_vs_eager") or []:
    if g:
        print(f"| {g['case']}: CUDA graph against eager | {g['speedup']:.2f}x ({g['graphed_steps_per_s']:.0f} against {g['eager_steps_per_s']:.0f} steps/s) |")
for m in b.get("many_at_once", []):
    print(f"| {m['members']} models at once, {m['case']}: batched against separate | {m['speedup']:.2f}x |")
for p in sorted(os.listdir(out)):
    s = load(os.path.join(out, p, "summary.json"))
    if "status" in s:
        vpt = (s.get("vpt_lyapunov") or {}).get("median")
        print(f"| preset {p} on {s.get('device')}: mode, train time | {s.get('step_mode')}, {s.get('train_time_s')} s"
              + (f", VPT {vpt:.2f}" if vpt is not None else "") + " |")
if "error" in b:
    print(f"| bench speed | failed: {b['error']} |")
PY
echo; echo "gpu-check: done (figures in $out)"
