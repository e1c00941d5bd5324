"""Video export: frames drawn in Python like the browser view, written as GIF and MP4."""

import copy
import json
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

import nnviz_widgets as nnv
from nnviz_widgets.export.video import (
    DASHBOARD_SIZE,
    DIVERGED_GREY,
    MARGIN,
    MOSAIC_SIZE,
    SIZE,
    band_lut,
    class_colors,
    diverging_rgb,
    fill_rgb,
    mosaic_layer,
    render_frame,
)
from nnviz_widgets.run.codec import encode

REPO = pathlib.Path(__file__).resolve().parent.parent

iio = pytest.importorskip("imageio.v3", reason="the video extra (imageio) is not installed")
pytest.importorskip("imageio_ffmpeg", reason="the video extra (imageio-ffmpeg) is not installed")


@pytest.fixture
def run(rec, train):
    return train(rec, epochs=4).run


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_video_decodes_with_one_frame_per_capture(run, tmp_path, suffix):
    path = run.to_video(tmp_path / f"moons{suffix}", fps=5, progress=False)
    frames = iio.imread(path)
    assert frames.shape == (len(run), SIZE[1], SIZE[0], 3)
    assert frames.std() > 10  # a picture, not a blank


def test_progress_bar_on_stderr(run, tmp_path, capsys):
    run.to_video(tmp_path / "m.gif")
    assert f"{len(run):4d}/{len(run)}" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("node") is None, reason="node is needed to run js/src/lib/colormap.js")
@pytest.mark.parametrize("k", [2, 3])
def test_colours_equal_the_browser_colormap(k, tmp_path):
    """The same cell colours as js/src/lib/colormap.js renderGridRGBA, run by node on the same codes."""
    rng = np.random.default_rng(k)
    probs = rng.dirichlet(np.ones(k) * 0.5, size=(7, 9))
    probs[2, 3] = np.nan
    probs[4, 4] = 1 / k  # a tie: the first class wins
    enc = encode(probs, "uint8", lo=0, hi=1)
    h = enc.header
    boundary = {**h, "codes": list(enc.data)}
    script = tmp_path / "render.mjs"
    script.write_text(
        f"import {{ classColors, renderGridRGBA }} from {json.dumps((REPO / 'js/src/lib/colormap.js').as_uri())};\n"
        f"const b = {json.dumps(boundary)};\n"
        "const rgba = renderGridRGBA(b, classColors([], b.shape[2]));\n"
        "console.log(JSON.stringify(Array.from(rgba)));\n"
    )
    out = subprocess.run(["node", str(script)], capture_output=True, text=True, timeout=60, check=True).stdout
    js = np.array(json.loads(out), dtype=np.uint8).reshape(7, 9, 4)[..., :3]
    py = fill_rgb(enc, class_colors(k))[::-1]  # JS image row 0 is the top of the plot
    np.testing.assert_array_equal(py, js)


def test_frame_shows_the_boundary_colours(run):
    img = np.asarray(render_frame(run, -1))
    assert img.shape == (SIZE[1], SIZE[0], 3)
    lut = band_lut(class_colors(2)).reshape(-1, 3)
    plot = img[40:480, 60:620].reshape(-1, 3).astype(int)
    near = (np.abs(plot[:, None, :] - lut[None]).sum(-1) <= 6).any(-1)
    assert near.mean() > 0.6  # most of the plot is the colormap's colours


def test_bad_views_and_paths(run, tmp_path):
    with pytest.raises(ValueError, match="layer 'fc9' was not recorded"):
        run.to_video(tmp_path / "m.mp4", view="mosaic", layer="fc9")
    with pytest.raises(ValueError, match="view must be one of"):
        run.to_video(tmp_path / "m.mp4", view="nope")
    with pytest.raises(ValueError, match=r"\.mp4 or \.gif"):
        run.to_video(tmp_path / "m.avi")
    with pytest.raises(ValueError, match="fps"):
        run.to_video(tmp_path / "m.mp4", fps=0)
    (tmp_path / "file").write_text("x")
    with pytest.raises(OSError, match="could not write the video"):
        run.to_video(tmp_path / "file" / "m.mp4")


def test_missing_extra_names_it(run, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"nnviz_widgets\[video\]"):
        run.to_video(tmp_path / "m.mp4", progress=False)


