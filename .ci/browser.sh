#!/usr/bin/env bash
# CI tier "browser": `rnn-tui serve` in a real headless Chromium (tests/browser/, pytest -m browser).
# On a fresh Debian machine, as root (or with sudo): installs the distribution's chromium and
# Playwright's Python client into .venv (Playwright drives that chromium; it downloads no browser),
# then runs the tier. Each step is skipped when already done, so a second run starts the tests at once.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium
fi

make setup  # .venv with rnn-tui and its test tools (a no-op when it is up to date)
if ! .venv/bin/python -c "import playwright.sync_api" 2>/dev/null; then
    .venv/bin/pip install --quiet -c constraints.txt -e '.[test,browser]'
fi

export RNN_TUI_CHROMIUM="${RNN_TUI_CHROMIUM:-$(command -v chromium)}"
.venv/bin/python -m pytest -q -m browser "$@"
