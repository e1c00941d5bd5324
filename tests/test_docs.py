"""The documentation a new user meets: docstrings with examples on every public name, the generated API reference
(``bash scripts/docs.sh``), the README's images and links, and the Binder files (repo2docker conventions)."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
# The public API: the package and its subpackages (their __all__), and the modules a user imports by name.
PUBLIC_MODULES = [
    "nnviz_widgets",
    "nnviz_widgets.datasets",
    "nnviz_widgets.embed",
    "nnviz_widgets.export",
    "nnviz_widgets.record",
    "nnviz_widgets.run",
    "nnviz_widgets.widgets",
    "nnviz_widgets.integrations",
    "nnviz_widgets.integrations.sklearn",
    "nnviz_widgets.integrations.lightning",
    "nnviz_widgets.integrations.keras",
    "nnviz_widgets.train",
    "nnviz_widgets.cli",
]
# integrations.{lightning,keras} define their callbacks on first use (importing them must not need the framework):
# their module docstrings carry the example.
LAZY = {"nnviz_widgets.integrations.lightning", "nnviz_widgets.integrations.keras"}


def public_names(module_name: str) -> list[str]:
    """``__all__`` when the module has one, else the functions and classes defined in it without a leading _."""
    module = importlib.import_module(module_name)
    if hasattr(module, "__all__"):
        return [n for n in module.__all__ if not n.startswith("_")]
    return [
        n
        for n, v in vars(module).items()
        if not n.startswith("_") and (inspect.isfunction(v) or inspect.isclass(v)) and v.__module__ == module_name
    ]


def _api():
    for module_name in PUBLIC_MODULES:
        for name in public_names(module_name):
            yield pytest.param(module_name, name, id=f"{module_name}.{name}")


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_module_has_a_docstring(module_name):
    doc = inspect.getdoc(importlib.import_module(module_name))
    assert doc and len(doc) > 20, f"{module_name} needs a module docstring saying what it is for"
    if module_name in LAZY:
        assert ">>>" in doc, f"{module_name}'s docstring should show its callback in use"


@pytest.mark.parametrize(("module_name", "name"), list(_api()))
def test_public_name_has_a_docstring_with_an_example(module_name, name):
    obj = getattr(importlib.import_module(module_name), name)
    if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismodule(obj)):
        return  # constants (METHODS, __version__) are described where they are defined
    doc = obj.__doc__ if inspect.isclass(obj) else inspect.getdoc(obj)  # a class's own docstring, not its base's
    assert doc and doc.strip(), f"{module_name}.{name} has no docstring"
    if not inspect.ismodule(obj):
        assert ">>>" in doc, f"{module_name}.{name}'s docstring has no example (a >>> line, run by --doctest-modules)"


@pytest.mark.parametrize(("module_name", "name"), [p for p in _api() if inspect.isclass(getattr(
    importlib.import_module(p.values[0]), p.values[1]))])  # fmt: skip
def test_public_methods_have_docstrings(module_name, name):
    cls = getattr(importlib.import_module(module_name), name)
    missing = []
    for attr, value in vars(cls).items():
        if attr.startswith("_"):
            continue
        func = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
        if inspect.isfunction(func) and not inspect.getdoc(getattr(cls, attr) if not isinstance(value, property)
                                                          else value):  # fmt: skip
            missing.append(attr)
    assert not missing, f"{module_name}.{name}: public methods/properties without a docstring: {missing}"


def test_api_reference_builds(tmp_path):
    out = tmp_path / "api"
    proc = subprocess.run(
        ["bash", str(REPO / "scripts" / "docs.sh"), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    assert proc.returncode == 0, f"scripts/docs.sh failed (is pdoc installed? it is in the dev extra):\n{proc.stderr}"
    assert (out / "index.html").is_file()
    for module_name in PUBLIC_MODULES:
        page = out / (module_name.replace(".", "/") + ".html")
        assert page.is_file(), f"no reference page for {module_name}: {sorted(p.name for p in out.rglob('*.html'))}"
    top = (out / "nnviz_widgets.html").read_text(encoding="utf-8")
    import nnviz_widgets

    for name in nnviz_widgets.__all__:
        if not name.startswith("_") and name != "datasets":
            assert f'id="{name}"' in top, f"nnviz_widgets.{name} is missing from the reference"
    assert "&gt;&gt;&gt;" in top or '<span class="gp">&gt;&gt;&gt;</span>' in top, "examples should be rendered"


# -- README ------------------------------------------------------------------------------------------------------
README = (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_images_exist_are_pictures_and_small():
    images = re.findall(r"!\[[^\]]*\]\(((?!https?://)[^)\s]+)\)", README)  # our own pictures, not badges
    assert len(images) >= 5, (
        f"a picture at the top and one per view (boundary, mosaic, embeddings, dashboard): {images}"
    )
    for rel in images:
        path = REPO / rel
        assert path.is_file(), f"README shows {rel}, which does not exist"
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" or data[:6] in (b"GIF87a", b"GIF89a"), f"{rel} is not a PNG/GIF"
        assert len(data) < 300_000, f"{rel} is {len(data) / 1e3:.0f} KB: keep README images under 300 KB"


def test_readme_links_to_files_that_exist():
    links = re.findall(r"\]\(((?!https?://|#)[^)\s]+)\)", README)
    missing = [link for link in links if not (REPO / link.split("#")[0]).exists()]
    assert not missing, f"README links to missing files: {missing}"
    for nb in sorted((REPO / "notebooks").glob("*.ipynb")):
        assert f"notebooks/{nb.name}" in README, f"README should point to {nb.name}"


def test_readme_names_the_docs_command_and_the_binder_badge():
    assert "bash scripts/docs.sh" in README
    assert re.search(r"https://mybinder\.org/v2/gh/[^)\s]+\?urlpath=lab/tree/notebooks/", README), "the badge form"


def _pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python >= 3.11")
    return tomllib.loads((REPO / "pyproject.toml").read_text())


# -- Binder (repo2docker) ---------------------------------------------------------------------------------------
def test_binder_follows_repo2docker_conventions():
    binder = REPO / "binder"
    reqs = (binder / "requirements.txt").read_text().splitlines()
    post = binder / "postBuild"
    # repo2docker uses binder/ when it exists: requirements.txt is installed with pip, then postBuild is run
    # (a script with a shebang; repo2docker marks it executable, but keep the bit so it runs by hand too).
    assert not (binder / "environment.yml").exists(), "environment.yml would take precedence over requirements.txt"
    assert post.read_text().startswith("#!/usr/bin/env bash") and os.access(post, os.X_OK)
    constraint = next(
        line.split("==")[1].strip()
        for line in (REPO / "requirements" / "constraints.txt").read_text().splitlines()
        if line.startswith("torch==")
    )
    torch_pins = [line for line in reqs if line.startswith("torch")]
    assert torch_pins == [f"torch=={constraint}+cpu"], f"binder should pin the CPU wheel of torch {constraint}"
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in reqs
    installs = re.findall(r'pip install [^\n]*"\.\[([a-z,]+)\]"', post.read_text())
    assert installs, "postBuild should install the package (with the extras the notebooks use)"
    extras = set(installs[0].split(","))
    declared = set(_pyproject()["project"]["optional-dependencies"])
    assert extras <= declared, f"postBuild names extras pyproject.toml does not declare: {extras - declared}"


def _distribution_modules(requirements: list[str]) -> set[str]:
    """Top-level modules that the distributions named in ``requirements`` provide (from this environment)."""
    by_module = importlib.metadata.packages_distributions()
    wanted = {re.split(r"[<>=!\[; ]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements}
    return {m for m, dists in by_module.items() if any(d.lower().replace("_", "-") in wanted for d in dists)}


def test_binder_installs_what_the_notebooks_import():
    project = _pyproject()["project"]
    post = (REPO / "binder" / "postBuild").read_text()
    extras = re.findall(r'"\.\[([a-z,]+)\]"', post)[0].split(",")
    reqs = list(project["dependencies"])  # and what binder/requirements.txt itself installs first
    lines = (REPO / "binder" / "requirements.txt").read_text().splitlines()
    reqs += [r.strip() for r in lines if r.strip() and not r.startswith(("#", "-"))]
    for extra in extras:
        reqs += [r for r in project["optional-dependencies"][extra] if not r.startswith("nnviz_widgets")]
    provided = _distribution_modules(reqs) | {"nnviz_widgets", "IPython", "ipykernel"}  # the kernel itself
    needed: dict[str, str] = {}
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            for node in ast.walk(ast.parse(cell.source)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                if isinstance(node, ast.ImportFrom) and node.level == 0:
                    names = [node.module]
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names:
                        needed.setdefault(top, path.name)
    missing = {m: nb for m, nb in needed.items() if m not in provided}
    assert not missing, f"notebooks import modules Binder would not install: {missing}"
