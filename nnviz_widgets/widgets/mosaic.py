"""WeightMosaic: every neuron's incoming weights (or its output over the data plane) as a small image.

The tile layout is decided here, once, by pure functions (:func:`grid_shape`, :func:`tile_layout`) and sent
to the browser as the ``tiling`` trait; ``js/src/mosaic.js`` only follows it. The rule the browser follows:
tile ``t`` shows the values ``flat[t * values : (t + 1) * values]`` of the layer's array, row-major into an
``h x w`` image (values past the end are padding, drawn empty); with ``rgb`` the ``values`` are three
channel planes of ``h * w`` (PyTorch's channel-first order) drawn in colour.

A layer with more tiles than one page (``page_size``, 256) travels one page at a time: the browser gets the array
``"<show>/<layer>[first:stop]"``, tiles ``first..stop-1`` cut from the recorded codes (same scale), so a 4096x784
layer costs 400 KB per frame on the wire instead of 6.4 MB and the browser holds only the page on screen. Turning
the page sends that page of every frame (the whole history, paced like any backfill).
"""

from __future__ import annotations

import dataclasses
import math

import traitlets as t

from .._check import flag, integer
from ..run import Run
from ..run.codec import DTYPES, Encoded
from ._base import PLAYER_TRAITS, STREAM_OPTIONS, FrameView, Int, pixels, source_run

SHOWS = ("weights", "outputs", "change")
SINCE = ("first", "previous")
SCALES = ("layer", "neuron")


