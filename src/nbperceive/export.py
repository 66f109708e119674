"""The saved-page protocol: what a widget saves instead of its live traits, applied one way.

A widget that answers requests through its kernel (hover previews by custom message, heatmaps
on demand, rows fetched when asked) defines ``export_state(ctx) -> {trait: value}``: the
values a page without a kernel needs instead of the live ones (every preview inline, every
epoch's layout, the chosen samples' heatmaps...). :class:`ExportContext` says what to save.

Both page writers use the same two steps and never set a live trait:

1. :func:`encode_overrides` asks the widget and serializes the values with each trait's own
   serializer into ``{"state": ..., "buffers": [...]}`` (the embedded state's format);
2. :func:`apply` writes that into the widget's saved state entry (its traits replaced, their
   old buffers dropped).

:func:`nbperceive.save_html` runs both on ``ipywidgets.embed``'s state; the notebook export
runs step 1 in the kernel (:func:`publish_overrides`, a hidden last cell whose output carries
them) and step 2 on the state nbclient stored (:func:`overrides_in`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from .widgets.maps import REPORT_DEPTHS, REPORT_EPOCHS

# a saved page's hover previews, at most (ExportContext.preview_bytes): all of 10k Fashion-MNIST
# thumbnails fit; at 1M every one would be ~0.6 GB, past what a browser opens
SAVED_PREVIEW_BYTES = 8_000_000
# points over all the epochs a saved page's scrubber carries (ExportContext.epochs): every
# epoch of a 1M-sample run costs ~16 B a point; 4 of them, 12 up to 333k samples
SAVED_EPOCH_POINTS = 4_000_000

# the hidden cell's output: {model_id: encoded overrides}, read back by overrides_in
OVERRIDES_MIME = "application/vnd.nbperceive.export-overrides+json"


@dataclass(frozen=True)
class ExportContext:
    """What a saved page carries; every widget's ``export_state(ctx)`` reads it.

    ``depths``: how many depths of the network the inspector's heatmaps carry per sample
    (spread from the shallowest to the deepest, plus the one on screen); ``None``: all.
    ``preview_bytes``: how many bytes of hover previews (thumbnails, texts) a page carries at
    most: every sample's when they fit, else the listed and selected samples' first, then an
    even random share of the others; ``None``: every preview, whatever it weighs.
    ``epochs``: how many recorded epochs the page's scrubber carries at most (the first, the
    last and the one shown, the others spread between), fewer for a large run (at most
    :data:`SAVED_EPOCH_POINTS` points over all of them, two at least); ``None``: all.
    """

    depths: int | None = REPORT_DEPTHS
    preview_bytes: int | None = SAVED_PREVIEW_BYTES
    epochs: int | None = REPORT_EPOCHS

    def epoch_count(self, n: int) -> int | None:
        """How many epochs a page of ``n`` samples carries (None: all)."""
        if self.epochs is None:
            return None
        return max(1, min(self.epochs, max(2, SAVED_EPOCH_POINTS // max(int(n), 1))))


def overrides(widget: Any, ctx: ExportContext | None = None) -> dict[str, Any]:
    """The trait values ``widget`` saves instead of its live ones ({} for a plain widget)."""
    hook = getattr(widget, "export_state", None)
    return (hook(ctx or ExportContext()) or {}) if callable(hook) else {}


def encode_overrides(widget: Any, ctx: ExportContext | None = None) -> dict[str, Any]:
    """:func:`overrides` serialized as a saved state entry holds them: ``{"state": {trait:
    JSON}, "buffers": [{"encoding": "base64", "path", "data"}]}`` ({} without overrides).
    Values go through the trait's own serializer, as live ones do."""
    values = overrides(widget, ctx)
    if not values:
        return {}
    from ipywidgets.widgets.widget import _remove_buffers

    state = {}
    for name, value in values.items():
        to_json = widget.trait_metadata(name, "to_json", widget._trait_to_json)
        state[name] = to_json(value, widget)
    state, paths, buffers = _remove_buffers(state)
    return {"state": state,
            "buffers": [{"encoding": "base64", "path": list(path),
                         "data": base64.standard_b64encode(buf).decode("ascii")}
                        for path, buf in zip(paths, buffers)]}


def apply(entry: dict[str, Any], encoded: dict[str, Any]) -> None:
    """Write ``encoded`` (:func:`encode_overrides`) into a saved state ``entry`` (``{"state",
    "buffers"}``): each overridden trait's value and buffers replace the saved ones."""
    if not encoded:
        return
    names = set(encoded["state"]) | {b["path"][0] for b in encoded["buffers"]}
    kept_state = {k: v for k, v in entry.get("state", {}).items() if k not in names}
    entry["state"] = {**kept_state, **encoded["state"]}
    kept = [b for b in entry.get("buffers", []) if b["path"][0] not in names]
    entry.pop("buffers", None)
    if kept or encoded["buffers"]:
        entry["buffers"] = kept + [dict(b) for b in encoded["buffers"]]


def publish_overrides(ctx: ExportContext | None = None) -> None:
    """Run in the kernel by the notebook export: every live widget's encoded overrides as
    one display output of :data:`OVERRIDES_MIME` (no trait is set)."""
    import ipywidgets.widgets.widget as widget_module
    from IPython.display import publish_display_data

    found = {model_id: encoded for model_id, widget in list(widget_module._instances.items())
             if (encoded := encode_overrides(widget, ctx))}
    publish_display_data({OVERRIDES_MIME: found})


def overrides_in(outputs: list[Any]) -> dict[str, dict[str, Any]]:
    """The ``{model_id: encoded overrides}`` that :func:`publish_overrides` wrote in a cell's
    ``outputs`` ({} when it wrote none)."""
    for out in outputs:
        found = out.get("data", {}).get(OVERRIDES_MIME)
        if found is not None:
            return dict(found)
    return {}
