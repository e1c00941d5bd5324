"""The benchmark scripts run, at a tiny size: their floors compute what the recorder computes, and their tables
print. (The scripts time; these tests only check that what they time is the right thing.)"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import nnviz_widgets as nnv

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import bench_boundary  # noqa: E402
import bench_embed  # noqa: E402


def test_own_forward_path_is_what_a_capture_computes():
    """The fair floor evaluates the same rows through the same path: its probabilities are the frame's."""
    torch.manual_seed(0)
    X, y = nnv.datasets.moons(200, noise=0.2, seed=0)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
    rec = nnv.Recorder(model, X, y, grid=30, layers=[], outputs=False, histograms=False)
    floor = bench_boundary.own_forward_path(rec)
    floor()  # runs
    grid = torch.as_tensor(rec._grid_points)
    with torch.no_grad():
        expected = torch.softmax(model(grid), 1).numpy()
    frame = rec.capture()
    np.testing.assert_allclose(frame.boundary.reshape(-1, 2), expected, atol=1 / 254)


def test_boundary_benchmark_table_at_tiny_size():
    c = bench_boundary.capture_vs_forward(reps=2)
    assert c["own_ms"] > 0 and c["stock_ms"] > 0
    assert c["ratio"] == pytest.approx(c["capture_ms"] / c["own_ms"])
    assert bench_boundary.frame_bytes()["ratio"] == 0.25  # uint8 codes of float32 values: by construction


def test_tsne_benchmark_at_tiny_size(capsys):
    pytest.importorskip("openTSNE")
    for data in bench_embed.DATA:
        X, y = bench_embed.DATA[data](300)
        assert X.shape == (300, 784) and X.dtype == np.float32 and len(np.unique(y)) == 10
    # two of the four methods (each costs a t-SNE run); the second data set is mostly noise features (0.62-0.74 at
    # 10,000 rows), so only the range of its trustworthiness is checked
    rows = bench_embed.bench_tsne(300, "classification", seeds=(0,), methods=("ours", "sklearn"))
    assert [r["what"] for r in rows] == ["ours", "sklearn"]
    assert all(0 < r["trust"] <= 1 for r in rows), rows
    bench_embed.print_tsne(rows, 300, "classification")
    out = capsys.readouterr().out
    assert "n_jobs=-1" in out and "faster" in out


def test_reliability_doc_blocks_are_written_by_its_one_command():
    """docs/reliability.md's measured tables sit in blocks that bench_reliability.py --doc rewrites, each stamped
    with the command that wrote it; rewriting one block leaves the rest of the file as it was."""
    import bench_reliability

    doc = bench_reliability.DOC.read_text(encoding="utf-8")
    assert "`.venv/bin/python benchmarks/bench_reliability.py --doc`" in doc.split("## ")[0]  # named at the top
    for part in ("frontend", "memory", "browser"):
        block = doc.split(f"<!-- measured:{part}:start -->")[1].split(f"<!-- measured:{part}:end -->")[0]
        assert block.strip().startswith("Written by `.venv/bin/python benchmarks/bench_reliability.py --doc"), part
        assert "|---" in block, part  # a table
        rewritten = bench_reliability.write_block(doc, part, "NEW")
        assert rewritten == doc.replace(block, "\nNEW\n")
    for marks in ("<!-- sweep:start -->", "<!-- bad-inputs:start -->"):  # the blocks its other generators rewrite
        assert doc.count(marks) == 1