def grid_shape(n: int) -> tuple[int, int]:
    """The most square ``(rows, cols)`` holding ``n`` cells: exact when ``n`` has a divisor pair no more
    than 2:1 apart, else a near-square grid with the last cells left empty.

    >>> grid_shape(100), grid_shape(64), grid_shape(25), grid_shape(12), grid_shape(7), grid_shape(10)
    ((10, 10), (8, 8), (5, 5), (3, 4), (3, 3), (3, 4))
    """
    n = int(n)
    if n <= 0:
        return (0, 0)
    rows = math.isqrt(n)
    while n % rows:
        rows -= 1
    if (n // rows) <= 2 * rows:
        return rows, n // rows
    cols = math.ceil(math.sqrt(n))
    return math.ceil(n / cols), cols


def image_shape_of(features: int, image_shape=None) -> tuple[int, int, int]:
    """``(channels, h, w)`` of a model input of ``features`` values: ``image_shape`` ((h, w) or (c, h, w)) when
    given (it must hold exactly ``features`` values), else a square image when ``features`` is a square
    (784 -> 28x28, 64 -> 8x8), else the most square grid (padded).

    >>> image_shape_of(784), image_shape_of(12), image_shape_of(3 * 32 * 32, (3, 32, 32))
    ((1, 28, 28), (1, 3, 4), (3, 32, 32))
    """
    if image_shape is None:
        s = math.isqrt(features)
        return (1, s, s) if s * s == features else (1, *grid_shape(features))
    try:
        dims = tuple(int(d) for d in image_shape)
    except (TypeError, ValueError):
        raise TypeError(f"image_shape must be (h, w) or (channels, h, w), got {image_shape!r}") from None
    if len(dims) == 2:
        dims = (1, *dims)
    if len(dims) != 3 or dims[0] not in (1, 3) or min(dims) < 1:
        raise ValueError(f"image_shape must be (h, w) or (channels, h, w) with 1 or 3 channels, got {image_shape!r}")
    if math.prod(dims) != features:
        raise ValueError(
            f"image_shape {tuple(image_shape)} holds {math.prod(dims)} values but the model's input has {features} "
            f"features; pass a shape whose product is {features}"
        )
    return dims


def tile_layout(info: dict, *, show: str = "weights", image_shape=None, page_size: int = 256) -> dict:
    """How to cut one layer's array into tiles (JSON-able, the ``tiling`` trait). ``info`` is one entry of
    ``run.layers``.

    >>> lay = tile_layout({"type": "Linear", "shape": [100, 784], "input": True, "features": 784})
    >>> lay["tiles"], (lay["h"], lay["w"]), (lay["rows"], lay["cols"])
    (100, (28, 28), (10, 10))
    """
    out_n = info["shape"][0]
    if show == "outputs":
        h, w = info["outputs"]
        lay = {"tiles": out_n, "values": h * w, "h": h, "w": w, "rgb": False, "channels": 1, "flip": True}
    elif info["type"] == "Conv2d":
        _, cin, kh, kw = info["shape"]
        if cin == 3:  # one colour tile per filter
            lay = {"tiles": out_n, "values": 3 * kh * kw, "h": kh, "w": kw, "rgb": True, "channels": 1}
        else:  # one tile per (filter, input channel): filters down, channels across
            lay = {"tiles": out_n * cin, "values": kh * kw, "h": kh, "w": kw, "rgb": False, "channels": cin}
        lay["flip"] = False
    else:
        fan_in = info["shape"][1]
        if image_shape is not None and info.get("input"):
            c, h, w = image_shape_of(fan_in, image_shape)
        elif info.get("image"):  # the model's image input, or the (channels, h, w) of the conv it follows
            c, h, w = info["image"]
        else:
            c, h, w = image_shape_of(fan_in)
        if c in (1, 3):  # one (colour) image per neuron
            lay = {"tiles": out_n, "values": fan_in, "h": h, "w": w, "rgb": c == 3, "channels": 1, "flip": False}
        else:  # after a convolution: one h x w tile per (neuron, channel), neurons down, channels across
            lay = {"tiles": out_n * c, "values": h * w, "h": h, "w": w, "rgb": False, "channels": c, "flip": False}
    if show == "outputs" and "activation" in info:  # None: no activation module follows the layer (pre-activation)
        lay["activation"] = info["activation"]
    shown = min(lay["tiles"], page_size)  # tiles on one page
    if 1 < lay["channels"] <= 16:
        cols = lay["channels"]
    else:
        cols = grid_shape(shown)[1]
    return {**lay, "cols": cols, "rows": math.ceil(shown / cols), "page_size": page_size, "kind": show}


def streamed(show: str) -> str:
    """The recorded array a mosaic of ``show`` needs: a change is computed in the browser from the weights."""
    return "weights" if show == "change" else show


def page_array(enc: Encoded, first: int, stop: int, values: int) -> Encoded:
    """Tiles ``first..stop-1`` (``values`` codes each) of one layer's encoded array, on the layer's own scale.

    >>> import numpy as np
    >>> from nnviz_widgets.run.codec import encode
    >>> page_array(encode(np.arange(12.0).reshape(4, 3), "uint16"), 1, 3, 3).decode().round(3).tolist()
    [[3.0, 4.0, 5.0], [6.0, 7.0, 8.0]]
    """
    size = DTYPES[enc.header["dtype"]].itemsize
    return Encoded(
        {**enc.header, "shape": [stop - first, values]}, enc.data[first * values * size : stop * values * size]
    )


class _Pages(dict):
    """A frame's arrays, plus any page ``"<show>/<layer>[first:stop]"`` of them, cut when the sender asks."""

    def __init__(self, arrays: dict, values):
        super().__init__(arrays)
        self._values = values  # name -> codes per tile

    def __missing__(self, key: str) -> Encoded:
        name, _, span = key.partition("[")
        first, stop = (int(i) for i in span.rstrip("]").split(":"))
        return page_array(self[name], first, stop, self._values(name))


class _PagedRun:
    """The run as a mosaic's sender sees it: every frame also answers to page names (see ``_Pages``)."""

    def __init__(self, run: Run, values):
        self.run, self._values = run, values

    def __len__(self) -> int:
        return len(self.run)

    def subscribe(self, listener):
        return self.run.subscribe(listener)

    def __getitem__(self, i: int):
        frame = self.run[i]
        return dataclasses.replace(frame, arrays=_Pages(frame.arrays, self._values))


class WeightMosaic(FrameView):
    """Every neuron of one layer as a tile: its incoming weights as an image, coloured blue (negative) – white
    (zero) – red (positive), one frame per capture, played in the browser with the other views.

    ``layer`` is a module name (``model.named_modules()``); the picker in the view switches it.
    ``show="outputs"`` draws each neuron's output over the data plane instead (needs a recorder with
    ``outputs`` on, the default for 2-D data). ``show="change"`` draws how much each weight moved: since the
    first frame (``since="first"``, default) or since the previous frame (``since="previous"``), on its own
    symmetric scale (the largest such change over the frames received), named on the colour bar.
    ``scale="layer"`` (default) colours every tile of a layer on one scale, the largest |value| of that layer over
    the frames received so far, so tiles compare across neurons and epochs; ``scale="neuron"`` stretches each
    tile on its own. Hover a tile to enlarge it with the value under the cursor; click to pin it. Large layers are
    shown ``page_size`` tiles at a time, and only the page on screen travels to the browser. ``tile_size`` (px per
    tile, 0 = fit ``width``) is also a picker in the view.

    >>> nnv.WeightMosaic(rec, layer="0")          # doctest: +SKIP
    """

    _bundle = "mosaic.js"

    layer = t.Unicode("").tag(sync=True)
    layer_names = t.List(t.Unicode()).tag(sync=True)
    show = t.Unicode("weights").tag(sync=True)
    since = t.Unicode("first").tag(sync=True)  # show="change": since the first frame, or the previous one
    scale = t.Unicode("layer").tag(sync=True)
    tiling = t.Dict().tag(sync=True)  # not `layout`: that name is ipywidgets' CSS Layout
    tile_size = Int(0).tag(sync=True)  # px per tile side; 0 = fit the mosaic into about `width`
    labels = t.Bool(True).tag(sync=True)  # neuron numbers on the tiles
    page = Int(0).tag(sync=True)
    page_size = Int(256).tag(sync=True)
    pinned = Int(-1).tag(sync=True)  # the tile shown enlarged when not hovering (-1: none)
    controls = t.Bool(True).tag(sync=True)
    width = Int(480).tag(sync=True)
    title = t.Unicode("").tag(sync=True)

    def __init__(
        self,
        source,
        *,
        layer: str | None = None,
        show: str = "weights",
        since: str = "first",
        scale: str = "layer",
        image_shape=None,
        tile_size: int = 0,
        labels: bool = True,
        page_size: int = 256,
        controls: bool = True,
        width: int = 480,
        title: str = "",
        **player,
    ):
        unknown = set(player) - PLAYER_TRAITS - STREAM_OPTIONS
        if unknown:
            raise TypeError(f"WeightMosaic got unexpected keyword argument(s) {sorted(unknown)}")
        run = source_run(source)
        if not run.layers:
            raise ValueError("the run recorded no layer weights: create the Recorder with layers=None (all) or names")
        if layer is not None and not isinstance(layer, str):
            raise TypeError(f"layer must be a module name (a string, e.g. {next(iter(run.layers))!r}), got {layer!r}")
        self._image_shape = _check_image_shape(run, image_shape)
        layer = next(iter(run.layers)) if layer is None else layer
        module = dict(source.model.named_modules()).get(layer) if hasattr(source, "model") else None
        if module is not None and layer not in run.layers:
            raise ValueError(
                f"layer {layer!r} is a {type(module).__name__}, which has no weights to draw; recorded weight layers "
                f"are {list(run.layers)}"
            )
        _check_choice(run, str(layer), show, scale)
        if since not in SINCE:
            raise ValueError(f"since must be one of {SINCE} (the frame a change is measured from), got {since!r}")
        page_size = integer("page_size", page_size, lo=1, what="tiles per page")
        tile_size = integer("tile_size", tile_size, lo=0, what="px per tile, 0 to fit the width")
        labels, controls = flag("labels", labels), flag("controls", controls)
        self._arrays = (f"{show}/{layer}",)  # until the paged run is in place (a frame sent first draws as well)
        super().__init__(
            run,
            layer=str(layer),
            layer_names=list(run.layers),
            show=show,
            since=since,
            scale=scale,
            tiling=tile_layout(run.layers[layer], show=show, image_shape=self._image_shape, page_size=page_size),
            tile_size=tile_size,
            labels=labels,
            page_size=page_size,
            controls=controls,
            width=pixels("width", width),
            title=title,
            **player,
        )

    @t.validate("layer")
    def _valid_layer(self, proposal):
        _check_choice(self.run, proposal["value"], self.show, self.scale, error=t.TraitError)
        return proposal["value"]

    @t.validate("show")
    def _valid_show(self, proposal):
        _check_choice(self.run, self.layer, proposal["value"], self.scale, error=t.TraitError)
        return proposal["value"]

    @t.validate("since")
    def _valid_since(self, proposal):
        if proposal["value"] not in SINCE:
            raise t.TraitError(f"since must be one of {SINCE}, got {proposal['value']!r}")
        return proposal["value"]

    @t.validate("scale")
    def _valid_scale(self, proposal):
        _check_choice(self.run, self.layer, self.show, proposal["value"], error=t.TraitError)
        return proposal["value"]

    @t.validate("tile_size")
    def _valid_tile_size(self, proposal):
        if not 0 <= proposal["value"] <= 256:
            raise t.TraitError(f"tile_size must be 0 (fit `width`) to 256 px, got {proposal['value']}")
        return proposal["value"]

    @t.validate("page")
    def _valid_page(self, proposal):
        pages = max(1, math.ceil(self.tiling["tiles"] / self.tiling["page_size"])) if self.tiling else 1
        if not 0 <= proposal["value"] < pages:
            raise t.TraitError(
                f"page must be 0 to {pages - 1} ({self.tiling.get('tiles')} tiles), got {proposal['value']}"
            )
        return proposal["value"]

    @t.observe("layer", "show", "page_size")
    def _relayout(self, change):
        if getattr(self, "_state", None) is None:
            return  # still constructing: __init__ sets the tiling
        with self.hold_sync():
            self.pinned = -1
            self.tiling = tile_layout(
                self.run.layers[self.layer], show=self.show, image_shape=self._image_shape, page_size=self.page_size
            )
            self.page = 0
        self._restream()

    @t.observe("page")
    def _turn_page(self, _change):
        if getattr(self, "_state", None) is not None:
            self._restream()

    def _picture(self):
        """The layer's first page of tiles at the frame shown, on the run's one scale (what a video draws)."""
        index = self.current_index()
        if index is None:
            return None
        from ..export.video import render_mosaic  # noqa: PLC0415 - Pillow is optional, loaded when a picture is made

        name = f"{self.show}/{self.layer}"
        scale = max((abs(float(f.arrays[name].header["offset"])) for f in self.run if name in f.arrays), default=0.0)
        lay = tile_layout(self.run.layers[self.layer], show=self.show, image_shape=self._image_shape)
        return render_mosaic(self.run, index, plan=(self.layer, self.show, lay, scale))

    def _stream_source(self) -> tuple:
        return _PagedRun(self.run, self._tile_values), (self._wire_name(),)

    def _wire_name(self) -> str:
        """The array the browser needs: the layer, or the page of it on screen when the layer spans pages."""
        name, lay = f"{streamed(self.show)}/{self.layer}", self.tiling
        if lay["tiles"] <= lay["page_size"]:
            return name
        first = self.page * lay["page_size"]
        return f"{name}[{first}:{min(lay['tiles'], first + lay['page_size'])}]"

    def _tile_values(self, name: str) -> int:
        show, _, layer = name.partition("/")
        return tile_layout(self.run.layers[layer], show=streamed(show), image_shape=self._image_shape)["values"]

    def _restream(self) -> None:
        """The browser keeps one array per frame: when the one shown changes, send every frame again with it."""
        name = self._wire_name()
        if self._arrays != (name,):
            self._set_stream(self._state.run, (name,))


def _check_choice(run: Run, layer: str, show: str, scale: str, error: type[Exception] = ValueError) -> None:
    if layer not in run.layers:
        raise error(f"layer {layer!r} was not recorded; recorded layers are {list(run.layers)}")
    if show not in SHOWS:
        raise error(f"show must be one of {SHOWS}, got {show!r}")
    if scale not in SCALES:
        raise error(f"scale must be one of {SCALES}, got {scale!r}")
    if show == "outputs" and not run.layers[layer].get("outputs"):
        raise error(
            f"layer {layer!r} has no recorded outputs: neuron outputs are recorded for Linear layers when X has 2 "
            "features, or with Recorder(..., outputs=True)"
        )


def _check_image_shape(run: Run, image_shape):
    if image_shape is None:
        return None
    features = next(iter(run.layers.values()))["features"]
    image_shape_of(features, image_shape)  # raises when it does not fit the model's input
    return tuple(int(d) for d in image_shape)
