"""Embeddings: data (or a hidden layer's activations) as 2-D or 3-D coordinates.

>>> import nnviz_widgets as nnv
>>> X, y = nnv.datasets.moons(100)
>>> nnv.embed(X, method="pca", dims=2).shape
(100, 2)
"""

from .align import EpochProjector, procrustes
from .core import METHODS, cache_clear, embed

__all__ = ["METHODS", "EpochProjector", "cache_clear", "embed", "procrustes"]
