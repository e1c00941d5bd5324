#!/usr/bin/env bash
# Everything a fresh machine needs, idempotent: Debian chromium (browser tests), a venv with a pinned CPU torch,
# the package in editable mode (which builds the JS bundle with npm), and the JS test packages.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  echo "setup: installing Debian chromium for the browser tests"
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  python3 -m venv .venv
fi
stamp=.venv/.nnviz-setup
want="$(cat pyproject.toml requirements/constraints.txt js/package-lock.json | sha1sum | cut -c1-12)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || [ ! -f nnviz_widgets/static/boundary.js ]; then
  echo "setup: installing Python packages (torch pinned to the CPU wheel) and building the JS bundle"
  (cd js && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent)
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -c requirements/constraints.txt torch==2.13.0
  .venv/bin/python -m pip install -q -c requirements/constraints.txt -e ".[dev]"
  echo "$want" > "$stamp"
fi
# VS Code's widget manager (npm's @vscode/jupyter-ipywidgets8), requirejs and a kernel client bundled for
# tests/browser/test_vscode.py, which serves them locally
vsc=tests/browser/vscode
vwant="$(sha1sum "$vsc/package-lock.json" | cut -c1-12)"
if [ "$(cat "$vsc/node_modules/.nnviz-setup" 2>/dev/null)" != "$vwant" ]; then
  echo "setup: installing the VS Code widget-manager test page's npm packages"
  (cd "$vsc" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$vwant" > "$vsc/node_modules/.nnviz-setup"
fi
(cd "$vsc" && node build.mjs)
# esbuild takes well under a second: always bundle the current sources, so no stale JS is ever tested
(cd js && npm run build --silent)
