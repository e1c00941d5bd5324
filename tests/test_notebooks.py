"""Every notebook in notebooks/ runs top to bottom on a fresh kernel (offline, headless), and shows what its first
sentence says to look for."""

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    names = {p.name[:3] for p in NOTEBOOKS}
    assert {"01_", "02_", "03_", "04_", "05_", "06_", "07_", "08_"} <= names, sorted(p.name for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_says_what_to_look_for(path):
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), "open with a title"
    assert "what to look for:" in first.source.lower(), "the first cell should say, in one sentence, what to look for"


def _accuracies(text: str) -> dict[str, list[float]]:
    """The accuracy table the 02 notebook prints last: {data set: [acc per network shape]}."""
    rows = re.findall(r"^(circles|xor|spiral|blobs)((?:\s+[01]\.\d{3}){3})\s*$", text, flags=re.M)
    return {name: [float(v) for v in values.split()] for name, values in rows}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.get("outputs") for c in code), "commit notebooks with outputs stripped"
    assert all(c.get("execution_count") is None for c in code), "commit notebooks with execution counts stripped"
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in code for o in c.get("outputs", [])]
    text = "\n".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "Traceback" not in text
    # a tour that prints warnings teaches people to ignore them (08 once printed torch's float(loss) warning)
    stderr = "\n".join(o.get("text", "") for o in outputs if o.get("name") == "stderr")
    assert "Warning" not in stderr, stderr
    if path.name.startswith("09_"):  # rank 0 alone recorded every epoch, followed from the (stand-in) bucket
        assert "120 frames followed; job exit status 0" in text, text
        assert "rank 0: recording=True" in text and "rank 1: recording=False" in text
        assert re.search(r"^spiral\s+120\s+120\s.*\bended\b", text, flags=re.M), text
    if path.name.startswith("01_"):
        assert "100 frames recorded" in text and (tmp_path / "moons.html").is_file()
    if path.name.startswith("02_"):
        acc = _accuracies(text)
        assert set(acc) == {"circles", "xor", "spiral", "blobs"}, text
        narrow, wide, deep = acc["spiral"]
        assert deep >= 0.95 and deep > narrow + 0.2, f"depth should untangle the spiral: {acc['spiral']}"
        assert acc["circles"][1] > acc["circles"][0] + 0.1, f"width should close the ring: {acc['circles']}"
        assert acc["xor"][1] > acc["xor"][0] + 0.1, f"width should solve xor: {acc['xor']}"
        assert "classes: [0, 1, 2, 3]" in text
    if path.name.startswith("05_"):
        assert "PC1 (" in text and "PC3 (" in text, "the two recorders should draw on PC1/PC2 and PC3/PC4"
        assert "41 frames recorded" in text
        sil = [float(v) for v in re.findall(r"silhouette of hidden layer 3 = (-?[\d.]+)", text)]
        assert len(sil) == 3 and sil[2] > sil[0] + 0.1, f"the hidden classes should pull apart: {sil}"
    if path.name.startswith("08_"):
        sizes = re.findall(r"shared/(wide|deep-report|wide-vs-deep)\.html: ([\d.]+) MB", text)
        assert [n for n, _ in sizes] == ["wide", "deep-report", "wide-vs-deep"], text
        assert all((tmp_path / "shared" / f"{n}.html").is_file() for n, _ in sizes)
        assert "wide: 61 frames" in text and "deep: 31 frames" in text
        decided = {
            int(e): (float(w), float(d)) for e, w, d in re.findall(r"epoch (\d+): wide (\d+)%, deep (\d+)%", text)
        }
        assert set(decided) == {10, 60}, text
        assert decided[10][0] > decided[10][1] + 30, f"the deep network should commit later: {decided}"
        assert decided[60][1] > decided[10][1] + 20, f"the deep network should then catch up: {decided}"
    if path.name.startswith("07_"):
        seen = re.search(r"frame counts seen while the script trained: \[([\d, ]+)\]; the run now has (\d+)", text)
        assert seen, text
        counts = [int(v) for v in seen.group(1).split(",")]
        assert int(seen.group(2)) == 61, "the follower should read every frame the script wrote"
        assert len([c for c in counts if 0 < c < 61]) >= 2, f"the view should grow while the script trains: {counts}"
        assert "frames    61" in text and "torn      no" in text, "nnviz info should describe the finished run"
        assert (tmp_path / "moons.html").is_file()
        video = tmp_path / "moons.mp4"
        assert video.is_file() or "no MP4: " in text
        if video.is_file():
            assert video.read_bytes()[4:8] == b"ftyp", "an MP4 file starts with an ftyp box"
    if path.name.startswith("03_"):
        smooth = re.search(r"neighbouring-pixel correlation: (-?[\d.]+) at epoch 1, (-?[\d.]+) at epoch 30", text)
        assert smooth, text
        noise, strokes = float(smooth.group(1)), float(smooth.group(2))
        assert noise < 0.3 and strokes > 0.7, (
            f"first-layer tiles should turn from noise into strokes: {noise}, {strokes}"
        )
        dead = {name: (int(n), int(of)) for name, n, of in re.findall(r"layer (\d): (\d+) of (\d+) neurons dead", text)}
        assert [of for _, of in dead.values()] == [100, 64, 25], text
        assert dead["0"][0] >= 1 and all(n < of / 4 for n, of in dead.values()), f"a few dead neurons: {dead}"
    if path.name.startswith("04_"):
        knn = dict(re.findall(r"^(tsne|pca)\s*: 10-NN accuracy ([\d.]+)", text, flags=re.M))
        assert set(knn) == {"tsne", "pca"}, text
        assert float(knn["tsne"]) > 0.85 and float(knn["tsne"]) > float(knn["pca"]) + 0.2, f"t-SNE islands: {knn}"
        sil = [float(v) for v in re.findall(r"silhouette of hidden layer 1 = (-?[\d.]+)", text)]
        assert len(sil) == 3 and sil[2] > sil[0] + 0.1, f"the hidden layer's classes should pull apart: {sil}"
    if path.name.startswith("06_"):
        ways = dict(
            re.findall(r"^(fit|watch \(own loop\)|scikit-learn|Lightning|Keras)\s+(\d+ frames.*)$", text, flags=re.M)
        )
        assert {"fit", "watch (own loop)", "scikit-learn"} <= set(ways), text
        views = {line.split("views: ")[1] for line in ways.values()}
        assert len(views) == 1, f"every way of training should give the same dashboard: {ways}"
        assert {"boundary", "mosaic", "curves"} <= set(views.pop().split(", ")), ways
        frames = {name: line.split(";")[0] for name, line in ways.items()}
        assert frames["fit"] == "31 frames, epochs 0-30" and frames["scikit-learn"] == "20 frames, epochs 1-20", frames
        assert frames["watch (own loop)"] == "20 frames, epochs 1-20", frames
        assert all(
            frames.get(k, "11 frames, epochs 0-10") == "11 frames, epochs 0-10" for k in ("Lightning", "Keras")
        ), frames
