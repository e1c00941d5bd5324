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
echo "== pytest"
.venv/bin/python -m pytest "$@"
