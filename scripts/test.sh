#!/usr/bin/env bash
# The whole test suite: lint (ruff; biome and tsc --checkJs on the JS), JS unit tests (vitest), Python tests
# (unit, widgets, notebooks, real browser).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== ruff"
.venv/bin/ruff check nnviz_widgets tests benchmarks
.venv/bin/ruff format --check nnviz_widgets tests benchmarks
echo "== biome, tsc --checkJs"
(cd js && npm run lint --silent && npm run typecheck --silent)
echo "== vitest"
(cd js && npm test --silent)
if [ "${NNVIZ_BINDER_CHECK:-}" != "0" ]; then
  # Binder's environment is built as repo2docker builds it, in the background (mostly waiting on downloads)
  # while the tests run; tests/test_binder.py runs last and checks it. NNVIZ_BINDER_CHECK=0 leaves it out.
  echo "== Binder build (background, artifacts/binder)"
  export NNVIZ_BINDER_BUILD="$PWD/artifacts/binder"
  rm -rf "$NNVIZ_BINDER_BUILD" && mkdir -p "$NNVIZ_BINDER_BUILD"
  (nice -n 10 bash scripts/binder_check.sh "$NNVIZ_BINDER_BUILD/work" 01_moons_live.ipynb 04_embeddings.ipynb \
    06_your_loop_and_frameworks.ipynb > "$NNVIZ_BINDER_BUILD/out.log" 2> "$NNVIZ_BINDER_BUILD/err.log" < /dev/null;
    echo $? > "$NNVIZ_BINDER_BUILD/rc") &
fi
echo "== pytest"
.venv/bin/python -m pytest "$@"
