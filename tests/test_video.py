"""Video export: frames drawn in Python like the browser view, written as GIF and MP4."""

import json
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

from nnviz_widgets.export.video import (
    DASHBOARD_SIZE,
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
