#!/usr/bin/env bash
# The main job: train a small network on the embedded moons data set, record every epoch,
# and write a self-contained page that plays the decision boundary forming.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/nnviz demo "${@:-moons}"
