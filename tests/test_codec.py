import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nnviz_widgets.run import codec

FIXTURES = Path(__file__).parent / "fixtures" / "codec"


def test_fixtures_are_what_the_codec_writes(tmp_path):
    """The committed fixtures (read by the JS tests too) match the Python encoder byte for byte."""
    written = codec.write_fixtures(tmp_path)
    assert written
    for header in written:
        for suffix in (".json", ".bin", ".expected.json"):
            name = header.name.replace(".json", suffix)
            assert (tmp_path / name).read_bytes() == (FIXTURES / name).read_bytes(), name


@pytest.mark.parametrize("header_path", sorted(FIXTURES.glob("*[!d].json")), ids=lambda p: p.stem)
def test_fixture_decodes_to_expected(header_path):
    header = json.loads(header_path.read_text())
    data = header_path.with_suffix(".bin").read_bytes()
    expected = json.loads(header_path.with_name(header_path.stem + ".expected.json").read_text())
    got = codec.decode(header, data)
    assert list(got.shape) == expected["shape"]
    want = np.array([np.nan if v is None else v for v in expected["values"]], dtype=np.float64)
    np.testing.assert_allclose(got.reshape(-1), want, rtol=1e-6, equal_nan=True)


def test_probabilities_round_trip_within_one_step():
    p = np.random.default_rng(1).dirichlet(np.ones(3), size=(50, 60)).astype(np.float32)
    enc = codec.encode(p, "uint8", lo=0, hi=1)
    assert enc.nbytes == p.size  # one byte per probability: a quarter of float32
    assert np.abs(enc.decode() - p).max() <= 0.5 / 254 + 1e-6


def test_nan_and_inf_become_the_reserved_code():
    enc = codec.encode(np.array([0.0, np.nan, np.inf, 1.0]), "uint8", lo=0, hi=1)
    assert enc.header["nan"] == 255
    assert np.frombuffer(enc.data, np.uint8).tolist() == [0, 255, 255, 254]
    np.testing.assert_array_equal(np.isnan(enc.decode()), [False, True, True, False])


def test_float32_values_near_its_limit_encode_without_overflow():
    """A diverging model's activations reach ~3e38: x - lo must not overflow float32 into a garbage code."""
    a = np.array([-3.3e38, -1.0, 0.0, 2.0, 3.3e38, np.nan], dtype=np.float32)
    with np.errstate(all="raise"):
        enc = codec.encode(a, "uint16")
    codes = np.frombuffer(enc.data, np.uint16)
    assert codes[0] == 0 and codes[4] == 65534 and codes[5] == 65535 and 32000 < codes[2] < 33500
    np.testing.assert_allclose(enc.decode()[[0, 4]], [-3.3e38, 3.3e38], rtol=1e-6)


def test_uint16_keeps_weights_precise():
    w = np.random.default_rng(2).normal(size=(128, 784))
    enc = codec.encode(w, "uint16")
    step = (w.max() - w.min()) / 65534
    assert np.abs(enc.decode() - w).max() <= step  # half a step of rounding plus float32 decoding


def test_class_indices():
    enc = codec.encode_classes(np.array([0, 3, -1, 9]))
    np.testing.assert_array_equal(enc.decode(), [0, 3, np.nan, 9])


@pytest.mark.parametrize(
    "header, data, match",
    [
        ({"dtype": "int64", "shape": [1], "scale": 1, "offset": 0, "nan": None}, b"\0" * 8, "header"),
        ({"dtype": "uint8", "shape": [4], "scale": 1, "offset": 0, "nan": None}, b"\0" * 3, "needs 4"),
        ({"dtype": "uint8", "shape": [-1], "scale": 1, "offset": 0, "nan": None}, b"", "negative"),
        ({"shape": [1]}, b"\0", "header"),
    ],
)
def test_bad_headers_raise_clear_errors(header, data, match):
    with pytest.raises(ValueError, match=match):
        codec.decode(header, data)


def test_unknown_dtype():
    with pytest.raises(ValueError, match="dtype must be one of"):
        codec.encode(np.zeros(2), "int8")


@settings(max_examples=200, deadline=None)
@given(
    hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=6), elements=st.floats(-1e6, 1e6)),
    st.sampled_from(["uint8", "uint16", "float32"]),
)
def test_round_trip_error_is_bounded(values, dtype):
    enc = codec.encode(values, dtype)
    got = enc.decode()
    assert got.shape == values.shape
    span = float(values.max() - values.min()) if values.size else 0.0
    top = {"uint8": 254, "uint16": 65534}.get(dtype)
    tol = span / top if top else np.abs(values).max(initial=0) * 1e-6
    np.testing.assert_allclose(got, values, atol=tol + 1e-6 * np.abs(values).max(initial=1) + 1e-9)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64), st.sampled_from(["uint8", "uint16", "float32"]), st.lists(st.integers(0, 9), max_size=3))
def test_random_bytes_decode_or_raise_value_error(data, dtype, shape):
    header = {"dtype": dtype, "shape": shape, "scale": 0.5, "offset": -1.0, "nan": None if dtype == "float32" else 255}
    try:
        out = codec.decode(header, data)
    except ValueError:
        return
    assert list(out.shape) == shape and out.dtype == np.float32
