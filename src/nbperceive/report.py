"""Static HTML reports: one self-contained file in which the widgets render from saved state.

``save_html(widget, "report.html")`` writes the widget's state (``ipywidgets.embed``), the
Jupyter widgets HTML manager, require.js and every widget library the state uses (anywidget,
bqplot, ...) into one HTML file. It opens offline, from ``file://``, without a kernel: the
views draw, hover, click, lasso and links between views (``jslink``) work in the page, while
anything that needs Python (e.g. heatmaps of another sample) shows the last saved result.

How it loads: the widget state travels as JSON with ``<``, ``>``, ``&`` escaped as ``\\u003c``
etc., so no sample text can close its ``<script>`` tag; the libraries travel gzipped in base64
(or as escaped JSON strings with ``compress=False``). A small loader evaluates require.js and
the HTML manager at global scope, and each widget library inside a function whose ``define``
names its modules (``define("bqplot", deps, factory)``), so require.js never sees an anonymous
``define`` outside a file it loaded ("Mismatched anonymous define()").

A widget that answers requests through its kernel can save what a page without kernel needs
instead by defining ``_export_traits() -> {trait: value}`` (see :func:`_apply_export_traits`).
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

from .errors import ReportError

STATIC = Path(__file__).resolve().parent / "static"
# loaders copied from npm into static/ by js/copy-assets.mjs (see js/package.json "build")
REQUIRE_JS = "require.js"
EMBED_AMD_JS = "embed-amd.js"
EMBED_FONTS = "embed-amd-fonts.js"  # JSON {hashed font file name: base64} (Font Awesome woff2)
# widget modules the HTML manager defines itself
BUILTIN_MODULES = {"@jupyter-widgets/base", "@jupyter-widgets/controls",
                   "@jupyter-widgets/output"}

_LOADER = r"""
(function () {
  "use strict";
  var globalEval = eval;
  var json = function (id) { return JSON.parse(document.getElementById(id).textContent); };
  // a script's source: JSON text, or gzip + base64 (decompressed by the browser)
  var source = function (id) {
    var el = document.getElementById(id);
    if (el.type === "application/json") return Promise.resolve(JSON.parse(el.textContent));
    var bin = atob(el.textContent.trim());
    var bytes = new Uint8Array(bin.length);
    for (var k = 0; k < bin.length; k++) bytes[k] = bin.charCodeAt(k);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text();
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
  Promise.all(ids.map(source)).then(function (src) {
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
    // the HTML manager renders every widget-view script (now, or once the page has loaded)
    globalEval(src[1] + "\n//# sourceURL=nbperceive/embed-amd.js\n");
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
body {{ font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 16px 24px; }}
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


def widget_state(widget: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(manager state, view spec) of ``widget``, every widget it refers to and their jslinks."""
    import ipywidgets
    from ipywidgets.embed import dependency_state, embed_data

    if not isinstance(widget, ipywidgets.DOMWidget):
        raise ReportError(f"save_html needs a widget to show (an Explorer, a PopulationView, an "
                          f"ipywidgets box...), not {type(widget).__name__}.")
    # every trait, defaults included: anywidget keeps _esm, _view_name... as class defaults
    state = dependency_state([widget], drop_defaults=False)
    for model_id, entry in state.items():
        _apply_export_traits(ipywidgets.widgets.widget._instances.get(model_id), entry)
    data = embed_data(views=[widget], state=state)
    return data["manager_state"], data["view_specs"][0]


def _apply_export_traits(widget: Any, entry: dict[str, Any]) -> None:
    """Let a widget save other trait values than its live ones (the live widget is untouched).

    A widget that answers requests through its kernel (e.g. hover previews fetched by custom
    message) can define ``_export_traits() -> {trait: value}`` with what a page without a
    kernel needs instead (e.g. every preview inline). Values go through the trait's own
    serializer; bytes and memoryviews travel as base64 buffers like every embedded state.
    """
    hook = getattr(widget, "_export_traits", None)
    overrides = hook() if callable(hook) else None
    if not overrides:
        return
    from ipywidgets.widgets.widget import _remove_buffers

    full = widget.get_state(drop_defaults=False)
    for name, value in overrides.items():
        to_json = widget.trait_metadata(name, "to_json", widget._trait_to_json)
        full[name] = to_json(value, widget)
    model_state, paths, buffers = _remove_buffers(full)
    entry["state"] = model_state
    entry.pop("buffers", None)
    if buffers:
        entry["buffers"] = [{"encoding": "base64", "path": path,
                             "data": base64.standard_b64encode(buf).decode("ascii")}
                            for path, buf in zip(paths, buffers)]


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


def _source_tag(tag_id: str, text: str, compress: bool) -> str:
    if not compress:
        return f'<script type="application/json" id="{tag_id}">{script_json(text)}</script>'
    packed = base64.b64encode(gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0))
    return (f'<script type="application/gzip+base64" id="{tag_id}">{packed.decode("ascii")}'
            "</script>")


def page_scripts(state: dict[str, Any], compress: bool = True) -> str:
    """What a page needs to draw saved widget ``state`` with no network: the escaped state,
    require.js, the HTML manager, every widget library the state uses, the icon fonts and the
    loader that wires them (used by :func:`to_html` and the notebook export)."""
    modules = needed_modules(state)
    sources = [("nbp-src-require", _static(REQUIRE_JS)), ("nbp-src-embed", _static(EMBED_AMD_JS))]
    sources += [(f"nbp-src-module-{i}", module_source(name)) for i, name in enumerate(modules)]
    fonts = json.loads(_static(EMBED_FONTS))
    return "\n".join([
        f'<script type="application/vnd.jupyter.widget-state+json">{script_json(state)}</script>',
        *[_source_tag(i, text, compress) for i, text in sources],
        f'<script type="application/json" id="nbp-fonts">{script_json(fonts)}</script>',
        f'<script type="application/json" id="nbp-modules">{script_json(modules)}</script>',
        f"<script>{_LOADER}</script>",
    ])


def to_html(widget: Any, title: str = "nbperceive report", compress: bool = True) -> str:
    """The self-contained HTML page of ``widget`` (see :func:`save_html`)."""
    from . import __version__

    state, view = widget_state(widget)
    return _PAGE.format(
        version=__version__,
        title=html.escape(title),
        views=(f'<script type="application/vnd.jupyter.widget-view+json">{script_json(view)}'
               "</script>"),
        scripts=page_scripts(state, compress),
    )


def save_html(
    widget: Any, path: str | os.PathLike, title: str = "nbperceive report", compress: bool = True
) -> Path:
    """Write ``widget`` (an Explorer, PopulationView, Inspector, any ipywidget) to one HTML file.

    The file holds everything it needs (no CDN, no kernel): open it in a browser, attach it to
    an e-mail or publish it as a static page. ``compress`` stores the JavaScript libraries
    gzipped (about 2.5x smaller file; the browser unpacks them with ``DecompressionStream``).
    Returns the path written.
    """
    from .store import atomic_file

    out = Path(path)
    page = to_html(widget, title=title, compress=compress)
    with atomic_file(out, "w") as f:  # a reader never sees half a report
        f.write(page)
    return out
