"""Static HTML reports: one self-contained file in which the widgets render from saved state.

``save_html(widget, "report.html")`` writes the widget's state (``ipywidgets.embed``), the
Jupyter widgets HTML manager, require.js and every widget library the state uses (anywidget,
bqplot, ...) into one HTML file. It opens offline, from ``file://``, without a kernel: the
views draw, hover, click, lasso and links between views (``jslink``) work in the page, while
anything that needs Python (e.g. heatmaps of another sample) shows the last saved result.

How it loads: with ``compress=True`` (the default) the widget state's JSON, the views' code
(each distinct text once: :func:`pack_code`) and one blob of every binary buffer (raw bytes,
identical buffers once: :func:`pack_buffers`) travel gzipped,
as do the libraries, each written in base85 text that holds no ``<`` (so no sample text can
close its ``<script>`` tag); the loader decompresses them with ``DecompressionStream`` and
hands the widget manager its usual state script. With ``compress=False`` the state travels
as JSON with ``<``, ``>``, ``&`` escaped as ``\\u003c`` etc., the libraries as escaped JSON
strings. What a page carries is budgeted by :class:`~nbperceive.export.ExportContext` (e.g.
how many depths of heatmaps). A small loader evaluates require.js and the HTML manager at
global scope, and each widget library inside a function whose ``define`` names its modules
(``define("bqplot", deps, factory)``), so require.js never sees an anonymous ``define``
outside a file it loaded ("Mismatched anonymous define()").

A widget that answers requests through its kernel saves what a page without kernel needs
instead by defining ``export_state(ctx) -> {trait: value}`` (:mod:`nbperceive.export`).
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import html
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from . import export
from .errors import ReportError
from .widgets.maps import REPORT_DEPTHS, REPORT_EPOCHS

STATIC = Path(__file__).resolve().parent / "static"
# loaders copied from npm into static/ by js/copy-assets.mjs (see js/package.json "build")
REQUIRE_JS = "require.js"
EMBED_AMD_JS = "embed-amd.js"
EMBED_FONTS = "embed-amd-fonts.js"  # JSON {solid|regular|brands: {file name: base64}} (woff2)
UNZSTD_JS = "unzstd.js"  # js/src/unzstd.js: the page's zstd decoder (fzstd), a classic script
# a compressed page's scripts: gzip, written as text of 85 characters that need no escaping
# in HTML or a script (no < > & / \\ quotes or backquote): the loader decodes them
PACKED_MIME = "application/gzip+base85"
# a compressed page's libraries: zstd (level 19, a window as long as the library: their
# bundles repeat whole modules, which gzip's 32 KB window cannot see), in the same base85;
# decoded by js/src/unzstd.js. The data stay gzip: the browser inflates it natively, in chunks
LIBRARY_MIME = "application/zstd+base85"
LIBRARY_LEVEL = 19
BASE85 = "".join(c for c in map(chr, range(33, 127)) if c not in "<>&/\\\"'`=")
_BASE85_TABLE = np.frombuffer(BASE85.encode("ascii"), dtype=np.uint8)
_BASE85_INDEX = np.zeros(128, dtype=np.uint64)
_BASE85_INDEX[_BASE85_TABLE] = np.arange(85, dtype=np.uint64)
# a compressed page's binary buffers: gzipped chunks of this many raw bytes (each script's
# base85 text ~1.25x its gzip), read into one ArrayBuffer, window[PAGE_BYTES]; the nbperceive
# views' arrays point into it by {BYTES_REF: [offset, length]} (js/src/codecs.js)
CHUNK_BYTES = 8 << 20
PAGE_BYTES = "nbperceiveBytes"
BYTES_REF = "nbp_bytes"
# a compressed page's views' code (anywidget's `_esm`, `_css`: the same text in every view of
# a kind, the stylesheet in every nbperceive view) travels once, apart from the state (which
# then holds data alone): the state says {CODE_REF: k}, the k-th text of script "nbp-code"
CODE_REF = "nbp_code"
CODE_TRAITS = ("_esm", "_css")
# widget modules the HTML manager defines itself
BUILTIN_MODULES = {"@jupyter-widgets/base", "@jupyter-widgets/controls",
                   "@jupyter-widgets/output"}

_LOADER = r"""
(function () {
  "use strict";
  var globalEval = eval;
  var json = function (id) { return JSON.parse(document.getElementById(id).textContent); };
  // a gzip + base85 script's bytes (decoded here, decompressed by the browser): every 5
  // characters of ALPHABET are 4 bytes, big-endian; data-bytes says how many are real
  var ALPHABET = %(alphabet)s;
  // base85 text -> its first n bytes; gzip bytes -> their content (also run in a worker:
  // self-contained, the alphabet passed in)
  var from85 = function (text, n, alphabet) {
    var digit = new Uint8Array(128);
    for (var a = 0; a < alphabet.length; a++) digit[alphabet.charCodeAt(a)] = a;
    var words = new Uint8Array(text.length / 5 * 4);
    for (var i = 0, o = 0; i < text.length; i += 5, o += 4) {
      var v = 0;
      for (var j = 0; j < 5; j++) v = v * 85 + digit[text.charCodeAt(i + j)];
      words[o] = v >>> 24; words[o + 1] = (v >>> 16) & 255;
      words[o + 2] = (v >>> 8) & 255; words[o + 3] = v & 255;
    }
    return words.subarray(0, n);
  };
  var gunzip = function (bytes) {
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).arrayBuffer().then(function (b) { return new Uint8Array(b); });
  };
  var packed = function (id) {
    var el = document.getElementById(id);
    return {text: el.textContent.trim(), n: Number(el.getAttribute("data-bytes"))};
  };
  var unpack = function (id) {
    var zstd = document.getElementById(id).type === %(library_mime)s;
    var p = packed(id);
    var bytes = from85(p.text, p.n, ALPHABET);
    return zstd ? Promise.resolve(bytes).then(window.nbpUnzstd) : gunzip(bytes);
  };
  // The data chunks (most of a large page) are decoded by a worker, one after another, while
  // this thread unpacks and compiles the libraries; where a page may not start workers, here.
  var unpackAll = function (ids) {
    var here = function () {
      var chunks = [];
      var next = function (k) {  // one chunk at a time: at most one chunk's text decoded at once
        if (k === ids.length) return Promise.resolve(chunks);
        return unpack(ids[k]).then(function (b) { chunks.push(b); return next(k + 1); });
      };
      return next(0);
    };
    if (!ids.length || typeof Worker === "undefined") return here();
    var worker;
    try {
      var code = "var from85 = " + from85 + ";\nvar gunzip = " + gunzip + ";\n" +
        "var done = Promise.resolve();\n" +
        "onmessage = function (e) { var m = e.data; done = done.then(function () {" +
        " return gunzip(from85(m.text, m.n, m.alphabet)); }).then(function (b) {" +
        " postMessage(b, [b.buffer]); }, function (err) { postMessage(String(err)); }); };";
      var url = URL.createObjectURL(new Blob([code], {type: "text/javascript"}));
      worker = new Worker(url, {name: "nbperceive-report-data"});
      URL.revokeObjectURL(url);
    } catch (err) {
      return here();
    }
    return new Promise(function (resolve, reject) {
      var chunks = [];
      worker.onmessage = function (e) {
        if (typeof e.data === "string") { worker.terminate(); reject(new Error(e.data)); return; }
        chunks.push(e.data);
        if (chunks.length === ids.length) { worker.terminate(); resolve(chunks); }
      };
      worker.onerror = function (e) { e.preventDefault(); worker.terminate(); reject(e); };
      ids.forEach(function (id) {
        var p = packed(id);
        worker.postMessage({text: p.text, n: p.n, alphabet: ALPHABET});
      });
    }).catch(function () { return here(); });  // the worker could not start: decode here
  };
  // a script's source: JSON text, or gzip / zstd + base85
  var source = function (id) {
    var el = document.getElementById(id);
    if (el.type === "application/json") return Promise.resolve(JSON.parse(el.textContent));
    return unpack(id).then(function (b) { return new TextDecoder().decode(b); });
  };
  var base64 = function (bytes) {
    var parts = [];
    for (var k = 0; k < bytes.length; k += 0x8000) {
      parts.push(String.fromCharCode.apply(null, bytes.subarray(k, k + 0x8000)));
    }
    return btoa(parts.join(""));
  };
  // A compressed page keeps the widget state (JSON) and every binary buffer (one blob, in
  // gzipped chunks) apart: the chunks go into one ArrayBuffer, window[PAGE_BYTES]; buffers
  // marked `ref` (the nbperceive views') stay there, their path gets {BYTES_REF: [offset,
  // length]}; the others get their bytes back as base64 (as the HTML manager reads them).
  // Then the manager gets the state script it looks for.
  var restoreState = function () {
    if (!document.getElementById("nbp-state")) return Promise.resolve();
    var ids = Array.prototype.map.call(
      document.querySelectorAll("script[id^='nbp-buffers-']"), function (el) { return el.id; });
    return Promise.all([source("nbp-state"), source("nbp-code"), unpackAll(ids)]).then(
    function (r) {
      var state = JSON.parse(r[0]);
      var code = JSON.parse(r[1]);
      var chunks = r[2];
      Object.keys(state.state).forEach(function (id) {  // each view's code, stored once
        var traits = state.state[id].state || {};
        Object.keys(traits).forEach(function (name) {
          var v = traits[name];
          if (v && typeof v === "object" && %(code_ref)s in v) traits[name] = code[v[%(code_ref)s]];
        });
      });
      var size = chunks.reduce(function (n, c) { return n + c.length; }, 0);
      var blob = new Uint8Array(size);
      for (var c = 0, at = 0; c < chunks.length; at += chunks[c].length, c++) {
        blob.set(chunks[c], at);
      }
      chunks = null;
      window[%(bytes_global)s] = blob;
      Object.keys(state.state).forEach(function (id) {
        var model = state.state[id];
        model.buffers = (model.buffers || []).filter(function (b) {
          if (!b.ref) {
            b.data = base64(blob.subarray(b.offset, b.offset + b.length));
            delete b.offset;
            delete b.length;
            return true;
          }
          var at = model.state;
          for (var p = 0; p < b.path.length - 1; p++) at = at[b.path[p]];
          var ref = {};
          ref[%(bytes_ref)s] = [b.offset, b.length];
          at[b.path[b.path.length - 1]] = ref;
          return false;
        });
      });
      var tag = document.createElement("script");
      tag.type = "application/vnd.jupyter.widget-state+json";
      tag.textContent = JSON.stringify(state);
      document.body.appendChild(tag);
    });
  };
  var fail = function (err) {
    var p = document.createElement("p");
    p.className = "nbp-report-error";
    p.textContent = "This report could not load its views (" + err + "). It needs a browser " +
      "from 2023 or later (Chrome 80, Firefox 113, Safari 16.4) with JavaScript enabled.";
    document.body.insertBefore(p, document.body.firstChild);
    throw err;
  };
  // The HTML manager's CSS points its icon fonts at files next to a script that has no file:
  // rewrite each url(...<hash>.woff2) to the inlined font as its <style> arrives (a mutation
  // observer runs before the next layout, so the browser never requests the missing file).
  var fonts = json("nbp-fonts");
  var fontUrl = /url\((["']?)[^()"']*?([0-9a-f]{16,}\.woff2)\1\)/g;
  var inline = function (style) {
    var text = style.textContent;
    if (text.indexOf(".woff2") < 0) return;
    var fixed = text.replace(fontUrl, function (m, q, name) {
      return fonts[name] ? "url(data:font/woff2;base64," + fonts[name] + ")" : m;
    });
    if (fixed !== text) style.textContent = fixed;
  };
  new MutationObserver(function (records) {
    records.forEach(function (r) {
      var el = r.target.nodeType === 1 ? r.target : r.target.parentNode;
      if (el && el.tagName === "STYLE") inline(el);
      r.addedNodes.forEach(function (n) {
        if (n.tagName === "STYLE") inline(n);
        else if (n.parentNode && n.parentNode.tagName === "STYLE") inline(n.parentNode);
      });
    });
  }).observe(document.documentElement, {childList: true, subtree: true, characterData: true});
  var names = json("nbp-modules");
  var ids = ["nbp-src-require", "nbp-src-embed"].concat(
    names.map(function (name, i) { return "nbp-src-module-" + i; }));
  var restoring = restoreState();  // first: the data chunks go to their worker at once
  // the libraries are unpacked and compiled meanwhile; the HTML manager, which renders the
  // widget-view scripts as soon as it runs, once the state is restored
  var libraries = Promise.all(ids.map(source)).then(function (src) {
    globalEval(src[0] + "\n//# sourceURL=nbperceive/require.js\n");
    // each widget library's anonymous define() gets its module name
    names.forEach(function (name, i) {
      var named = function () {
        var args = Array.prototype.slice.call(arguments);
        if (typeof args[0] !== "string") args.unshift(name);
        return window.define.apply(this, args);
      };
      named.amd = window.define.amd;
      var wrap = globalEval("(function (define) {" + src[2 + i] +
                            "\n})\n//# sourceURL=nbperceive/" + name + ".js\n");
      wrap.call(window, named);
    });
    return src[1];
  });
  Promise.all([libraries, restoring]).then(function (r) {
    globalEval(r[0] + "\n//# sourceURL=nbperceive/embed-amd.js\n");
  }).catch(fail);
})();
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="nbperceive {version}">
<title>{title}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 16px 24px;
  /* secondary text legible (WCAG AA 4.5:1 on white): the HTML manager's grey is 3.97:1 */
  --jp-ui-font-color2: rgba(0, 0, 0, 0.62); }}
