import json
import pathlib
import re

import numpy as np
import pytest

import nnviz_widgets as nnv
from nnviz_widgets.widgets._base import PLAYER_TRAITS, FrameView


def test_decision_boundary_state(rec):
    view = nnv.DecisionBoundary(rec)
    assert view.extent == rec.run.grid.extent
    assert view.grid_shape == [40, 40] and view.classes == ["0", "1"] and len(view.colors) == 2
    np.testing.assert_array_equal(np.frombuffer(view.points, "<f4").reshape(-1, 2), rec.X)
    np.testing.assert_array_equal(np.frombuffer(view.labels, np.uint8), rec.y)
    assert view.epoch == 0 and view.follow and not view.playing and view.controls
    from nnviz_widgets.widgets._base import STATIC

    assert view._esm == (STATIC / "boundary.js").read_text()  # the built module, read at construction
    view.close()


def test_view_of_a_run_streams_frames(rec, train):
    view = nnv.DecisionBoundary(rec.run, controls=False, show_points=False, width=300, height=200, speed=5)
    sent = []
    view.send = lambda content, buffers=None: sent.append(content)
    train(rec, epochs=4)
    assert view.wait_sent(10)
    assert sorted(f["index"] for c in sent for f in c["frames"]) == [0, 1, 2, 3]
    assert (view.width, view.height, view.speed, view.controls) == (300, 200, 5, False)
    view.close()


def test_sync_message_from_the_browser(rec, train):
    view = nnv.DecisionBoundary(rec)
    sent = []
    view.send = lambda content, buffers=None: sent.append(content)
    train(rec, epochs=3)
    assert view.wait_sent(10)
    sent.clear()
    view._on_custom(view, {"type": "sync", "have": [[0, 1]], "seen_seq": None}, [])
    assert view.wait_sent(10)
    assert sorted(f["index"] for c in sent for f in c["frames"]) == [1, 2]
    view._on_custom(view, {"type": "unknown"}, [])  # ignored
    view.close()


def test_player_drives_views(rec):
    a, b = nnv.DecisionBoundary(rec), nnv.DecisionBoundary(rec)
    player = nnv.Player(rec, a, b)
    assert not a.controls and not b.follow and len(player._links) == 2
    with pytest.raises(TypeError, match="Player can drive nnviz_widgets views"):
        player.drive("not a view")
    for w in (a, b, player):
        w.close()


@pytest.mark.parametrize(
    "make, err, match",
    [
        (lambda rec: nnv.DecisionBoundary("run"), TypeError, "source must be a nnviz_widgets Recorder or Run"),
        (lambda rec: nnv.DecisionBoundary(rec, colour="red"), TypeError, r"unexpected keyword.*\['colour'\]"),
        (lambda rec: nnv.DecisionBoundary(rec, speed=0), Exception, "speed must be between 0 and 120"),
        (lambda rec: nnv.Player(42), TypeError, "source must be"),
    ],
)
def test_widget_errors(rec, make, err, match):
    with pytest.raises(err, match=match):
        make(rec)


def test_missing_bundle_says_how_to_build(rec, monkeypatch, tmp_path):
    from nnviz_widgets.widgets import _base

    monkeypatch.setattr(_base, "STATIC", tmp_path)
    with pytest.raises(FileNotFoundError, match="npm --prefix js"):
        nnv.DecisionBoundary(rec)


def test_player_traits_are_declared_once_and_match_the_front_end():
    """Every view has the player's traits (FrameView declares them) and the browser redraws on the same list."""
    assert PLAYER_TRAITS <= set(FrameView.class_trait_names(sync=True))
    for view in (nnv.DecisionBoundary, nnv.WeightMosaic, nnv.EmbeddingScatter, nnv.Player):
        assert PLAYER_TRAITS <= set(view.class_trait_names(sync=True)), view
    controls = (pathlib.Path(__file__).parents[1] / "js" / "src" / "lib" / "controls.js").read_text()
    listed = re.search(r"export const PLAYER_TRAITS = (\[[^\]]*\]);", controls)
    assert listed and set(json.loads(listed.group(1))) == PLAYER_TRAITS
