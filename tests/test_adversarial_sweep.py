"""The adversarial sweep (benchmarks/adversarial_sweep.py, whose counts fill docs/reliability.md) keeps working:
a small random slice of every class runs here, and none of it may be silently wrong or hang."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "adversarial_sweep.py"


@pytest.fixture(scope="module")
def sweep():
    spec = importlib.util.spec_from_file_location("adversarial_sweep", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_slice_of_every_class_is_handled(sweep, capsys):
    counts = sweep.sweep(quick=True, seed=1, per_class=2)
    assert set(counts) == set(sweep.CLASSES)
    for cls, outcomes in counts.items():
        assert sum(outcomes.values()) >= 1, cls
        assert outcomes["silently wrong"] == 0 and outcomes["hang"] == 0, (cls, dict(outcomes), capsys.readouterr())
    table = sweep.table(counts)
    assert table.count("\n") == len(sweep.CLASSES) + 2 and "| **all** |" in table


def test_the_doc_states_the_sweep_command_and_its_table(sweep):
    doc = sweep.DOC.read_text()
    assert "benchmarks/adversarial_sweep.py --doc" in doc
    table = doc.split("<!-- sweep:start -->")[1].split("<!-- sweep:end -->")[0]
    assert all(cls in table for cls in sweep.CLASSES)
