"""Attribution: heatmaps of what drives a decision, at every depth of the network.

``explain(model, x, method=..., labels=..., input=...)`` returns an :class:`Explanation`.
"""

from __future__ import annotations

from .explain import explain
from .registry import METHODS
from .result import Explanation

__all__ = ["METHODS", "Explanation", "explain"]
