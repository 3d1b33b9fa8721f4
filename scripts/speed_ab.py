"""A/B: the trainer's steps per second before and after a change, each figure from a fresh interpreter,
rounds interleaved, best of each (bench speed's cases). Usage: speed_ab.py OLD_TREE NEW_TREE [rounds]"""
import json, os, subprocess, sys
old, new = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
code = """
import json
from rnn_tui.bench import speed
case = speed.cases(False)[{i}]
cfg = speed._cfg(case, "cpu")
print(json.dumps(speed.MEASURES["ours"](cfg)))
"""
def one(tree, i):
    env = dict(os.environ, PYTHONPATH=tree)
    p = subprocess.run([sys.executable, "-c", code.format(i=i)], capture_output=True, text=True, env=env, cwd=tree)
    if p.returncode:
        raise SystemExit(p.stderr[-2000:])
    return json.loads(p.stdout.strip().splitlines()[-1])["steps_per_s"]
names = ["sine rnn: seq 20, batch 32, hidden 64", "lorenz63 lstm: seq 50, batch 128, hidden 128", "kdv convlstm preset"]
for i, name in enumerate(names):
    a, b = [], []
    for _ in range(rounds):
        a.append(one(old, i)); b.append(one(new, i))
    print(f"{name:48s} before {max(a):8.1f} steps/s  after {max(b):8.1f} steps/s  after/before {max(b)/max(a):.3f}  (rounds: {[round(x,1) for x in a]} / {[round(x,1) for x in b]})", flush=True)
