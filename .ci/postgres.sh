#!/usr/bin/env bash
# The PostgreSQL tier: sweeps against a real PostgreSQL server. The pgserver wheel brings the
# postgres binaries; the tests start a server in a temporary folder (a Unix socket) and stop it.
set -euo pipefail
cd "$(dirname "$0")/.."
make setup
.venv/bin/pip install --quiet -c constraints.txt -e '.[test,postgres]' pgserver
.venv/bin/python -m pytest -q -m postgres
