"""Frames in synced state: the traits-only transport (Colab) and the thinned history a saved notebook keeps."""

import base64
import io
import sys
import time
import types

import numpy as np
import pytest

import nnviz_widgets as nnv
from nnviz_widgets.widgets import _stream

from .test_stream import CountingCondition

LIVENESS = 20.0


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    monkeypatch.setattr(_stream, "IDLE", 0.05)
    monkeypatch.setattr(_stream, "HISTORY_IDLE", 0.05)
    monkeypatch.setattr(_stream, "BACKFILL_RATE", 1e9)
    monkeypatch.delenv("NNVIZ_TRANSPORT", raising=False)


def no_custom_messages(view):
    """Fail the test if the view ever sends a custom message (the path the state transport must not need)."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("a custom message was sent")

    view.send = refuse
    return view


def indices(value: dict) -> list[int]:
    return [f["index"] for f in value.get("frames", [])]


def state_bytes(value: dict) -> int:
    return sum(len(b) for b in value.get("buffers", []))


def test_state_transport_carries_live_frames_and_history_without_messages(rec, train):
    view = no_custom_messages(nnv.DecisionBoundary(rec, transport="state", keep_state=50_000))
    assert view.transport == "state" and view._sender is None
    train(rec, epochs=12)
    assert view.wait_sent(LIVENESS)
    assert indices(view._live) == [11]
    frame = rec.run[11]
    live = view._live["frames"][0]
    assert live["arrays"]["boundary"] == {**frame.arrays["boundary"].header, "buffer": 0}
    assert view._live["buffers"][0] == frame.arrays["boundary"].data  # the recorded codes, byte for byte
    assert view._live["total"] == 12
    # 12 frames of 40x40x2 + 200 predictions (3,400 B) fit in 50 KB; all of them, in order
    assert indices(view._history) == list(range(12))
    assert state_bytes(view._history) <= 50_000
    view.close()


def test_history_is_thinned_to_the_budget_and_keeps_the_newest(rec, train):
    train(rec, epochs=40)
    arrays = rec.run[0].arrays
    frame_bytes = _stream.FRAME_OVERHEAD + arrays["boundary"].nbytes + arrays["predictions"].nbytes
    budget = 10 * frame_bytes
    view = nnv.DecisionBoundary(rec, keep_state=budget)
    kept = indices(view._history)
    assert kept[0] == 0 and kept[-1] == 39 and len(kept) <= 10
    assert state_bytes(view._history) <= budget
    steps = {b - a for a, b in zip(kept[:-2], kept[1:-1], strict=True)}
    assert len(steps) == 1 and steps.pop() in (4, 8)  # evenly thinned by a power of two
    # a budget below one frame still keeps the newest: a saved notebook shows at least the last frame
    assert indices(view.keep_state(1)._history) == [39]
    assert indices(view.keep_state(None)._history) == [] and indices(view.keep_state(0)._history) == []
    assert indices(view.keep_state()._history)[-1] == 39
    view.close()


def test_history_follows_training_and_is_flushed_when_a_cell_ends(rec, train, monkeypatch):
    monkeypatch.setattr(_stream, "IDLE", 60.0)  # never idle during the test: only the cell's end pushes
    monkeypatch.setattr(_stream, "HISTORY_INTERVAL", 60.0)
    monkeypatch.setattr(_stream, "HISTORY_IDLE", 60.0)
    view = nnv.DecisionBoundary(rec)  # messages transport: the history is kept all the same
    assert view.transport == "messages" and indices(view._history) == []
    train(rec, epochs=3)
    assert indices(view._history) == []
    _stream._flush_after_cell()  # what IPython's post_run_cell does in a kernel
    assert indices(view._history) == [0, 1, 2]
    view.close()


def test_with_messages_the_keeper_wakes_once_captures_pause_not_at_each(rec, monkeypatch):
    monkeypatch.setattr(_stream, "HISTORY_IDLE", 0.4)
    view = nnv.DecisionBoundary(rec)
    assert view.transport == "messages"
    keeper = view._state
    keeper._cond = cond = CountingCondition()
    start = time.monotonic()
    for _ in range(30):  # a capture every ~20 ms: the keeper has nothing to do until they pause
        rec.capture()
        time.sleep(0.02)
    during, took = cond.wakeups, time.monotonic() - start
    # about once per HISTORY_IDLE while they come (to see whether they paused; the old code woke at every capture
    # and every 40 ms), twice for slack
    assert during <= took / 0.2 + 2, f"the keeper woke {during} times during 30 captures in {took:.2f} s"
    deadline = time.monotonic() + LIVENESS
    while indices(view._history) != list(range(30)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert indices(view._history) == list(range(30))  # then the whole history, once they paused
    view.close()


def test_auto_picks_state_in_colab_and_the_environment_overrides(rec, monkeypatch):
    assert nnv.DecisionBoundary(rec).transport == "messages"
    colab = types.ModuleType("google.colab")
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    assert _stream.in_colab()
    assert nnv.DecisionBoundary(rec).transport == "state"
    assert nnv.DecisionBoundary(rec, transport="messages").transport == "messages"
    monkeypatch.setenv("NNVIZ_TRANSPORT", "messages")
    assert nnv.DecisionBoundary(rec).transport == "messages"
    monkeypatch.setenv("NNVIZ_TRANSPORT", "carrier-pigeon")
    with pytest.raises(ValueError, match="NNVIZ_TRANSPORT"):
        nnv.DecisionBoundary(rec)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"transport": "smoke"}, ValueError, "transport must be one of"),
        ({"keep_state": -1}, ValueError, "keep_state must be a number of bytes"),
        ({"keep_state": 2.5}, ValueError, "keep_state must be a number of bytes"),
        ({"keep_state": True}, ValueError, "keep_state must be a number of bytes"),
    ],
)
def test_bad_stream_options_name_the_argument(rec, kwargs, error, match):
    with pytest.raises(error, match=match):
        nnv.DecisionBoundary(rec, **kwargs)


def test_every_view_and_the_dashboard_take_the_stream_options(rec, train):
    train(rec, epochs=3)
    views = [
        nnv.WeightMosaic(rec, transport="state", keep_state=1_000),
        nnv.Player(rec, transport="state"),
        nnv.Dashboard(rec, views=["boundary", "mosaic", "curves"], transport="state", keep_state=1_000),
    ]
    mosaic, player, dash = views
    assert mosaic.transport == player.transport == dash.player.transport == "state"
    assert {v.transport for k, v in dash.views.items() if k != "curves"} == {"state"}
    assert indices(player._history) == [0, 1, 2]  # a player's frames carry no arrays: all fit
    assert indices(mosaic._live) == [2]
    for view in views:
        view.close()


def test_a_mosaic_page_turn_resends_the_state_with_the_new_page(moons, train):
    import torch
    from torch import nn

    torch.manual_seed(0)
    X, y = moons
    wide = nnv.Recorder(nn.Sequential(nn.Linear(2, 300), nn.ReLU(), nn.Linear(300, 2)), X, y, grid=20, layers=["0"])
    train(wide, epochs=2)
    view = no_custom_messages(nnv.WeightMosaic(wide, layer="0", transport="state", page_size=256))
    assert list(view._live["frames"][0]["arrays"]) == ["weights/0[0:256]"]
    view.page = 1
    assert list(view._live["frames"][0]["arrays"]) == ["weights/0[256:300]"]
    assert {name for f in view._history["frames"] for name in f["arrays"]} == {"weights/0[256:300]"}
    view.close()


def test_the_mime_bundle_has_a_png_of_the_current_frame(rec, train):
    from PIL import Image

    from nnviz_widgets.export.video import render_frame

    view = nnv.DecisionBoundary(rec, width=300, height=260)
    data, _ = view._repr_mimebundle_()
    assert "image/png" not in data  # no frame yet: nothing to picture
    assert "application/vnd.jupyter.widget-view+json" in data
    train(rec, epochs=4)
    data, _ = view._repr_mimebundle_()
    png = Image.open(io.BytesIO(base64.b64decode(data["image/png"]))).convert("RGB")
    assert png.size == (300, 260)
    assert np.array_equal(np.asarray(png), np.asarray(render_frame(rec.run, 3, size=(300, 260))))  # the newest
    view.follow, view.epoch = False, 1
    data, _ = view._repr_mimebundle_()
    png = Image.open(io.BytesIO(base64.b64decode(data["image/png"]))).convert("RGB")
    assert np.array_equal(np.asarray(png), np.asarray(render_frame(rec.run, 1, size=(300, 260))))
    view.close()


def test_a_scatters_png_puts_each_class_where_its_points_are(moons):
    from PIL import Image

    X, y = moons
    view = nnv.EmbeddingScatter(X, y, method=None, width=300, height=240)
    data, _ = view._repr_mimebundle_()
    png = np.asarray(Image.open(io.BytesIO(base64.b64decode(data["image/png"]))).convert("RGB")).astype(int)
    lo, hi, margin = X.min(axis=0), X.max(axis=0), 12
    px = margin + (X - lo) / (hi - lo) * [300 - 2 * margin, 240 - 2 * margin]
    colours = {k: np.array([int(c[i : i + 2], 16) for i in (1, 3, 5)]) for k, c in enumerate(view.colors)}
    right = sum(
        np.abs(png[int(240 - y_px), int(x_px)] - colours[label]).sum() < 40
        for (x_px, y_px), label in zip(px, y, strict=True)
    )
    assert right >= 0.9 * len(y), f"{right}/{len(y)} points show their class colour"  # the rest: drawn over
    view.hidden = [0]
    data, _ = view._repr_mimebundle_()
    png = np.asarray(Image.open(io.BytesIO(base64.b64decode(data["image/png"]))).convert("RGB")).astype(int)
    assert not (np.abs(png - colours[0]).sum(axis=-1) < 40).any()  # a class toggled off is not drawn
    view.close()


def test_a_mosaics_png_is_the_video_frame_of_the_tiles_shown(rec, train):
    from PIL import Image

    from nnviz_widgets.export.video import render_mosaic
    from nnviz_widgets.widgets.mosaic import tile_layout

    train(rec, epochs=3)
    view = nnv.WeightMosaic(rec, layer="0", show="weights")
    data, _ = view._repr_mimebundle_()
    png = np.asarray(Image.open(io.BytesIO(base64.b64decode(data["image/png"]))).convert("RGB"))
    scale = max(abs(float(f.arrays["weights/0"].header["offset"])) for f in rec.run)  # the run's one scale
    plan = ("0", "weights", tile_layout(rec.run.layers["0"], show="weights"), scale)
    assert np.array_equal(png, np.asarray(render_mosaic(rec.run, 2, plan=plan)))  # the newest: the view follows
    assert not np.array_equal(png, np.asarray(render_mosaic(rec.run, 0, plan=plan)))
    view.close()