.nbp-report-note {{ color: #666; font-size: 12px; margin: 4px 0 12px; }}
</style>
</head>
<body>
<h1 class="nbp-report-title">{title}</h1>
<p class="nbp-report-note">Saved from Python with nbperceive {version}. The views run in this
page: hover, click, lasso and linked views work; results that need Python show what was last
computed.</p>
{views}
{scripts}
</body>
</html>
"""



_LOADER_NAMES = {"alphabet": json.dumps(BASE85), "library_mime": json.dumps(LIBRARY_MIME),
                 "bytes_global": json.dumps(PAGE_BYTES),
                 "bytes_ref": json.dumps(BYTES_REF), "code_ref": json.dumps(CODE_REF)}


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities as None (JSON has neither; JSON.parse would fail)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def script_json(value: Any) -> str:
    """JSON that is safe as the text of a ``<script>`` element (``<``, ``>``, ``&`` escaped)."""
    try:
        text = json.dumps(value, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    except ValueError:  # NaN or infinity somewhere
        text = json.dumps(_finite(value), ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def widget_state(widget: Any, ctx: export.ExportContext | None = None
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(manager state, view spec) of ``widget``, every widget it refers to and their jslinks,
    each saving what its ``export_state(ctx)`` asks for (the live widgets are untouched)."""
    import ipywidgets
    from ipywidgets.embed import dependency_state, embed_data

    if not isinstance(widget, ipywidgets.DOMWidget):
        raise ReportError(f"save_html needs a widget to show (an Explorer, a PopulationView, an "
                          f"ipywidgets box...), not {type(widget).__name__}.")
    # every trait, defaults included: anywidget keeps _esm, _view_name... as class defaults
    state = dependency_state([widget], drop_defaults=False)
    for model_id, entry in state.items():
        export.apply(entry, export.encode_overrides(
            ipywidgets.widgets.widget._instances.get(model_id), ctx))
    data = embed_data(views=[widget], state=state)
    return data["manager_state"], data["view_specs"][0]


def wire_bytes(widget: Any) -> int:
    """Bytes the kernel sends to show ``widget`` live (it and every widget it refers to): each
    model's state as JSON plus its binary buffers, without the views' code (``_esm``,
    ``_css``: the same at any N)."""
    from ipywidgets.embed import dependency_state

    total = 0
    for entry in dependency_state([widget], drop_defaults=True).values():
        state = {k: v for k, v in entry["state"].items() if k not in ("_esm", "_css")}
        total += len(json.dumps(state, separators=(",", ":"), default=str))
        total += sum(len(base64.b64decode(b["data"])) for b in entry.get("buffers", []))
    return total


def _static(name: str) -> str:
    path = STATIC / name
    if not path.is_file():
        raise ReportError(
            f"{path} is missing: build the JS assets with `cd js && npm ci && npm run build` "
            "(or reinstall nbperceive with pip, which runs that build).")
    return path.read_text(encoding="utf-8")


def _nbextension_dirs() -> list[Path]:
    from jupyter_core.paths import jupyter_path

    return [Path(p) for p in jupyter_path("nbextensions")]


def module_source(name: str) -> str:
    """The AMD bundle of widget library ``name`` that its pip package ships for static pages."""
    for base in _nbextension_dirs():
        path = base / name / "index.js"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise ReportError(
        f"no static JavaScript for the widget library {name!r} (looked for "
        f"nbextensions/{name}/index.js in {', '.join(map(str, _nbextension_dirs()))}). "
        f"Install its Python package in this environment ({sys.prefix}).")


def needed_modules(state: dict[str, Any]) -> list[str]:
    """Widget libraries (model and view modules) the saved state uses, besides the built-ins."""
    names: set[str] = set()
    for entry in state["state"].values():
        for key in ("model_module", "view_module"):
            name = entry.get(key) or entry.get("state", {}).get(f"_{key}")
            if name and name not in BUILTIN_MODULES:
                names.add(name)
    return sorted(names)


# models that draw no Font Awesome icon (no .fa element): a page of these alone carries no
# icon fonts (0.22 MB). Any other model (a Button's icon, bqplot's Figure with its buttons...)
# brings them.
ICONLESS_MODELS = frozenset({
    "LayoutModel", "BoxModel", "VBoxModel", "HBoxModel", "GridBoxModel", "HTMLModel",
    "HTMLMathModel", "LabelModel", "HTMLStyleModel", "HTMLMathStyleModel", "LabelStyleModel",
    "DescriptionStyleModel", "LinkModel", "DirectionalLinkModel", "OutputModel", "AnyModel",
})
ICONLESS_LIBRARIES = frozenset({"bqscales"})  # bqplot's marks and axes too, not its Figure


def icon_font_styles(state: dict[str, Any]) -> set[str]:
    """The Font Awesome styles (solid, regular, brands) the saved state's widgets may show:
    none for views, boxes and HTML; solid for bqplot's pan-zoom, reset and save buttons (a
    Toolbar, a Figure that shows its own: ``display_toolbar``); all for the rest (a Button's
    icon may be any)."""
    styles: set[str] = set()
    for entry in state["state"].values():
        name = entry.get("model_name") or entry.get("state", {}).get("_model_name", "")
        module = entry.get("model_module") or entry.get("state", {}).get("_model_module", "")
        if name in ICONLESS_MODELS or module in ICONLESS_LIBRARIES:
            continue
        if module == "bqplot":
            shown = entry.get("state", {}).get("display_toolbar", True)
            if name == "ToolbarModel" or name == "FigureModel" and shown:
                styles.add("solid")
            continue
        return {"solid", "regular", "brands"}
    return styles


def _source_tag(tag_id: str, text: str, compress: bool) -> str:
    """A library's script: JSON text, or (``compress``) zstd in base85."""
    if not compress:
        return f'<script type="application/json" id="{tag_id}">{script_json(text)}</script>'
    packed = zstd_library(text)
    return (f'<script type="{LIBRARY_MIME}" id="{tag_id}" data-bytes="{len(packed)}">'
            f"{base85(packed)}</script>")


@functools.lru_cache(maxsize=16)
def zstd_library(text: str) -> bytes:
    """``text`` zstd-compressed for a page; the same library is compressed once per machine
    (~1 s for the widgets manager: kept in the user's cache, keyed by its content)."""
    import zstandard

    data = text.encode("utf-8")
    key = hashlib.sha256(data).hexdigest()[:24]
    cached = _library_cache() / f"{key}-{LIBRARY_LEVEL}.zst"
    try:
        packed = cached.read_bytes()
        if zstandard.ZstdDecompressor().decompress(packed) == data:
            return packed
    except (OSError, zstandard.ZstdError):
        pass  # not cached yet, or damaged: compressed again
    params = zstandard.ZstdCompressionParameters.from_level(LIBRARY_LEVEL, source_size=len(data))
    packed = zstandard.ZstdCompressor(compression_params=params).compress(data)
    try:
        from .store import atomic_file

        cached.parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(cached, "wb") as f:
            f.write(packed)
    except OSError:
        pass  # a read-only cache: compressed again next time
    return packed


def _library_cache() -> Path:
    from .datasets import cache_root

    return cache_root() / "report-libraries"


def base85(data: bytes) -> str:
    """``data`` as text of :data:`BASE85` (5 characters per 4 bytes, big-endian, the last word
    zero-padded): 6% less than base64's 4 per 3, and no character of it can end a script."""
    pad = (-len(data)) % 4
    words = np.frombuffer(data + b"\0" * pad, dtype=">u4").astype(np.uint64)
    digits = np.empty((len(words), 5), dtype=np.uint8)
    for j in range(4, -1, -1):
        digits[:, j] = (words % 85).astype(np.uint8)
        words //= 85
    return _BASE85_TABLE[digits].tobytes().decode("ascii")


def unbase85(text: str, n: int) -> bytes:
    """The ``n`` bytes that :func:`base85` wrote as ``text``."""
    digits = _BASE85_INDEX[np.frombuffer(text.strip().encode("ascii"), np.uint8)]
    words = np.zeros(len(digits) // 5, dtype=np.uint64)
    for j in range(5):
        words = words * 85 + digits[j::5]
    return words.astype(">u4").tobytes()[:n]


def _gzip_tag(tag_id: str, data: bytes) -> str:
    packed = gzip.compress(data, compresslevel=9, mtime=0)
    return (f'<script type="{PACKED_MIME}" id="{tag_id}" data-bytes="{len(packed)}">'
            f"{base85(packed)}</script>")


def _refers(entry: dict[str, Any]) -> bool:
    """Whether a model's views read binary arrays by reference to the page's bytes (the
    nbperceive views do: their code, ``js/src/codecs.js``, knows :data:`BYTES_REF`)."""
    esm = entry.get("state", {}).get("_esm")
    return isinstance(esm, str) and BYTES_REF in esm


def pack_buffers(state: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """``state`` with every binary buffer moved into one blob: each buffer entry keeps its
    ``path`` and gets ``offset``/``length`` into the blob instead of base64 ``data``, so the
    page can gzip the raw bytes (base64 text compresses poorly); the loader undoes it.
    Buffers of the nbperceive views are marked ``ref``: the loader leaves them in the page's
    bytes and puts ``{BYTES_REF: [offset, length]}`` at their path (``decodeArray`` reads
    it), so no text or JSON of the page grows with them. Buffers start at multiples of 8 (a
    typed array over the bytes needs no copy)."""
    blob = bytearray()
    at: dict[bytes, int] = {}  # identical buffers (a column every epoch shares) stored once
    models = {}
    for model_id, entry in state["state"].items():
        buffers = []
        ref = _refers(entry)
        for b in entry.get("buffers", []):
            raw = base64.b64decode(b["data"]) if b.get("encoding") == "base64" else \
                bytes.fromhex(b["data"])
            if raw not in at:
                blob += b"\0" * (-len(blob) % 8)
                at[raw] = len(blob)
                blob += raw
            buffers.append({"encoding": "base64", "path": b["path"], "offset": at[raw],
                            "length": len(raw), **({"ref": True} if ref else {})})
        models[model_id] = {**entry, "buffers": buffers} if buffers else entry
    return {**state, "state": models}, bytes(blob)


def pack_code(state: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``state`` with each view's code (:data:`CODE_TRAITS`) replaced by ``{CODE_REF: k}``,
    and the distinct texts (k-th at k): every view of a kind, and every nbperceive view's
    stylesheet, stored once; the loader puts them back."""
    texts: list[str] = []
    at: dict[str, int] = {}
    models = {}
    for model_id, entry in state["state"].items():
        traits = dict(entry.get("state", {}))
        for name in CODE_TRAITS:
            text = traits.get(name)
            if isinstance(text, str) and text:
                if text not in at:
                    at[text] = len(texts)
                    texts.append(text)
                traits[name] = {CODE_REF: at[text]}
        models[model_id] = {**entry, "state": traits}
    return {**state, "state": models}, texts


def unpack(mime: str, data: bytes) -> bytes:
    """The bytes of a packed script (:data:`PACKED_MIME` gzip, :data:`LIBRARY_MIME` zstd)."""
    if mime == LIBRARY_MIME:
        import zstandard

        return zstandard.ZstdDecompressor().decompress(data)
    return gzip.decompress(data)


def read_state(page: str) -> dict[str, Any]:
    """The widget state a saved page hands the widget manager (for checks and tools): the
    escaped JSON, or a compressed page's JSON with every buffer's bytes back from the chunks
    of the blob (as base64 ``data``, referenced buffers too)."""
    import re

    plain = re.search(r'<script type="application/vnd\.jupyter\.widget-state\+json">(.*?)'
                      r"</script>", page, re.S)
    if plain:
        return json.loads(plain.group(1))
    mimes = "|".join(map(re.escape, (PACKED_MIME, LIBRARY_MIME)))
    tag = rf'<script type="({mimes})" id="(nbp-state|nbp-code|nbp-buffers-\d+)"'
    packed = {m.group(2): unpack(m.group(1), unbase85(m.group(4), int(m.group(3))))
              for m in re.finditer(tag + r' data-bytes="(\d+)">(.*?)</script>', page, re.S)}
    if "nbp-state" not in packed:
        raise ReportError("this page holds no nbperceive widget state")
    chunks = sorted((int(k.rsplit("-", 1)[1]), v) for k, v in packed.items()
                    if k.startswith("nbp-buffers-"))
    state, blob = json.loads(packed["nbp-state"]), b"".join(v for _, v in chunks)
    code = json.loads(packed.get("nbp-code", b"[]"))
    for entry in state["state"].values():
        traits = entry.get("state", {})
        for name, value in traits.items():
            if isinstance(value, dict) and CODE_REF in value:
                traits[name] = code[value[CODE_REF]]
        for b in entry.get("buffers", []):
            start, length = b.pop("offset"), b.pop("length")
            b.pop("ref", None)
            b["data"] = base64.b64encode(blob[start : start + length]).decode("ascii")
    return state


def state_tags(state: dict[str, Any], compress: bool = True) -> list[str]:
    """The saved widget state as page scripts: escaped JSON, or (``compress``) the JSON (data
    alone), the views' code (:func:`pack_code`) and the blob of every binary buffer in chunks
    of :data:`CHUNK_BYTES`, each gzipped on its own (the loader restores the manager's state;
    no script's text nears a string limit)."""
    if not compress:
        return [f'<script type="application/vnd.jupyter.widget-state+json">{script_json(state)}'
                "</script>"]
    packed, blob = pack_buffers(state)
    packed, code = pack_code(packed)
    chunks = [blob[i : i + CHUNK_BYTES] for i in range(0, len(blob), CHUNK_BYTES)] or [b""]
    return [_gzip_tag("nbp-state", script_json(packed).encode("utf-8")),
            _source_tag("nbp-code", script_json(code), compress),  # static: as a library
            *(_gzip_tag(f"nbp-buffers-{k}", chunk) for k, chunk in enumerate(chunks))]


def page_scripts(state: dict[str, Any], compress: bool = True) -> str:
    """What a page needs to draw saved widget ``state`` with no network: the state,
    require.js, the HTML manager, every widget library the state uses, the icon fonts and the
    loader that wires them (used by :func:`to_html` and the notebook export)."""
    modules = needed_modules(state)
    sources = [("nbp-src-require", _static(REQUIRE_JS)), ("nbp-src-embed", _static(EMBED_AMD_JS))]
    sources += [(f"nbp-src-module-{i}", module_source(name)) for i, name in enumerate(modules)]
    styles = icon_font_styles(state)
    by_style = json.loads(_static(EMBED_FONTS)) if styles else {}
    fonts = {k: v for style in sorted(styles) for k, v in by_style[style].items()}
    return "\n".join([
        *state_tags(state, compress),
        *[_source_tag(i, text, compress) for i, text in sources],
        *([f"<script>{_static(UNZSTD_JS)}</script>"] if compress else []),
        f'<script type="application/json" id="nbp-fonts">{script_json(fonts)}</script>',
        f'<script type="application/json" id="nbp-modules">{script_json(modules)}</script>',
        f"<script>{_LOADER % _LOADER_NAMES}</script>",
    ])


def to_html(widget: Any, title: str = "nbperceive report", compress: bool = True,
            depths: int | None = REPORT_DEPTHS,
            preview_bytes: int | None = export.SAVED_PREVIEW_BYTES,
            epochs: int | None = REPORT_EPOCHS) -> str:
    """The self-contained HTML page of ``widget`` (see :func:`save_html`)."""
    from . import __version__

    for name, value, least, what in (("preview_bytes", preview_bytes, 0, "every preview"),
                                     ("epochs", epochs, 1, "every recorded epoch")):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < least):
            raise ReportError(f"{name} must be an int >= {least} or None ({what}), got "
                              f"{value!r}.")
    ctx = export.ExportContext(depths=depths, preview_bytes=preview_bytes, epochs=epochs)
    state, view = widget_state(widget, ctx)
    return _PAGE.format(
        version=__version__,
        title=html.escape(title),
        views=(f'<script type="application/vnd.jupyter.widget-view+json">{script_json(view)}'
               "</script>"),
        scripts=page_scripts(state, compress),
    )


def save_html(
    widget: Any, path: str | os.PathLike, title: str = "nbperceive report", compress: bool = True,
    depths: int | None = REPORT_DEPTHS, preview_bytes: int | None = export.SAVED_PREVIEW_BYTES,
    epochs: int | None = REPORT_EPOCHS,
) -> Path:
    """Write ``widget`` (an Explorer, PopulationView, Inspector, any ipywidget) to one HTML file.

    The file holds everything it needs (no CDN, no kernel): open it in a browser, attach it to
    an e-mail or publish it as a static page. ``compress`` stores the JavaScript libraries, the
    widget state and its binary buffers gzipped (the browser unpacks them with
    ``DecompressionStream``). ``depths``: how many depths of the network the inspector's saved
    heatmaps carry per sample (spread over it, plus the one on screen; ``None``: every depth).
    ``preview_bytes``: the hover previews' budget (8 MB: every sample's when they fit, else
    the selected and marked samples' first and an even random share of the others, the card
    of one left out saying so; ``None``: all). ``epochs``: how many recorded epochs the
    scrubber carries (12: the first, the last and the one shown, the others spread between;
    fewer above 333k samples, 4 million points over all of them; ``None``: all). Returns the
    path written.
    """
    from .store import atomic_file

    out = Path(path)
    page = to_html(widget, title=title, compress=compress, depths=depths,
                   preview_bytes=preview_bytes, epochs=epochs)
    with atomic_file(out, "w") as f:  # a reader never sees half a report
        f.write(page)
    return out
