#!/usr/bin/env bash
# The dysts tier: the catalogue's flows as systems (tests marked `dysts`), with the optional extra
# rnn-tui[dysts] installed into .venv (dysts pulls gluonts, pandas, pyarrow, scikit-learn, matplotlib:
# too much for the base install and the default test run).
set -euo pipefail
cd "$(dirname "$0")/.."
make setup
.venv/bin/pip install --quiet -c constraints.txt -e '.[test,dysts]'
.venv/bin/python -m pytest -q -m dysts
