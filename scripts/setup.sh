#!/usr/bin/env bash
# Sets up everything nbperceive needs on a fresh machine, idempotently:
# system packages (Chromium for browser tests, Fashion-MNIST), a virtual environment in .venv
# with the package installed editable (its build hook builds js/ with esbuild), and the
# offline movie-review data. Sourced by scripts/demo.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium chromium-driver)
[ -d /usr/share/datasets/fashion-mnist ] || need_apt+=(dataset-fashion-mnist)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: apt-get install ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "setup: please install ${need_apt[*]} (Debian packages); continuing without them" >&2
  fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
fi
# JS bundle: always rebuilt (esbuild takes well under a second), lock file pinned.
if [ ! -f js/node_modules/.package-lock.json ] || [ js/package-lock.json -nt js/node_modules/.package-lock.json ]; then
  (cd js && npm ci --no-audit --no-fund --loglevel=error)
fi
(cd js && npm run --silent build)
.venv/bin/pip install -q -e ".[cpu,test]"

# xplique, the reference of tests/attribution/test_xplique_reference.py: into its own target,
# never into .venv (it needs tf-keras, whose dependencies would replace tensorflow-cpu).
# --no-deps for each; the tests put the target on sys.path in a subprocess only.
XPLIQUE_TARGET=${XPLIQUE_TARGET:-/opt/xplique-ref}
if [ ! -d "$XPLIQUE_TARGET/xplique" ] && mkdir -p "$XPLIQUE_TARGET" 2>/dev/null; then
  echo "setup: installing xplique (reference for tests) into $XPLIQUE_TARGET"
  for pkg in xplique opencv-python-headless einops scikit-image lazy_loader \
      tensorflow-probability decorator dm-tree tf-keras; do
    .venv/bin/pip install -q --no-deps --target "$XPLIQUE_TARGET" "$pkg" \
      || echo "setup: could not install $pkg into $XPLIQUE_TARGET" >&2
  done
fi

# Movie-review sentences ship inside the vaderSentiment sdist on PyPI (see nbperceive.datasets).
DATA_DIR=${NBPERCEIVE_DATA:-${XDG_CACHE_HOME:-$HOME/.cache}/nbperceive}
mkdir -p "$DATA_DIR"
if ! ls "$DATA_DIR"/vaderSentiment-3.3.2.tar.gz >/dev/null 2>&1; then
  echo "setup: fetching the movie-review sentences (vaderSentiment 3.3.2 sdist) into $DATA_DIR"
  .venv/bin/pip download -q --no-deps --no-binary :all: vaderSentiment==3.3.2 -d "$DATA_DIR"
fi
echo "setup: ready (.venv, js bundle, data in $DATA_DIR)"
