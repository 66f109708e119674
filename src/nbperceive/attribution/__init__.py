"""Attribution: heatmaps of what drives a decision, at every depth of the network."""

from __future__ import annotations

from .result import Explanation

__all__ = ["Explanation"]
