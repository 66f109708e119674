#!/usr/bin/env bash
# Set up, lint, and run every test (Python, JS unit tests, browser tests in Chromium).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
if [ -f js/package.json ] && grep -q '"test"' js/package.json; then (cd js && npm test --silent); fi
# one worker per core, at most 4 (each holds TensorFlow); whole modules per worker (tests/conftest.py)
workers=$(( $(nproc) < 4 ? $(nproc) : 4 ))
exec .venv/bin/python -m pytest -q -p no:cacheprovider -n "$workers" --dist loadfile "$@"
