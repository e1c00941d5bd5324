"""binder/ installs as repo2docker installs it (a clean clone, a fresh virtualenv, ``pip install -r
binder/requirements.txt`` then ``binder/postBuild``) and the tour notebooks run in that environment, with its own
kernel and the package it installed (scripts/binder_check.sh does the work; it runs every notebook when called by
hand). Here: 01 (the Binder badge opens it), 04 (the embed extra: openTSNE) and 06 (the lightning and keras extras),
since tests/test_notebooks.py already runs the whole tour in the development environment.

The build takes minutes (pip resolving and installing torch, JupyterLab, Lightning, Keras, openTSNE, UMAP; npm
bundling), mostly waiting on downloads, so the suite's command (scripts/test.sh) starts it in the background, niced,
before pytest and names its folder in ``NNVIZ_BINDER_BUILD``; this test runs last and reads the result.
``NNVIZ_BINDER_CHECK=1 pytest tests/test_binder.py`` builds it in the foreground instead; without either, it skips."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import time

import nbformat
import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = ("01_moons_live.ipynb", "04_embeddings.ipynb", "06_your_loop_and_frameworks.ipynb")
WAIT_S = 2400  # for a background build still running when the rest of the suite is done


def test_binder_environment_runs_the_tour(tmp_path):
    build = os.environ.get("NNVIZ_BINDER_BUILD")
    if build:
        work, stdout = _background(pathlib.Path(build))
    elif os.environ.get("NNVIZ_BINDER_CHECK") == "1":
        work, stdout = _foreground(tmp_path)
    else:
        pytest.skip("the suite's command (scripts/test.sh) builds it; NNVIZ_BINDER_CHECK=1 to build it here")
    summary = json.loads(stdout.strip().splitlines()[-1])
    print(f"Binder environment: {summary}")
    assert summary["torch"].endswith("+cpu"), f"Binder must get the CPU wheel of torch, got {summary['torch']}"
    venv = (work / "venv").resolve()  # the folders, not the python link inside (it points at the base python)
    assert pathlib.Path(summary["python"]).parent.resolve() == venv / "bin", summary
    assert pathlib.Path(summary["package"]).resolve().is_relative_to(venv / "lib"), summary
    assert set(summary["notebooks"]) == set(NOTEBOOKS), summary

    def printed(name: str) -> str:
        nb = nbformat.read(work / "executed" / name, as_version=4)
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
        assert not [o for o in outputs if o.get("output_type") == "error"], f"{name} raised"
        return "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")

    assert "100 frames recorded" in printed(NOTEBOOKS[0])
    assert "t-SNE of" in printed(NOTEBOOKS[1])
    extras = printed(NOTEBOOKS[2])
    assert "Lightning is not installed" not in extras and "Keras is not installed" not in extras, extras


def _foreground(tmp_path: pathlib.Path) -> tuple[pathlib.Path, str]:
    for tool in ("git", "npm", "python3"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is missing: Binder's build needs it")
    out = subprocess.run(
        ["bash", str(REPO / "scripts" / "binder_check.sh"), str(tmp_path), *NOTEBOOKS],
        capture_output=True, text=True, timeout=1800, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert out.returncode == 0, f"binder_check.sh failed:\n{out.stdout[-4000:]}\n{out.stderr[-4000:]}"
    return tmp_path, out.stdout


def _background(build: pathlib.Path) -> tuple[pathlib.Path, str]:
    """The build scripts/test.sh started: ``build/rc`` appears when it ends; its output is in ``build/out.log`` and
    ``build/err.log``."""
    rc, deadline = build / "rc", time.monotonic() + WAIT_S
    while not rc.exists() and time.monotonic() < deadline:
        time.sleep(5)
    out, err = ((build / f).read_text(errors="replace") if (build / f).exists() else "" for f in ("out.log", "err.log"))
    assert rc.exists(), (
        f"the Binder build did not finish {WAIT_S} s after the rest of the suite:\n{out[-3000:]}{err[-3000:]}"
    )
    assert rc.read_text().strip() == "0", f"binder_check.sh failed:\n{out[-4000:]}\n{err[-4000:]}"
    return build / "work", out
