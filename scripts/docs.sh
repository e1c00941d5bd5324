#!/usr/bin/env bash
# Build the API reference with pdoc from the docstrings: docs/api/index.html (generated, gitignored).
# Needs the `dev` extra (bash scripts/setup.sh installs it); pass another folder as $1 to write elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/api}"
PY=.venv/bin/python
[ -x "$PY" ] || PY=python3
rm -rf "$out"
# nnviz_widgets brings datasets and embed with it (its __all__); the other subpackages are named explicitly.
"$PY" -m pdoc --docformat numpy --footer-text "nnviz_widgets API reference" -o "$out" \
    nnviz_widgets nnviz_widgets.record nnviz_widgets.run nnviz_widgets.widgets nnviz_widgets.export \
    nnviz_widgets.integrations nnviz_widgets.train nnviz_widgets.cli
echo "wrote $out/index.html"
