#!/usr/bin/env bash
# Builds the Binder environment the way repo2docker does, then runs the tour notebooks in it.
#   1. a clean clone of the committed repository (what Binder sees), a fresh virtualenv first on PATH;
#   2. pip install --no-cache-dir -r binder/requirements.txt, then ./binder/postBuild from the repository root;
#   3. jupyter nbconvert --execute on the notebooks (default: all of notebooks/*.ipynb) with that environment's kernel.
# Prints one JSON line at the end: {"install_s", "torch", "package" (where it was installed), "python",
# "notebooks": {name: seconds}}; the executed notebooks are left in WORKDIR/executed.
# Usage: scripts/binder_check.sh WORKDIR [NOTEBOOK_NAME...]
# Differences from mybinder.org: no Docker image and no conda base (the machine's python3 and Node instead), and
# PyTorch's extra index is unreachable here, so the pinned CPU wheel comes from the machine's local wheels.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mkdir -p "$1" && cd "$1" && pwd)"
shift
clone="$work/repo"
git clone --quiet --no-hardlinks "$repo" "$clone"
python3 -m venv "$work/venv"

export PATH="$work/venv/bin:$PATH"
export PIP_CONSTRAINT="$repo/requirements/constraints.txt"  # pip keeps the CPU torch, never resolves a CUDA build
export PIP_RETRIES=0  # an unreachable extra index fails at once instead of after minutes of retries
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_COMPILE=1  # no .pyc for torch's thousands of files: CPU the check
                                                         # does not need (Python compiles on first import instead)
# Only this environment's Jupyter files and kernels; none of the caller's (a user-level python3 kernel would win).
export JUPYTER_DATA_DIR="$work/jupyter-data" JUPYTER_CONFIG_DIR="$work/jupyter-config" IPYTHONDIR="$work/ipython"
export JUPYTER_PLATFORM_DIRS=1 PYDEVD_DISABLE_FILE_VALIDATION=1
unset PYTHONPATH VIRTUAL_ENV

cd "$clone"
t0=$SECONDS
# repo2docker's environment comes with a current pip; the one the venv module bundles (pip 23 with Python 3.11)
# backtracks for over 20 minutes through boto3 releases (each pins its botocore, s3fs's aiobotocore pins another)
# where pip 26 resolves this file in about a minute
python -m pip install -q --upgrade pip
pip install -q --no-cache-dir -r binder/requirements.txt
./binder/postBuild > "$work/postBuild.log" 2>&1 || { tail -40 "$work/postBuild.log"; exit 1; }
install_s=$((SECONDS - t0))

cd "$work"  # import what was installed, not the clone's source folder
torch_version="$(python -c 'import torch; print(torch.__version__)')"
package="$(python -c 'import nnviz_widgets, pathlib; p = pathlib.Path(nnviz_widgets.__file__).parent; print(p if (p / "static" / "boundary.js").is_file() else "no-bundle")')"

cd "$clone/notebooks"
if [ "$#" -eq 0 ]; then set -- *.ipynb; fi
timings=""
for nb in "$@"; do
  t=$SECONDS
  jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=300 \
    --ExecutePreprocessor.kernel_name=python3 --output-dir "$work/executed" "$nb" > "$work/nbconvert.log" 2>&1 \
    || { tail -40 "$work/nbconvert.log"; echo "binder_check: $nb failed" >&2; exit 1; }
  timings="$timings\"$nb\": $((SECONDS - t)), "
done
echo "{\"install_s\": $install_s, \"torch\": \"$torch_version\", \"package\": \"$package\", \"python\": \"$(command -v python)\", \"notebooks\": {${timings%, }}}"
