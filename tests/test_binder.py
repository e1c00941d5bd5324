"""binder/ installs as repo2docker installs it (a clean clone, a fresh virtualenv, ``pip install -r
binder/requirements.txt`` then ``binder/postBuild``) and the tour notebooks run in that environment, with its own
kernel and the package it installed (scripts/binder_check.sh does the work; it runs every notebook when called by
hand). Here: 01 (the Binder badge opens it), 04 (the embed extra: openTSNE) and 06 (the lightning and keras extras),
since tests/test_notebooks.py already runs the whole tour in the development environment.

It builds a whole environment (torch, JupyterLab, Lightning, Keras, openTSNE, UMAP: minutes on two idle cores, far
more on a loaded machine), so it runs only when asked: ``NNVIZ_BINDER_CHECK=1 pytest tests/test_binder.py``."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess

import nbformat
import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = ("01_moons_live.ipynb", "04_embeddings.ipynb", "06_your_loop_and_frameworks.ipynb")


@pytest.mark.skipif(os.environ.get("NNVIZ_BINDER_CHECK") != "1", reason="NNVIZ_BINDER_CHECK=1 to build it")
def test_binder_environment_runs_the_tour(tmp_path):
    for tool in ("git", "npm", "python3"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is missing: Binder's build needs it")
    out = subprocess.run(
        ["bash", str(REPO / "scripts" / "binder_check.sh"), str(tmp_path), *NOTEBOOKS],
        capture_output=True, text=True, timeout=1800, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert out.returncode == 0, f"binder_check.sh failed:\n{out.stdout[-4000:]}\n{out.stderr[-4000:]}"
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"Binder environment: {summary}")
    assert summary["torch"].endswith("+cpu"), f"Binder must get the CPU wheel of torch, got {summary['torch']}"
    venv = tmp_path / "venv"
    assert summary["python"] == str(venv / "bin" / "python"), summary
    assert summary["package"].startswith(str(venv / "lib")), f"not the installed package: {summary}"
    assert set(summary["notebooks"]) == set(NOTEBOOKS), summary

    def stdout(name: str) -> str:
        nb = nbformat.read(tmp_path / "executed" / name, as_version=4)
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
        assert not [o for o in outputs if o.get("output_type") == "error"], f"{name} raised"
        return "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")

    assert "100 frames recorded" in stdout(NOTEBOOKS[0])
    assert "t-SNE of" in stdout(NOTEBOOKS[1])
    extras = stdout(NOTEBOOKS[2])
    assert "Lightning is not installed" not in extras and "Keras is not installed" not in extras, extras
