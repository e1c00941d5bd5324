"""WeightMosaic: tile layout rules (pure functions), the widget's state, layer switching, errors."""

import numpy as np
import pytest
import torch
from torch import nn

import nnviz_widgets as nnv
from nnviz_widgets.run.codec import Encoded
from nnviz_widgets.widgets.mosaic import grid_shape, image_shape_of, tile_layout


@pytest.mark.parametrize(
    "n, shape",
    [
        (1, (1, 1)),
        (2, (1, 2)),
        (7, (3, 3)),
        (10, (3, 4)),
        (12, (3, 4)),
        (25, (5, 5)),
        (64, (8, 8)),
        (100, (10, 10)),
        (4096, (64, 64)),
        (97, (10, 10)),
        (128, (8, 16)),
        (0, (0, 0)),
    ],
)
def test_grid_shape_is_the_most_square(n, shape):
    assert grid_shape(n) == shape
    rows, cols = shape
    assert rows * cols >= n and (n == 0 or rows * cols - n < cols)  # padding never fills a whole row


def test_image_shapes():
    assert image_shape_of(784) == (1, 28, 28) and image_shape_of(64) == (1, 8, 8)
    assert image_shape_of(30) == (1, 5, 6) and image_shape_of(13) == (1, 4, 4)  # prime: padded
    assert image_shape_of(784, (14, 56)) == (1, 14, 56) and image_shape_of(12, (3, 2, 2)) == (3, 2, 2)
    with pytest.raises(ValueError, match=r"image_shape \(27, 27\) holds 729 values but the model's input has 784"):
        image_shape_of(784, (27, 27))
    with pytest.raises(ValueError, match="1 or 3 channels"):
        image_shape_of(32, (2, 4, 4))
    with pytest.raises(TypeError, match="image_shape"):
        image_shape_of(4, "2x2")


def linear(out, fan_in, input=False, outputs=None):
    return {"type": "Linear", "shape": [out, fan_in], "input": input, "features": 784, "outputs": outputs}


def test_seed_mnist_layouts():
    """784-100-64-25-10: 10x10 tiles of 28x28, 8x8 tiles of 10x10, 5x5 tiles of 8x8."""
    for info, tiles, hw, grid in [
        (linear(100, 784, input=True), 100, (28, 28), (10, 10)),
        (linear(64, 100), 64, (10, 10), (8, 8)),
        (linear(25, 64), 25, (8, 8), (5, 5)),
    ]:
        lay = tile_layout(info)
        assert (lay["tiles"], (lay["h"], lay["w"]), (lay["rows"], lay["cols"])) == (tiles, hw, grid)
        assert lay["values"] == info["shape"][1] and not lay["rgb"] and not lay["flip"]


def test_hidden_layer_with_a_square_fan_in_is_not_taken_for_the_image():
    # the image shape applies only to layers that read the model's input
    lay = tile_layout(linear(10, 784, input=False), image_shape=(14, 56))
    assert (lay["h"], lay["w"]) == (28, 28)
    lay = tile_layout(linear(10, 784, input=True), image_shape=(14, 56))
    assert (lay["h"], lay["w"]) == (14, 56)


def test_conv_layouts():
    gray = tile_layout({"type": "Conv2d", "shape": [6, 1, 5, 5]})
    assert (gray["tiles"], gray["values"], gray["h"], gray["w"], gray["rgb"], gray["channels"]) == (
        6,
        25,
        5,
        5,
        False,
        1,
    )
    rgb = tile_layout({"type": "Conv2d", "shape": [16, 3, 3, 3]})
    assert (rgb["tiles"], rgb["values"], rgb["rgb"], rgb["cols"]) == (16, 27, True, 4)
    per_channel = tile_layout({"type": "Conv2d", "shape": [4, 6, 3, 3]})
    assert (per_channel["tiles"], per_channel["values"], per_channel["cols"], per_channel["rows"]) == (24, 9, 6, 4)


def test_outputs_and_paging_layouts():
    lay = tile_layout(linear(16, 2, outputs=[50, 50]), show="outputs")
    assert (lay["tiles"], lay["values"], lay["h"], lay["w"], lay["flip"]) == (16, 2500, 50, 50, True)
    big = tile_layout(linear(4096, 784, input=True), page_size=256)
    assert big["tiles"] == 4096 and (big["rows"], big["cols"]) == (16, 16) and big["page_size"] == 256


