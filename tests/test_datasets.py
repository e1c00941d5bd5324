from pathlib import Path

import numpy as np
import pytest

import nnviz_widgets as nnv

SEED_DATA = Path(__file__).resolve().parent / "fixtures" / "seed-data"  # copies of the project's seed CSVs
GENERATORS = ["moons", "circles", "xor", "spiral", "blobs"]


@pytest.mark.parametrize("name", GENERATORS)
def test_generators_are_seeded_and_shaped(name):
    make = getattr(nnv.datasets, name)
    X, y = make(300, seed=3)
    X2, y2 = make(300, seed=3)
    X3, _ = make(300, seed=4)
    assert X.shape == (300, 2) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, X3)
    assert len(set(y.tolist())) >= 2 and np.isfinite(X).all()


def test_xor_labels_follow_the_quadrants():
    X, y = nnv.datasets.xor(2000, noise=0.0, seed=0)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(int))


def test_spiral_and_blobs_classes():
    assert set(nnv.datasets.spiral(90, classes=3)[1].tolist()) == {0, 1, 2}
    assert set(nnv.datasets.blobs(90, centers=4)[1].tolist()) == {0, 1, 2, 3}
    with pytest.raises(ValueError, match="classes must be an int from 2 to 10"):
        nnv.datasets.spiral(classes=11)
    with pytest.raises(ValueError, match="n must be an int"):
        nnv.datasets.moons(1)


def _csv(tmp_path, text):
    path = tmp_path / "data.csv"
    path.write_text(text)
    return path


def test_load_csv_reads_seed_style_files(tmp_path):
    X, y = nnv.datasets.load_csv(_csv(tmp_path, ",x,y,cluster\n0,0.5,1.5,1\n1,-2,3,0\n"), x=["x", "y"], y="cluster")
    np.testing.assert_allclose(X, [[0.5, 1.5], [-2, 3]])
    assert y.tolist() == [1, 0]
    X, _ = nnv.datasets.load_csv(_csv(tmp_path, ",x,y,cluster\n0,0.5,1.5,1\n"))  # x defaults to the other columns
    assert X.shape == (1, 2)


def test_load_csv_string_labels(tmp_path):
    _, y = nnv.datasets.load_csv(_csv(tmp_path, "a,b,kind\n1,2,cat\n3,4,dog\n"), y="kind")
    assert y.tolist() == ["cat", "dog"]


@pytest.mark.parametrize("name", ["moons", "circles", "biclusters"])
def test_load_csv_seed_data(name):
    X, y = nnv.datasets.load_csv(SEED_DATA / f"{name}.csv", x=["x", "y"], y="cluster")
    assert X.shape == (500, 2) and set(y.tolist()) == {0, 1}


@pytest.mark.parametrize(
    "text, kwargs, match",
    [
        (",x,y,cluster\n", {}, "no data rows"),
        (",x,y,cluster\n0,1,2,0\n", {"y": "label"}, "y='label' is not a column"),
        (",x,y,cluster\n0,1,2,0\n", {"x": ["x", "z"]}, "not in"),
        (",x,y,cluster\n0,a,2,0\n", {"x": ["x", "y"]}, "not a number"),
    ],
)
def test_load_csv_errors(tmp_path, text, kwargs, match):
    with pytest.raises(ValueError, match=match):
        nnv.datasets.load_csv(_csv(tmp_path, text), **kwargs)


def test_load_csv_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no file"):
        nnv.datasets.load_csv(tmp_path / "nope.csv")
