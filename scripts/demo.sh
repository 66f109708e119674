#!/usr/bin/env bash
# The main job: set up, train a CNN on MNIST with the nbperceive callback, report the run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec .venv/bin/nbperceive demo "$@"
