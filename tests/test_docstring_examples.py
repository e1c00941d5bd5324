"""The docstring examples marked ``+SKIP`` (they need a trained recorder, files to write, a second run...) run
here, each in a fresh directory with what it assumes already made, so every example the API reference shows is
executed by CI. Examples with no expected output only have to run; those with one must print it. The few that
cannot run here are listed in NOT_RUN with the reason and the test that covers them instead."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import shutil
from pathlib import Path

import pytest

import nnviz_widgets

FIXTURES = Path(__file__).parent / "fixtures"

NOT_RUN = {
    "nnviz_widgets.datasets.mnist": "downloads MNIST from OpenML (tests/test_mnist.py reads a bundled slice)",
    "nnviz_widgets.run.store.open_run": "follows a run in an S3 bucket (tests run remote stores on moto)",
    "nnviz_widgets.integrations.lightning": "the same callback and calls run in tests/test_integrations.py "
    "(Lightning's import and 20 epochs here would cost about a minute)",
    "nnviz_widgets.integrations.keras": "the same callback and calls run in tests/test_integrations.py "
    "(Keras's import and 20 epochs here cost about 35 s)",
    "nnviz_widgets.widgets.scatter.EmbeddingScatter": "its selection comes from a lasso drawn in the browser "
    "(tests/browser/test_scatter_browser.py)",
}

PRELUDE = """\
import torch, torch.nn as nn, numpy as np, nnviz_widgets as nnv
torch.manual_seed(0)
X, y = nnv.datasets.moons(200, noise=0.2, seed=0)
model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
rec = nnv.fit(model, X, y, epochs=8, grid=24, show=False, gradients=True)
rec2 = nnv.fit(nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2)), X, y, epochs=8, grid=24, show=False)
view = nnv.DecisionBoundary(rec)
dash = nnv.Dashboard(rec, views=["boundary", "curves"])
loss = torch.tensor(0.5)
wide, deep = rec, rec2
cmp = nnv.Compare(wide, deep, view="boundary", names=["wide", "deep"])
"""

SETUP = {
    "nnviz_widgets.run.store.runs": 'nnv.fit(nn.Linear(2, 2), X, y, epochs=2, grid=8, show=False, path="runs/moons")',
}


def _skipped_examples():
    finder = doctest.DocTestFinder()
    found = []
    for info in pkgutil.walk_packages(nnviz_widgets.__path__, "nnviz_widgets."):
        module = importlib.import_module(info.name)
        for test in finder.find(module):
            if any(ex.options.get(doctest.SKIP) for ex in test.examples):
                found.append(test)
    return sorted(found, key=lambda t: t.name)


SKIPPED = _skipped_examples()


class _RunsOrPrints(doctest.OutputChecker):
    """An example that shows no output only has to run; one that shows output must print it."""

    def check_output(self, want, got, optionflags):
        return not want or super().check_output(want, got, optionflags)


@pytest.fixture(scope="module")
def prelude():
    names: dict = {}
    exec(PRELUDE, names)  # noqa: S102 - our own setup code
    return names


def test_every_skipped_example_is_run_or_excused():
    names = {t.name for t in SKIPPED}
    assert set(NOT_RUN) <= names, f"NOT_RUN names examples that no longer exist: {set(NOT_RUN) - names}"


@pytest.mark.parametrize("test", [t for t in SKIPPED if t.name not in NOT_RUN], ids=lambda t: t.name)
def test_skipped_example_runs(test, prelude, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    shutil.copytree(FIXTURES / "seed-data", tmp_path / "shared" / "seed-data")  # load_csv's ../shared/seed-data
    monkeypatch.chdir(work)
    # an example's training loop runs 3 times, not its 100: it shows the calls, the count is only illustrative
    globs = {**test.globs, **prelude, "range": lambda *args: range(*args)[:3]}
    if test.name in SETUP:
        exec(SETUP[test.name], globs)  # noqa: S102 - our own setup code
    for ex in test.examples:
        ex.options.pop(doctest.SKIP, None)
    runner = doctest.DocTestRunner(checker=_RunsOrPrints(), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    result = runner.run(doctest.DocTest(test.examples, globs, test.name, test.filename, test.lineno, test.docstring))
    assert result.failed == 0, f"{test.name}: {result.failed} of {result.attempted} examples failed (see above)"