def test_missing_ffmpeg_binary_names_the_extra(run, tmp_path, monkeypatch):
    import imageio_ffmpeg

    def missing():
        raise RuntimeError("No ffmpeg exe could be found")

    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", missing)
    with pytest.raises(RuntimeError, match=r"no ffmpeg found.*nnviz_widgets\[video\]"):
        run.to_video(tmp_path / "m.mp4", progress=False)


def test_mosaic_video_frames_are_the_weights(run, tmp_path):
    """Each tile of the mosaic video is its neuron's weights (or outputs) on the run's one symmetric scale."""
    path = run.to_video(tmp_path / "w.gif", view="mosaic", layer="2", progress=False)
    frames = iio.imread(path)
    assert frames.shape == (len(run), MOSAIC_SIZE[1], MOSAIC_SIZE[0], 3)
    layer, show, lay, m = mosaic_layer(run, "2")
    assert (layer, show) == ("2", "outputs")  # 2-D data: neuron outputs, as the Dashboard shows
    assert m == pytest.approx(max(np.abs(f.outputs["2"]).max() for f in run), rel=1e-6)
    maps = run[-1].outputs["2"]  # (16, 50, 50), row 0 at the bottom
    n, h, w = maps.shape
    cols, rows = lay["cols"], lay["rows"]
    tile = min((MOSAIC_SIZE[0] - 16) // cols, (MOSAIC_SIZE[1] - 34 - 44) // rows) - 2
    rng = np.random.default_rng(0)
    t, r, c = rng.integers(0, n, 300), rng.integers(0, h, 300), rng.integers(0, w, 300)
    x = 8 + (t % cols) * (tile + 2) + ((c + 0.5) * tile / w).astype(int)
    y = 34 + (t // cols) * (tile + 2) + ((h - 1 - r + 0.5) * tile / h).astype(int)
    got = frames[-1][y, x].astype(int)
    want = diverging_rgb(maps[t, r, c], m).astype(int)
    assert np.abs(got - want).max(axis=1).mean() <= 4  # GIF's palette rounds a little


def test_dashboard_video_shows_boundary_mosaic_and_curves(run, tmp_path):
    path = run.to_video(tmp_path / "d.mp4", view="dashboard", fps=5, progress=False)
    frames = iio.imread(path)
    assert frames.shape == (len(run), DASHBOARD_SIZE[1], DASHBOARD_SIZE[0], 3)
    boundary = np.asarray(render_frame(run, -1)).astype(int)
    assert np.abs(frames[-1][:, : SIZE[0]].astype(int) - boundary).mean() < 4  # H.264 is lossy, not different
    assert frames[-1][:, SIZE[0] :].std() > 10  # the mosaic and curves drew something


def _run_with_states(X, y, model, epochs, lr, **options):
    """A recorded run and the model's weights at every capture, to ask the model itself what each frame shows."""
    rec = nnv.Recorder(model, X, y, **options)
    opt = torch.optim.Adam(model.parameters(), lr)
    Xt, yt = torch.as_tensor(rec.X), torch.as_tensor(rec.y)
    states = []
    for _ in range(epochs):
        loss = nn.functional.cross_entropy(model(Xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        rec.capture(loss=loss.item())
        states.append({k: v.clone() for k, v in model.state_dict().items()})
    return rec, states


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_boundary_video_pixels_are_the_models_argmax_and_a_diverged_frame_is_grey(tmp_path, suffix):
    """Sampled plot pixels of every frame (GIF and MP4, decoded) show the class the model, loaded with that
    frame's weights, predicts there; the frame of a model with NaN weights is grey."""
    X, y = nnv.datasets.moons(150, noise=0.2, seed=3)
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    rec, states = _run_with_states(X, y, model, 4, 5e-2, grid=40)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(float("nan"))
    rec.capture(loss=float("nan"))
    run = rec.run
    frames = iio.imread(run.to_video(tmp_path / f"b{suffix}", fps=5, progress=False)).astype(int)
    assert len(frames) == len(run) == 5 and run[-1].diverged

    xs, ys = run.grid
    xmin, xmax, ymin, ymax = run.grid.extent
    pw, ph = SIZE[0] - MARGIN["left"] - MARGIN["right"], SIZE[1] - MARGIN["top"] - MARGIN["bottom"]
    gx, gy = np.meshgrid(xs, ys)
    cx = MARGIN["left"] + (gx - xmin) / (xmax - xmin) * pw
    cy = MARGIN["top"] + (ymax - gy) / (ymax - ymin) * ph
    dots = np.stack([MARGIN["left"] + (run.points[:, 0] - xmin) / (xmax - xmin) * pw,
                     MARGIN["top"] + (ymax - run.points[:, 1]) / (ymax - ymin) * ph], axis=1)  # fmt: skip
    far = np.sqrt(((np.stack([cx, cy], -1)[..., None, :] - dots) ** 2).sum(-1)).min(-1) > 10
    far[[0, -1]], far[:, [0, -1]] = False, False  # the plot's frame is drawn over the outermost cells
    lut = band_lut(class_colors(2)).astype(int)
    tolerance = 8 if suffix == ".gif" else 30  # GIF's palette; H.264's 4:2:0 chroma
    probe = copy.deepcopy(model)
    for k, state in enumerate(states):
        probe.load_state_dict(state)
        with torch.no_grad():
            p = torch.softmax(probe(torch.as_tensor(np.stack([gx, gy], -1), dtype=torch.float32)), -1).numpy()
        win = p.argmax(-1)
        # one winning class in the cell's 5x5 neighbourhood: no boundary line, no blend of two hues
        pad = np.pad(win, 2, mode="edge")
        steady = np.all([pad[2 + a : 2 + a + win.shape[0], 2 + b : 2 + b + win.shape[1]] == win
                         for a in range(-2, 3) for b in range(-2, 3)], axis=0)  # fmt: skip
        ii, jj = np.nonzero(steady & far)
        assert len(ii) >= 100
        got = frames[k][cy[ii, jj].astype(int), cx[ii, jj].astype(int)]
        shown = np.abs(lut[None] - got[:, None, None]).sum(-1).reshape(len(got), -1).argmin(1) // lut.shape[1]
        assert (shown == win[ii, jj]).mean() >= 0.99, f"frame {k}: the pixels are not the model's classes"
        want = fill_rgb(run[k].arrays["boundary"], class_colors(2))[ii, jj]
        assert np.abs(got - want).max(1).mean() <= tolerance / 2 and np.median(np.abs(got - want)) <= tolerance
    ii, jj = np.nonzero(far)
    grey = frames[-1][cy[ii, jj].astype(int), cx[ii, jj].astype(int)]
    assert np.abs(grey - np.array(DIVERGED_GREY)).max(1).mean() <= tolerance / 4, "the diverged frame is grey"


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_mosaic_video_tiles_are_the_weights_sign_and_size(tmp_path, suffix):
    """On image data the mosaic video shows each neuron's incoming weights: the decoded tiles' colours are the
    recorded weights on the run's scale (red above zero, blue below), frame by frame."""
    X, y = nnv.datasets.digits()
    torch.manual_seed(4)
    model = nn.Sequential(nn.Linear(64, 12), nn.ReLU(), nn.Linear(12, 10))
    rec, states = _run_with_states(X[:300], y[:300], model, 3, 2e-2, grid=10)
    run = rec.run
    frames = iio.imread(run.to_video(tmp_path / f"w{suffix}", view="mosaic", fps=5, progress=False)).astype(int)
    layer, show, lay, m = mosaic_layer(run)
    assert (layer, show, lay["h"], lay["w"]) == ("0", "weights", 8, 8)
    assert m == pytest.approx(max(np.abs(s["0.weight"].numpy()).max() for s in states), rel=1e-3)
    cols, rows = lay["cols"], lay["rows"]
    tile = min((MOSAIC_SIZE[0] - 16) // cols, (MOSAIC_SIZE[1] - 34 - 44) // rows) - 2
    t, p = np.meshgrid(np.arange(12), np.arange(64), indexing="ij")
    t, p = t.ravel(), p.ravel()
    x = 8 + (t % cols) * (tile + 2) + ((p % 8 + 0.5) * tile / 8).astype(int)
    yy = 34 + (t // cols) * (tile + 2) + ((p // 8 + 0.5) * tile / 8).astype(int)
    tolerance = 6 if suffix == ".gif" else 40
    for k, state in enumerate(states):
        w = state["0.weight"].numpy()[t, p]  # the model's own weights at that capture
        got = frames[k][yy, x]
        want = diverging_rgb(w, m).astype(int)
        assert np.median(np.abs(got - want).max(1)) <= tolerance / 2 and np.abs(got - want).max(1).mean() <= tolerance
        strong = np.abs(w) > 0.3 * m
        assert strong.sum() >= 20 and (np.sign(got[strong, 0] - got[strong, 2]) == np.sign(w[strong])).all()
