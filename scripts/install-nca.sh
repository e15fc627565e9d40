#!/usr/bin/env bash
# Install network-config-analyzer (NCA, PyPI `network-config-analyzer`) into its own virtualenv
# `.venv-nca`, used only by the cross-check test (tests/unit/policy/test_nca_crosscheck.py) and
# bench/bench_policy.py. NCA pins its own dependency versions, so it never shares `.venv`.
# Usage: scripts/install-nca.sh [PYTHON]   (idempotent; exits 0 when already installed)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-python3}"
VENV=.venv-nca
if [ -x "$VENV/bin/nca" ]; then
  echo "NCA already installed in $VENV"
  exit 0
fi
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q network-config-analyzer
"$VENV/bin/nca" --help >/dev/null
echo "NCA installed in $VENV"
