"""Dashboard and MetricCurves in Python: which views, one player linked to all, curves and clicks, no waiting."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from torch import nn

import nnviz_widgets as nnv


@pytest.fixture(scope="module")
def rec():
    X, y = nnv.datasets.moons(200, noise=0.2, seed=0)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    return nnv.fit(model, X, y, epochs=6, val=0.2, grid=20, show=False)


def test_dashboard_views_share_one_player(rec):
    dash = nnv.Dashboard(rec)
    assert {"boundary", "mosaic", "curves"} <= set(dash.views)
    links = {(lk.target[0], lk.target[1]) for lk in dash.player._links}
    for name, view in dash.views.items():
        if name != "curves":
            assert (view, "epoch") in links and view.controls is False
    dash.close()


def test_dashboard_shows_the_recorded_activations():
    X, y = nnv.datasets.moons(120, noise=0.2, seed=2)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    with_acts = nnv.Recorder(model, X, y, grid=10, activations="1")
    for _ in range(3):
        with_acts.capture()
    dash = nnv.Dashboard(with_acts)
    assert list(dash.views) == ["boundary", "mosaic", "embedding", "histograms", "curves"]
    assert dash.views["embedding"]._name == "activations/1"  # the recorded layer, moved by the one player
    assert (dash.views["embedding"], "epoch") in {(lk.target[0], lk.target[1]) for lk in dash.player._links}
    dash.close()
    without = nnv.Recorder(model, X, y, grid=10)
    assert "embedding" not in nnv.Dashboard(without).views  # nothing to show: left out quietly
    with pytest.raises(ValueError, match="activations="):
        nnv.Dashboard(without, views=["embedding"])  # asked for by name: say how to get it


def test_views_can_be_left_out(rec):
    dash = nnv.Dashboard(rec, views=["curves"])
    assert list(dash.views) == ["curves"]
    with pytest.raises(ValueError, match="unknown view"):
        nnv.Dashboard(rec, views=["histogram"])
    dash.close()


def test_curves_draw_every_metric_and_a_click_moves_the_player(rec):
    dash = nnv.Dashboard(rec, views=["boundary", "curves"])
    curves = dash.views["curves"]
    assert set(curves.figures) == {"loss", "accuracy"}
    lines, dots = curves._lines["val_loss"]
    np.testing.assert_allclose(lines.x, [f.epoch for f in rec.run])
    np.testing.assert_allclose(lines.y, [f.metrics["val_loss"] for f in rec.run], rtol=1e-6)
    loss_lines, loss_dots = curves._lines["loss"]
    assert np.isnan(loss_lines.y[0]) and len(loss_dots.x) == len(rec.run) - 1  # no training loss before training
    curves._clicked(loss_dots, {"data": {"index": 2}})  # the third dot is frame 3 (frame 0 has no loss)
    assert dash.player.epoch == 3 and curves.epoch == 3 and dash.player.follow is False
    assert dash.views["boundary"].epoch in (0, 3)  # jslink carries it in the browser, not in Python
    dash.close()


def test_curves_make_their_first_figures_before_the_first_capture_and_close_what_they_never_used():
    """The figures of the first two metric families exist before training: the first redraw, inside the training
    loop, only names them and hands them their data (no new widget, one comm each, at that moment); a third family
    gets a new figure; closing the curves closes the prepared widgets no metric used."""
    from ipywidgets.widgets.widget import _instances

    X, y = nnv.datasets.moons(100, seed=1)
    rec = nnv.Recorder(nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2)), X, y, grid=10)
    curves = nnv.MetricCurves(rec)
    curves._unsubscribe()  # redrawn here, by hand
    before = set(_instances)
    rec.capture(loss=1.0, val_loss=1.5)  # families loss and accuracy (the recorder adds accuracy)
    curves.redraw()
    assert set(_instances) == before
    assert [f.title for f in curves._row.children] == ["loss", "accuracy"]
    lines, dots = curves._lines["val_loss"]
    assert lines.labels == ["val_loss"] and dots.tooltip.labels == ["epoch", "val_loss"]
    assert lines.colors == dots.colors == ["#ff7f0e"] and curves._lines["loss"][0].colors == ["#1f77b4"]
    np.testing.assert_allclose(lines.y, [1.5])
    assert "nnviz-figure-val_loss" not in curves.figures["loss"]._dom_classes
    assert "nnviz-figure-loss" in curves.figures["loss"]._dom_classes
    rec.capture(loss=0.5, val_loss=1.0, grad_norm=2.0)  # a third family: a figure made now
    curves.redraw()
    assert set(curves.figures) == {"loss", "accuracy", "grad_norm"} and set(_instances) > before
    unused = [m for spare in curves._spare.values() for pair in spare for m in pair]  # accuracy's val_ marks
    assert unused and all(m.comm is not None for m in unused)
    curves.close()
    assert all(m.comm is None for m in unused)


def test_curves_update_live_without_blocking_capture():
    X, y = nnv.datasets.moons(100, seed=1)
    rec = nnv.Recorder(nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2)), X, y, grid=10)
    curves = nnv.MetricCurves(rec)
    t0 = time.perf_counter()
    for i in range(20):
        rec.capture(loss=1.0 / (i + 1), grad_norm=float(i))
    assert time.perf_counter() - t0 < 5
    deadline = time.monotonic() + 5
    while (
        time.monotonic() < deadline
        and len(curves._lines.get("loss", (None,))[0].x if "loss" in curves._lines else []) < 20
    ):
        time.sleep(0.05)
    assert len(curves._lines["loss"][0].x) == 20 and "grad_norm" in curves.figures
    curves.close()
