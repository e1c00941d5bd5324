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


def test_load_csv_label_column_defaults_and_column_names(tmp_path):
    X, y = nnv.datasets.load_csv(_csv(tmp_path, ",x,y,cluster\n0,0.5,1.5,1\n1,-2,3,0\n"))  # the seed data's name
    assert y.tolist() == [1, 0] and X.columns == ("x", "y")
    X, y = nnv.datasets.load_csv(_csv(tmp_path, "sepal,petal,species\n1,2,setosa\n3,4,virginica\n"))  # last column
    assert y.tolist() == ["setosa", "virginica"] and X.columns == ("sepal", "petal")
    np.testing.assert_allclose(X, [[1, 2], [3, 4]])
    X, _ = nnv.datasets.load_csv(_csv(tmp_path, "a,label,b\n1,u,2\n3,v,4\n"), y="label")
    assert X.columns == ("a", "b") and X[:, [1]].columns == ("b",) and X[1:].columns == ("a", "b")
    with pytest.raises(ValueError, match=r"no column named 'cluster', and its last column \('b'\) is one of x"):
        nnv.datasets.load_csv(_csv(tmp_path, "a,label,b\n1,u,2\n"), x=["a", "b"])
    with pytest.raises(ValueError, match=r"last column \(''\) is unnamed; name the label column with y="):
        nnv.datasets.load_csv(_csv(tmp_path, "a,b,\n1,2,3\n"))
    with pytest.raises(ValueError, match="would leave no feature columns"):
        nnv.datasets.load_csv(_csv(tmp_path, "kind\na\n"))


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


def test_column_names_follow_rows_and_never_label_another_column(tmp_path):
    from sklearn.model_selection import train_test_split

    X, _ = nnv.datasets.load_csv(_csv(tmp_path, "a,b,c,kind\n1,2,3,u\n4,5,6,v\n7,8,9,u\n"))
    train, _ = train_test_split(X, test_size=1, random_state=0)
    assert train.columns == ("a", "b", "c")  # rows chosen: the names stay
    assert ((X - X.mean(0)) / X.std(0)).columns == ("a", "b", "c")  # per-column scaling too
    assert X[:, [2, 0]].columns == ("c", "a") and X[..., 1:].columns == ("b", "c")
    assert X.astype(np.float64).columns == ("a", "b", "c")
    for moved in (X @ np.ones((3, 3)), X.T, X.reshape(-1, 3)[::-1].reshape(3, 3).T, np.c_[X, X], X[:, 0]):
        assert getattr(moved, "columns", None) is None, "an array whose columns may have moved loses the names"