@pytest.fixture
def digits_rec():
    torch.manual_seed(0)
    X, y = nnv.datasets.digits()
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 100), nn.ReLU(), nn.Linear(100, 64), nn.ReLU(), nn.Linear(64, 10))
    return nnv.Recorder(model, X[:300], y[:300], grid=20)


def test_mosaic_state_and_stream(digits_rec, train):
    view = nnv.WeightMosaic(digits_rec)
    assert view.layer == "1" and view.layer_names == ["1", "3", "5"]  # default: the first weight layer
    assert (view.tiling["h"], view.tiling["w"], view.tiling["tiles"]) == (8, 8, 100)  # 64 inputs: an 8x8 image
    sent = []
    view.send = lambda content, buffers=None: sent.append((content, buffers))
    train(digits_rec, epochs=3)
    assert view.wait_sent(10)
    frames = [f for c, _ in sent for f in c["frames"]]
    assert sorted(f["index"] for f in frames) == [0, 1, 2]
    assert all(list(f["arrays"]) == ["weights/1"] for f in frames)  # only the layer shown travels
    content, buffers = sent[-1]
    header = content["frames"][-1]["arrays"]["weights/1"]
    assert header["dtype"] == "uint16" and header["shape"] == [100, 64]
    view.close()


def test_switching_layer_resends_every_frame_with_it(digits_rec, train):
    view = nnv.WeightMosaic(digits_rec, layer="1")
    sent = []
    view.send = lambda content, buffers=None: sent.append(content)
    train(digits_rec, epochs=2)
    assert view.wait_sent(10)
    sent.clear()
    view.page, view.pinned = 0, 3
    view.layer = "3"
    assert view.wait_sent(10)
    assert (view.tiling["h"], view.tiling["w"], view.tiling["tiles"]) == (10, 10, 64) and view.pinned == -1
    frames = [f for c in sent for f in c["frames"]]
    assert sorted(f["index"] for f in frames) == [0, 1] and all(list(f["arrays"]) == ["weights/3"] for f in frames)
    with pytest.raises(Exception, match=r"layer 'nope' was not recorded.*\['1', '3', '5'\]"):
        view.layer = "nope"
    view.close()


def test_player_drives_boundary_and_mosaic(digits_rec):
    boundary, mosaic = nnv.DecisionBoundary(digits_rec), nnv.WeightMosaic(digits_rec, layer="3")
    player = nnv.Player(digits_rec, boundary, mosaic)
    assert not mosaic.controls and not mosaic.follow and len(player._links) == 2
    for w in (boundary, mosaic, player):
        w.close()


def test_outputs_view(moons, mlp):
    rec = nnv.Recorder(mlp, *moons, grid=100)
    rec.capture()
    view = nnv.WeightMosaic(rec, layer="2", show="outputs")
    assert (view.tiling["tiles"], view.tiling["h"], view.tiling["flip"]) == (16, 50, True)
    view.close()
    rec2 = nnv.Recorder(mlp, *moons, grid=40, outputs=False)
    with pytest.raises(ValueError, match="no recorded outputs"):
        nnv.WeightMosaic(rec2, show="outputs")


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        ({"layer": "fc9"}, ValueError, r"layer 'fc9' was not recorded; recorded layers are \['1', '3', '5'\]"),
        ({"layer": "2"}, ValueError, r"'2' is a ReLU, which has no weights"),
        ({"image_shape": (7, 7)}, ValueError, r"image_shape \(7, 7\) holds 49 values but the model's input has 64"),
        ({"scale": "global"}, ValueError, "scale must be one of"),
        ({"show": "biases"}, ValueError, "show must be one of"),
        ({"page_size": 0}, ValueError, "page_size"),
        ({"colour": "red"}, TypeError, r"unexpected keyword.*\['colour'\]"),
    ],
)
def test_bad_input(digits_rec, kwargs, err, match):
    with pytest.raises(err, match=match):
        nnv.WeightMosaic(digits_rec, **kwargs)


def test_run_without_weights_is_refused(digits_rec):
    X, y = nnv.datasets.digits()
    rec = nnv.Recorder(digits_rec.model, X[:50], y[:50], grid=10, layers=[])
    with pytest.raises(ValueError, match="recorded no layer weights"):
        nnv.WeightMosaic(rec)


