"""How data travels between Python and the views: binary arrays, never JSON lists.

An ndarray becomes ``{"view": memoryview, "dtype": "float32", "shape": [n]}``; ipywidgets
sends the memoryview as a binary buffer of the comm message and JS reads it as a DataView
(``js/src/codecs.js``). Tables and per-epoch coordinates may travel smaller: quantised to
uint16 steps over a ``range`` (:func:`quantized_to_json`), or in the smallest type that keeps
what is shown (:func:`compact_to_json`); ``decodeArray`` reads every form. A column of a
table becomes a *channel*: one uint8 code per point plus what the codes mean, so colour and
size cost one byte per point each.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import NbPerceiveError

WIRE_DTYPES = ("float32", "float64", "uint8", "uint16", "uint32", "int32")
QUANTIZED_STEPS = 65534  # a quantised float: uint16 steps over its range ...
QUANTIZED_MISSING = 65535  # ... and this code for NaN (uint8: 254 steps, 255 for NaN)
STEPS = {"uint16": QUANTIZED_STEPS, "uint8": 254}
MISSING = 255  # code of a missing value in every channel
MAX_CATEGORIES = 254  # more categories than this: the rarest are shown together as "other"
CATEGORICAL_MAX_INTS = 32  # integer columns with at most this many distinct values are categories
ROBUST_QUANTILES = (0.01, 0.99)  # continuous scales span these quantiles (ends are clipped) ...
ROBUST_MIN_POINTS = 200  # ... when there are at least this many values
PROBABILITY_PREFIX = "prob_"  # the Perceiver's per-class probability columns (store.py)
UNIT = (0.0, 1.0)  # ... whose colours and saved values span [0, 1] ...
PROBABILITY_DIGITS = 2  # ... and are rounded to a percent (the page shows two decimals)


def array_to_json(value: Any, widget: Any = None) -> dict[str, Any] | None:
    """Serialise an ndarray for a widget trait (binary buffer, dtype, shape); an array already
    in that form (e.g. quantised, :func:`quantized_to_json`) passes as it is."""
    if value is None:
        return None
    if isinstance(value, dict) and "view" in value:
        return value
    arr = np.ascontiguousarray(value)
    if arr.dtype.name not in WIRE_DTYPES:
        raise NbPerceiveError(f"arrays travel as one of {WIRE_DTYPES}, not {arr.dtype}")
    return {"view": memoryview(arr.reshape(-1)).cast("B"), "dtype": arr.dtype.name,
            "shape": list(arr.shape)}


def quantized_to_json(value: Any, dtype: str = "uint16",
                      span: tuple[float, float] | None = None) -> dict[str, Any]:
    """Floats as uint16 steps over their finite ``[lo, hi]`` (``range``), 65535 for NaN: half
    the bytes of float32, 1/65534 of the range apart (``dtype="uint8"``: 254 steps, 255 for
    NaN); ``span``: over this ``[lo, hi]`` instead (the values lie within it). The page reads
    them back as float32 (``decodeArray`` in ``js/src/codecs.js``, :func:`array_from_json`
    here)."""
    a = np.asarray(value, dtype=np.float64)
    steps = STEPS[dtype]
    finite = np.isfinite(a)
    lo, hi = (float(a[finite].min()), float(a[finite].max())) if finite.any() else (0.0, 0.0)
    if span is not None:
        lo, hi = span
    span = hi - lo
    q = np.full(a.shape, steps + 1, dtype=dtype)
    q[finite] = np.rint((a[finite] - lo) / span * steps) if span > 0 else 0
    return {**array_to_json(q), "range": [lo, hi]}


def compact_to_json(value: Any, probabilities: bool = False, saved: bool = False
                    ) -> dict[str, Any]:
    """A table column in the fewest bytes that keep what the page shows: integers in the
    smallest integer type that holds them, ``probabilities`` (floats within [0, 1]) quantised
    to uint16 (1.5e-5 apart), other floats as float32. ``saved`` (a saved page, where every
    column of every epoch travels): probabilities as uint8 steps over [0, 1] (1/254 apart:
    two decimals; the same bytes as their colour codes, :func:`encode_channel`, so a page
    stores them once), other floats as uint16 steps over their range, and ascending
    integers (sample ids) as uint8 steps from 0 (``delta``: the page sums them). A saved
    probability is its value rounded to a percent (:func:`probability_codes`: what the page
    shows, two decimals; ``digits``: the page rounds the decoded value back to them)."""
    a = np.asarray(value)
    if a.dtype == bool:
        return array_to_json(a.astype(np.uint8))
    if a.dtype.kind in "iu":
        lo, hi = (int(a.min()), int(a.max())) if a.size else (0, 0)
        if saved and a.size > 1 and lo >= 0 and hi <= np.iinfo(np.int32).max:
            steps = np.diff(a.astype(np.int64), prepend=0)
            if steps.min() >= 0 and steps.max() <= 255:  # ascending ids: one byte apart
                return {**array_to_json(steps.astype(np.uint8)), "delta": True}
        for dtype in ("uint8", "uint16", "int32"):
            info = np.iinfo(dtype)
            if info.min <= lo and hi <= info.max:
                return array_to_json(a.astype(dtype))
        return array_to_json(a.astype(np.float64))
    a = a.astype(np.float64)
    finite = a[np.isfinite(a)]
    if probabilities and (not finite.size or (finite.min() >= 0.0 and finite.max() <= 1.0)):
        if not saved:
            return quantized_to_json(a)
        codes = np.full(a.shape, MISSING, dtype=np.uint8)
        codes[np.isfinite(a)] = probability_codes(a[np.isfinite(a)])
        return {**array_to_json(codes), "range": list(UNIT), "digits": PROBABILITY_DIGITS}
    return quantized_to_json(a) if saved else array_to_json(a.astype(np.float32))


def ranked_to_json(ids: np.ndarray, keys: list[np.ndarray]) -> dict[str, Any]:
    """(N, k) sample ids (each sample's nearest samples) in fewer bytes: as their distance
    from the sample in one order of all samples, sorted by ``keys`` (unsigned integer
    arrays the page holds anyway, e.g. the predicted class's codes and the quantised x:
    ``ranked`` refers to them, so a page stores their bytes once; ties by index). Nearest
    samples mostly share a predicted class and lie near in the layout, so the distances are
    small and compress: at 10k Fashion-MNIST samples 9.6 gzipped bytes per point for k = 8
    instead of 14.5 for uint16 ids. Stored zigzag (0, -1, 1, -2... as 0, 1, 2, 3...) in
    uint16 when that holds them, else uint32, as byte planes (every value's low byte, then
    every value's next byte...: the high bytes, mostly 0, compress apart); ``decodeArray``
    and :func:`array_from_json` give the ids back exactly."""
    ids = np.asarray(ids, dtype=np.int64)
    order, rank = _ranking([np.asarray(k) for k in keys], len(ids))
    d = rank[ids] - rank[:, None]
    zig = np.where(d >= 0, 2 * d, -2 * d - 1)
    dtype = np.uint16 if zig.size == 0 or zig.max() <= np.iinfo(np.uint16).max else np.uint32
    planes = zig.astype(f"<{np.dtype(dtype).char}").reshape(-1).view(np.uint8)
    planes = np.ascontiguousarray(planes.reshape(-1, np.dtype(dtype).itemsize).T)
    return {"view": memoryview(planes.reshape(-1)), "dtype": np.dtype(dtype).name,
            "shape": list(ids.shape), "ranked": [array_to_json(k) for k in keys]}


def _ranking(keys: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """The order of ``n`` samples sorted by ``keys`` (ties by index) and each one's rank."""
    order = np.lexsort((np.arange(n), *reversed(keys)))
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    return order, rank


def _unrank(value: dict[str, Any], keys: list[np.ndarray]) -> np.ndarray:
    dtype = np.dtype(value["dtype"])
    planes = np.frombuffer(bytes(value["view"]), np.uint8).reshape(dtype.itemsize, -1)
    zig = np.ascontiguousarray(planes.T).view(f"<{dtype.char}").reshape(value["shape"])
    order, rank = _ranking(keys, len(zig))
    z = zig.astype(np.int64)
    d = np.where(z % 2 == 0, z // 2, -(z + 1) // 2)
    return order[rank.reshape(-1, *([1] * (zig.ndim - 1))) + d].astype(np.int32)


def codes_of_json(numbers: dict[str, Any], domain: list[float]) -> dict[str, Any]:
    """A continuous channel's colour codes (:func:`encode_channel`) sent as its column's
    values ``numbers`` (a saved table's :func:`compact_to_json`, whose bytes the page holds
    anyway): the page works the codes out over ``domain`` (within one code of the kernel's:
    the values are quantised)."""
    return {**numbers, "codes_of": [float(v) for v in domain]}


def continuous_codes(values: np.ndarray, domain: list[float]) -> np.ndarray:
    """A continuous column's colour codes: 0..254 over ``domain`` (clipped), 255 missing."""
    lo, hi = domain
    span = hi - lo
    codes = np.full(values.shape, MISSING, dtype=np.uint8)
    finite = np.isfinite(values)
    scaled = np.clip((values[finite] - lo) / span, 0, 1) if span > 0 else 0 * values[finite]
    codes[finite] = np.rint(scaled * (MISSING - 1)).astype(np.uint8)
    return codes


def probability_codes(p: np.ndarray) -> np.ndarray:
    """Probabilities (finite, within [0, 1]) as uint8 colour codes (0..254 over [0, 1]) of
    their value rounded to a percent: the codes of 101 values compress better than 255 and
    the page, rounding ``code / 254`` to two decimals, reads ``round(p, 2)`` back exactly
    (``|code / 254 - percent| <= 0.002 < 0.005``). A value below 0.5 stays below it (0.49,
    not 0.50): the page's multi-label confusion counts ``p >= 0.5`` as the kernel does."""
    p = np.asarray(p, dtype=np.float64)
    percent = np.rint(p * 10**PROBABILITY_DIGITS)
    half = 10**PROBABILITY_DIGITS // 2
    percent = np.where((p < 0.5) & (percent >= half), half - 1, percent)
    return np.rint(percent * (MISSING - 1) / 10**PROBABILITY_DIGITS).astype(np.uint8)


def array_from_json(value: Any, widget: Any = None) -> np.ndarray | None:
    """Deserialise ``{view, dtype, shape}`` (from the browser, or a quantised array of
    :func:`quantized_to_json`) into an ndarray (a copy)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):  # tolerated from hand-written front ends
        return np.asarray(value, dtype=np.uint32)
    if value.get("ranked") is not None:
        return _unrank(value, [array_from_json(k) for k in value["ranked"]])
    if value.get("codes_of") is not None:
        plain = {k: v for k, v in value.items() if k != "codes_of"}
        return continuous_codes(array_from_json(plain).astype(np.float64), value["codes_of"])
    dtype = np.dtype(value["dtype"])
    arr = np.frombuffer(bytes(value["view"]), dtype=dtype)
    arr = arr.reshape(value.get("shape") or [arr.size]).copy()
    if value.get("delta"):
        return np.cumsum(arr, dtype=np.int64).astype(np.int32)
    if value.get("range") is not None:
        lo, hi = value["range"]
        steps = STEPS[dtype.name]
        out = lo + arr.astype(np.float64) * ((hi - lo) / steps)
        if value.get("digits") is not None:  # a saved probability: its percent
            out = np.round(out, int(value["digits"]))
        out = out.astype(np.float32)
        out[arr == steps + 1] = np.nan
        return out
    return arr


array_serialization = {"to_json": array_to_json, "from_json": array_from_json}


def blobs_to_json(items: list[bytes]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Several byte strings as (one binary uint8 blob, uint32 offsets): item i is
    ``blob[off[i]:off[i + 1]]`` (thumbnails, texts)."""
    blob = b"".join(items)
    offsets = np.cumsum([0] + [len(b) for b in items]).astype(np.uint32)
    return ({"view": memoryview(blob), "dtype": "uint8", "shape": [len(blob)]},
            array_to_json(offsets))


def texts_to_json(texts: list[str]) -> dict[str, Any]:
    """A text column in binary: one code per row (the smallest integer type) into its distinct
    values, those as one UTF-8 blob with offsets (:func:`blobs_to_json`). For a saved page: no
    JSON string per row to parse, and a column that every saved epoch repeats is stored once
    (same bytes)."""
    codes, uniques = pd.factorize(pd.Series(texts, dtype=object), sort=False)
    blob, offsets = blobs_to_json([str(u).encode("utf-8") for u in uniques])
    return {"blob": blob, "offsets": offsets, "codes": compact_to_json(codes)}


def pngs_to_json(items: list[bytes]) -> dict[str, Any]:
    """Several PNGs as one binary blob plus offsets (:func:`blobs_to_json`)."""
    blob, offsets = blobs_to_json(items)
    return {"png": blob, "offsets": offsets}


def channels_to_json(value: dict[str, dict[str, Any]], widget: Any = None) -> dict[str, Any]:
    """Serialise ``{column: channel}``; each channel's ``codes`` array goes binary."""
    return {
        name: {**ch, "codes": array_to_json(ch["codes"])} for name, ch in (value or {}).items()
    }


def is_categorical(series: pd.Series) -> bool:
    """Palette (True) or continuous colormap (False) for this column."""
    if isinstance(series.dtype, pd.CategoricalDtype) or series.dtype == bool:
        return True
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        return True
    if pd.api.types.is_integer_dtype(series):
        return series.nunique(dropna=True) <= CATEGORICAL_MAX_INTS
    return False


def encode_channel(series: pd.Series) -> dict[str, Any]:
    """One byte per point for a column, plus the legend of the codes.

    Continuous columns are quantised to 0..254 over [min, max] (over the 1st..99th percentile
    for 200 values or more, values beyond clipped, so outliers do not flatten the rest);
    categorical columns get one code per category (beyond 253 categories the rarest share
    "other"). Probabilities (``prob_*`` within [0, 1]) span [0, 1]: the same colour is the
    same probability in every class and epoch; their codes are those of their percent
    (:func:`probability_codes`: a saved page's table stores the same bytes).
    Missing values get code 255.
    """
    if is_categorical(series):
        return _encode_categorical(series)
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    finite = np.isfinite(values)
    codes = np.full(values.shape, MISSING, dtype=np.uint8)
    clipped = [False, False]
    if finite.any():
        good = values[finite]
        lo, hi = float(good.min()), float(good.max())
        probability = str(series.name).startswith(PROBABILITY_PREFIX) and UNIT[0] <= lo \
            and hi <= UNIT[1]
        if probability:
            lo, hi = UNIT
        elif good.size >= ROBUST_MIN_POINTS:  # a few outliers must not flatten everyone else
            qlo, qhi = (float(v) for v in np.quantile(good, ROBUST_QUANTILES))
            if qhi > qlo:
                clipped = [qlo > lo, qhi < hi]
                lo, hi = qlo, qhi
        codes[finite] = probability_codes(good) if probability else continuous_codes(
            good, [lo, hi])
    else:
        lo = hi = 0.0
    return {"kind": "continuous", "domain": [lo, hi], "clipped": clipped, "codes": codes}


def _encode_categorical(series: pd.Series) -> dict[str, Any]:
    present = series.notna().to_numpy()
    counts = series[present].astype(str).value_counts(sort=False)
    natural = _natural_order(list(counts.index))
    if len(natural) > MAX_CATEGORIES:
        keep = set(counts.sort_values(ascending=False).index[: MAX_CATEGORIES - 1])
        natural = [c for c in natural if c in keep] + ["other"]
    other = natural.index("other") if "other" in natural else MISSING
    found = pd.Categorical(series[present].astype(str), categories=natural).codes
    codes = np.full(len(series), MISSING, dtype=np.uint8)
    codes[present] = np.where(found < 0, other, found).astype(np.uint8)
    return {"kind": "categorical", "categories": natural, "codes": codes}


def _natural_order(labels: list[str]) -> list[str]:
    """Numbers in numeric order, everything else alphabetically."""
    try:
        return sorted(labels, key=float)
    except ValueError:
        return sorted(labels)
