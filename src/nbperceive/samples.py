"""How a sample looks: small previews (PNG thumbnails or text snippets) for hover and details.

``images(x)`` and ``texts(strings)`` wrap the user's probe samples; a view asks a preview for
sample ``i`` only when it needs it (hover), so large sets never travel whole. Text is returned
as plain data; front ends must show it as text (never as markup).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import ProbeError

# thumbnails are downscaled until their longer side is at most this; smaller images keep
# their pixels (the page draws them larger, pixelated: an upscaled PNG weighed 1.4x-1.6x)
THUMB_MAX = 128
TEXT_MAX = 400  # characters of a text preview


class Preview:
    """Preview of every sample of a set, computed one sample at a time."""

    kind = "none"

    def __len__(self) -> int:
        raise NotImplementedError

    def get(self, index: int) -> bytes | str:
        """PNG bytes (images) or a text snippet (texts) for sample ``index``."""
        raise NotImplementedError

    def _check(self, index: int) -> int:
        index = int(index)
        if not 0 <= index < len(self):
            raise IndexError(f"sample {index} is out of range: the preview holds {len(self)}.")
        return index


class ImagePreview(Preview):
    """PNG thumbnails of images (N, H, W), (N, H, W, 1|3|4); uint8, or floats in [0, 1]."""

    kind = "image"

    def __init__(self, x: Any):
        arr = np.asarray(x)
        if arr.ndim == 4 and arr.shape[-1] == 1:
            arr = arr[..., 0]
        if arr.ndim not in (3, 4) or (arr.ndim == 4 and arr.shape[-1] not in (3, 4)):
            raise ProbeError(
                f"images() needs an array of shape (N, H, W) or (N, H, W, 1|3|4), got "
                f"{arr.shape}. For text samples use nbp.texts(list_of_strings)."
            )
        self.x = arr

    def __len__(self) -> int:
        return len(self.x)

    def image(self, index: int) -> np.ndarray:
        """Sample ``index`` as uint8 pixels (H, W) or (H, W, C)."""
        img = np.asarray(self.x[self._check(index)])
        if img.dtype == np.uint8:
            return img
        img = img.astype(np.float64)
        lo, hi = np.nanmin(img), np.nanmax(img)
        if lo >= 0 and hi <= 1:
            scaled = img * 255
        elif lo >= 0 and hi <= 255:
            scaled = img
        else:
            scaled = (img - lo) / ((hi - lo) or 1) * 255
        return np.clip(np.nan_to_num(scaled), 0, 255).astype(np.uint8)

    def get(self, index: int) -> bytes:
        from PIL import Image

        pil = Image.fromarray(self.image(index))
        if max(pil.size) > THUMB_MAX:
            pil.thumbnail((THUMB_MAX, THUMB_MAX))
        buf = io.BytesIO()
        pil.save(buf, format="PNG", optimize=True)
        return buf.getvalue()


class TextPreview(Preview):
    """Text snippets (at most ``TEXT_MAX`` characters) of string samples."""

    kind = "text"

    def __init__(self, strings: Sequence[str]):
        if isinstance(strings, str):
            raise ProbeError("texts() needs a list of strings (one per sample), not one string.")
        self.strings = [str(s) for s in strings]

    def __len__(self) -> int:
        return len(self.strings)

    def get(self, index: int) -> str:
        return _snippet(self.strings[self._check(index)])

    def snippets(self) -> np.ndarray:
        """Every sample's snippet, as ``get`` gives it (an object array)."""
        out = np.empty(len(self.strings), object)
        out[:] = [_snippet(text) for text in self.strings]
        return out


def _snippet(text: str) -> str:
    return text if len(text) <= TEXT_MAX else text[: TEXT_MAX - 1] + "…"


def images(x: Any) -> ImagePreview:
    """Previews of image samples, e.g. ``nbp.images(x_val)``."""
    return ImagePreview(x)


def texts(strings: Sequence[str]) -> TextPreview:
    """Previews of text samples, e.g. ``nbp.texts(sentences)``."""
    return TextPreview(strings)


def as_preview(value: Any) -> Preview | None:
    """Accept a Preview, a list of strings, or an image array (or None)."""
    if value is None or isinstance(value, Preview):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return TextPreview(value)
    if hasattr(value, "tolist") and getattr(value, "dtype", None) is not None:
        if value.dtype.kind in "OUS":
            return TextPreview([str(v) for v in value])
        return ImagePreview(value)
    raise ProbeError(
        f"preview must be nbp.images(x), nbp.texts(list_of_str), an image array or a list of "
        f"strings, not {type(value).__name__}."
    )