def test_nan_weights_reach_the_view(digits_rec):
    with torch.no_grad():
        digits_rec.model[1].weight[0] = float("nan")
    frame = digits_rec.capture()
    assert np.isnan(frame.weights["1"][0]).all()
    view = nnv.WeightMosaic(digits_rec)  # constructing on a diverged run works; the browser greys tile 0
    view.close()


def test_a_layer_of_many_pages_sends_only_the_page_on_screen(train):
    """600 neurons at page_size=256: each frame carries tiles 0..255 (not all 600); turning the page resends every
    frame with that page's tiles, cut from the recorded codes on the layer's own scale."""
    torch.manual_seed(0)
    X, y = nnv.datasets.digits()
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 600), nn.ReLU(), nn.Linear(600, 10))
    rec = nnv.Recorder(model, X[:200], y[:200], grid=10, layers="1")
    view = nnv.WeightMosaic(rec, layer="1", page_size=256)
    sent = []
    view.send = lambda content, buffers=None: sent.append((content, buffers))
    train(rec, epochs=3)
    assert view.wait_sent(10)

    def received():
        out = {}
        for content, buffers in sent:
            for f in content["frames"]:
                ((name, header),) = f["arrays"].items()
                out[f["index"]] = (name, Encoded(header, bytes(buffers[header["buffer"]])))
        return out

    got = received()
    assert sorted(got) == [0, 1, 2]
    for i, (name, enc) in got.items():
        assert name == "weights/1[0:256]" and enc.header["shape"] == [256, 64]
        np.testing.assert_array_equal(enc.decode(), rec.run[i].weights["1"][:256])  # same codes, same scale
    assert enc.nbytes == 256 * 64 * 2 < rec.run[2].arrays["weights/1"].nbytes

    sent.clear()
    view.page = 2  # the last page: tiles 512..599
    assert view.wait_sent(10)
    got = received()
    assert sorted(got) == [0, 1, 2] and {name for name, _ in got.values()} == {"weights/1[512:600]"}
    np.testing.assert_array_equal(got[1][1].decode(), rec.run[1].weights["1"][512:])
    with pytest.raises(Exception, match=r"page must be 0 to 2 \(600 tiles\), got 3"):
        view.page = 3
    sent.clear()
    view.page_size = 1024  # one page again: the whole layer under its own name
    assert view.wait_sent(10) and view.page == 0
    assert {name for name, _ in received().values()} == {"weights/1"}
    view.close()


def test_tile_size_is_a_synced_trait_with_limits(digits_rec):
    view = nnv.WeightMosaic(digits_rec, tile_size=24)
    assert view.tile_size == 24 and view.trait_metadata("tile_size", "sync")
    view.tile_size = 0  # fit `width`, as the view's "auto"
    with pytest.raises(Exception, match=r"tile_size must be 0 \(fit `width`\) to 256 px, got -4"):
        view.tile_size = -4
    view.close()
    with pytest.raises(Exception, match="tile_size must be"):
        nnv.WeightMosaic(digits_rec, tile_size=1000)


def test_output_maps_say_when_they_are_pre_activation(moons):
    """A layer followed by an activation module shows its maps after it; one whose activation is a function call in
    forward() (invisible to hooks) is labelled pre-activation, not passed off as the neuron's output."""

    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2, self.act, self.out = nn.Linear(2, 8), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 2)

        def forward(self, x):
            return self.out(self.act(self.fc2(torch.relu(self.fc1(x)))))

    torch.manual_seed(0)
    rec = nnv.Recorder(Functional(), *moons, grid=30)
    frame = rec.capture()
    assert rec.run.layers["fc1"]["activation"] is None and rec.run.layers["fc2"]["activation"] == "Tanh"
    assert frame.outputs["fc1"].min() < 0  # raw outputs: a ReLU would have cut the negatives
    view = nnv.WeightMosaic(rec, layer="fc1", show="outputs")
    assert view.tiling["activation"] is None
    view.close()
    seq = nnv.Recorder(nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2)), *moons, grid=30)
    assert seq.run.layers["0"]["activation"] == "ReLU"
    assert tile_layout(seq.run.layers["0"], show="outputs")["activation"] == "ReLU"
    assert "activation" not in tile_layout(seq.run.layers["0"])  # weights: no such question
