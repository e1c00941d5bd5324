"""Player: one set of play / pause / step / scrub / speed / loop / follow-live controls for several views."""

from __future__ import annotations

import ipywidgets
import traitlets as t

from ._base import FrameView


class Player(FrameView):
    """Drives every view given to it through their ``epoch`` (linked in the browser with ``jslink``).

    >>> a, b = nnv.DecisionBoundary(rec, controls=False), nnv.DecisionBoundary(rec2, controls=False)  # doctest: +SKIP
    >>> nnv.Player(rec, a, b)                     # doctest: +SKIP
    """

    _bundle = "player.js"

    # the shown frame's epoch and metrics above the controls (a Dashboard says them once, in its header)
    status = t.Bool(True).tag(sync=True)

    def __init__(self, source, *views, **traits):
        super().__init__(source, **traits)
        self._links: list = []
        self.drive(*views)

    def drive(self, *views) -> Player:
        """Let this player move ``views``: their own controls are hidden and their ``epoch`` follows the player's."""
        for view in views:
            if not isinstance(view, FrameView) or isinstance(view, Player):
                raise TypeError(f"Player can drive nnviz_widgets views, got {type(view).__name__}")
            view.playing = False
            view.follow = False
            if hasattr(view, "controls"):
                view.controls = False
            view.epoch = self.epoch
            view._player = self  # its picture (the mime bundle's PNG) shows the player's frame
            self._links.append(ipywidgets.jslink((self, "epoch"), (view, "epoch")))
        return self
