"""The ``nnviz`` command: demo, export, info, --help, and its errors."""

import json
import subprocess
import sys

import pytest

import nnviz_widgets as nnv
from nnviz_widgets.cli import main
from nnviz_widgets.run.store import FRAMES, MANIFEST, TornRecordWarning


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "xor", "--epochs", "3", "--out", str(out), "--fps", "5"]) == 0
    return out


def test_demo_records_a_run_a_page_and_a_video(demo_dir, capsys):
    assert len(nnv.open_run(demo_dir / "run")) == 3
    assert (demo_dir / "xor.html").stat().st_size > 10_000
    assert (demo_dir / "xor.mp4").stat().st_size > 1_000


def test_demo_says_where_its_output_is(tmp_path, capsys):
    assert main(["demo", "circles", "--epochs", "2", "--out", str(tmp_path), "--no-video"]) == 0
    out = capsys.readouterr().out
    assert str((tmp_path / "circles.html").resolve()) in out
    assert str((tmp_path / "run").resolve()) in out
    assert not (tmp_path / "circles.mp4").exists()
    assert main(["demo", "circles", "--epochs", "2", "--out", str(tmp_path), "--no-video"]) == 0  # rerun replaces


def test_export_html_and_gif(demo_dir, tmp_path, capsys):
    html, gif = tmp_path / "page.html", tmp_path / "anim.gif"
    assert main(["export", str(demo_dir / "run"), "--html", str(html), "--video", str(gif), "--quiet"]) == 0
    assert html.read_text().startswith("<!doctype html>")
    assert gif.read_bytes()[:6] == b"GIF89a"
    assert str(html.resolve()) in capsys.readouterr().out


def test_export_chosen_views_report_and_mosaic_video(demo_dir, tmp_path, capsys):
    page, rep, gif = tmp_path / "two.html", tmp_path / "report.html", tmp_path / "weights.gif"
    argv = ["export", str(demo_dir / "run"), "--html", str(page), "--views", "boundary", "histograms"]
    assert main([*argv, "--video", str(gif), "--view", "mosaic", "--quiet"]) == 0
    text = page.read_text()
    assert 'data-view="boundary"' in text and 'data-view="histograms"' in text and 'data-view="mosaic"' not in text
    assert gif.read_bytes()[:6] == b"GIF89a"
    assert main(["report", str(demo_dir / "run"), "-o", str(rep), "--title", "XOR"]) == 0
    text = rep.read_text()
    assert "<h1>XOR</h1>" in text and "Linear 2→16" in text and text.count('<p class="hint">') >= 4
    assert str(rep.resolve()) in capsys.readouterr().out
    assert main(["export", str(demo_dir / "run"), "--html", str(page), "--views", "embedding"]) == 1
    assert "needs recorded activations" in capsys.readouterr().err


def test_info(demo_dir, capsys):
    assert main(["info", str(demo_dir / "run")]) == 0
    out = capsys.readouterr().out
    assert "frames    3" in out and "epochs    1 .. 3" in out and "classes   2: 0, 1" in out
    assert "grid      200x200" in out and "torn      no" in out and "last      epoch 3: loss" in out


def test_info_reports_a_torn_record(demo_dir, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    for name in (MANIFEST, "points.npy", "labels.npy"):
        (run / name).write_bytes((demo_dir / "run" / name).read_bytes())
    (run / FRAMES).write_bytes((demo_dir / "run" / FRAMES).read_bytes()[:-100])
    with pytest.warns(TornRecordWarning):
        assert main(["info", str(run)]) == 0
    out = capsys.readouterr().out
    assert "frames    2" in out and "torn      yes" in out


def test_errors_are_one_clear_line(tmp_path, capsys):
    assert main(["info", str(tmp_path)]) == 1
    assert "is not a nnviz run" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "missing"), "--html", str(tmp_path / "x.html")]) == 1
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["export", str(tmp_path)])
    assert "--html FILE and/or --video FILE" in capsys.readouterr().err


def test_newer_format_says_upgrade(demo_dir, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    manifest = json.loads((demo_dir / "run" / MANIFEST).read_text())
    (run / MANIFEST).write_text(json.dumps({**manifest, "version": 3}))
    assert main(["info", str(run)]) == 1
    assert "pip install -U nnviz_widgets" in capsys.readouterr().err


@pytest.mark.parametrize("command", [[], ["demo"], ["export"], ["report"], ["info"]])
def test_help(command):
    out = subprocess.run(
        [sys.executable, "-m", "nnviz_widgets.cli", *command, "--help"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0 and "usage: nnviz" in out.stdout
