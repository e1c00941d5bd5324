"""datasets.digits (offline) and datasets.mnist's loading code, against a tiny ARFF fixture (no network)."""

from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import sklearn.datasets
from scipy.io import arff

import nnviz_widgets as nnv

FIXTURE = Path(__file__).parent / "fixtures" / "mnist_784_tiny.arff"


def fake_fetch(calls):
    """fetch_openml as it answers for mnist_784 (pixels 0..255 as floats, labels as strings), from the fixture."""

    def fetch(name, *, version, data_home, as_frame, return_X_y):
        calls.append({"name": name, "version": version, "data_home": data_home, "as_frame": as_frame})
        data, _meta = arff.loadarff(FIXTURE)
        X = np.array([[row[i] for i in range(784)] for row in data], dtype=np.float64)
        y = np.array([row[784].decode() for row in data], dtype=object)
        return X, y

    return fetch


def test_mnist_reads_pixels_and_labels(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(sklearn.datasets, "fetch_openml", fake_fetch(calls))
    X, y = nnv.datasets.mnist(cache=tmp_path / "cache")
    assert X.shape == (6, 784) and X.dtype == np.float32 and 0 <= X.min() and X.max() <= 1
    assert y.tolist() == [0, 1, 2, 3, 4, 5] and y.dtype == np.int64
    assert calls == [{"name": "mnist_784", "version": 1, "data_home": str(tmp_path / "cache"), "as_frame": False}]
    assert (tmp_path / "cache").is_dir()
    # the fixture holds digits(size=28) at 8 bits: what mnist() returns is those images again
    ref, _ = nnv.datasets.digits(size=28)
    np.testing.assert_allclose(X, ref[:6], atol=1 / 255)
    X3, y3 = nnv.datasets.mnist(3, cache=tmp_path / "cache")
    assert X3.shape == (3, 784) and y3.tolist() == [0, 1, 2]


def test_mnist_offline_error_is_clear(monkeypatch, tmp_path):
    def offline(*args, **kwargs):
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", offline)
    with pytest.raises(ConnectionError, match=r"could not download MNIST.*digits\(size=28\)"):
        nnv.datasets.mnist(cache=tmp_path)


def test_digits_offline_and_upsampled():
    X, y = nnv.datasets.digits()
    assert X.shape == (1797, 64) and X.max() <= 1 and sorted(set(y.tolist())) == list(range(10))
    X28, _ = nnv.datasets.digits(size=28)
    assert X28.shape == (1797, 784)
    # upsampling keeps the picture: the mean of each 28x28 image follows the 8x8 one
    assert np.corrcoef(X28.mean(axis=1), X.mean(axis=1))[0, 1] > 0.95
    with pytest.raises(ValueError, match="size"):
        nnv.datasets.digits(size=4)
