"""Previews: PNG thumbnails of real digits, text snippets kept as plain data."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

import nbperceive as nbp
from nbperceive.errors import ProbeError
from nbperceive.samples import TEXT_MAX, THUMB_MAX, as_preview


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def _png(data: bytes) -> np.ndarray:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return np.asarray(Image.open(io.BytesIO(data)))


def test_image_preview_is_a_png_of_that_sample_s_own_pixels(digits):
    """A small image keeps its pixels (the page enlarges it): no upscaled copy to ship."""
    x = (digits.images * 16).clip(0, 255).astype(np.uint8)
    pv = nbp.images(x)
    assert len(pv) == len(x) and pv.kind == "image"
    np.testing.assert_array_equal(_png(pv.get(7)), x[7])


def test_float_images_in_unit_range_become_uint8(digits):
    x = digits.images / 16.0
    img = _png(nbp.images(x[..., None]).get(3))
    np.testing.assert_allclose(img, (x[3] * 255).astype(np.uint8), atol=1)


def test_large_colour_images_are_shrunk():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (2, 300, 200, 3), dtype=np.uint8)
    img = _png(nbp.images(x).get(1))
    assert max(img.shape[:2]) <= THUMB_MAX and img.shape[2] == 3


def test_text_preview_keeps_markup_as_text_and_truncates():
    pv = nbp.texts(["<script>alert(1)</script> fine", "x" * 1000])
    assert pv.get(0) == "<script>alert(1)</script> fine"
    assert len(pv.get(1)) == TEXT_MAX and pv.get(1).endswith("…")


def test_bad_input_says_what_to_do():
    with pytest.raises(ProbeError, match="nbp.texts"):
        nbp.images(np.zeros((3, 4)))
    with pytest.raises(ProbeError, match="list of strings"):
        nbp.texts("one string")
    with pytest.raises(IndexError, match="out of range"):
        nbp.texts(["a"]).get(5)
    with pytest.raises(ProbeError, match="preview must be"):
        as_preview(42)


def test_as_preview_accepts_lists_and_arrays(digits):
    assert as_preview(["a", "b"]).kind == "text"
    assert as_preview(np.array(["a", "b"])).kind == "text"
    assert as_preview(digits.images).kind == "image"
    assert as_preview(None) is None
