"""The Python side of the trait contract: each view's synced traits are the ones its JS says it
uses (js/src/traits.json, itself checked against the views' code by js/tests/traits.test.js).
A trait synced in Python but unused by the view, or used by the view but not synced, fails."""

import importlib
import json
import pkgutil
from pathlib import Path

import anywidget
import ipywidgets as w
import pytest

CONTRACT = json.loads((Path(__file__).parents[2] / "js" / "src" / "traits.json").read_text())
VIEWS = CONTRACT["views"]
# ipywidgets' own synced traits (layout, tooltip, _view_name...): every DOM widget has them
BASE = set(w.DOMWidget.class_traits(sync=True))


def _widget(dotted: str) -> type:
    module, name = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def _synced(cls: type) -> set[str]:
    return {n for n in cls.class_traits(sync=True) if n not in BASE and not n.startswith("_")}


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_synced_traits_match_what_the_view_uses(view: str) -> None:
    cls = _widget(VIEWS[view]["widget"])
    listed = set(VIEWS[view]["traits"])
    synced = _synced(cls)
    assert not synced - listed, f"synced by {cls.__name__} but unused by {view}"
    assert not listed - synced, f"used by {view} but not synced by {cls.__name__}"


def test_every_anywidget_class_is_in_the_contract() -> None:
    """Each anywidget class of nbperceive.widgets has its view listed (a new view can't skip)."""
    from nbperceive import widgets

    found = set()
    for info in pkgutil.iter_modules(widgets.__path__):
        module = importlib.import_module(f"{widgets.__name__}.{info.name}")
        found |= {f"{cls.__module__}.{cls.__name__}" for cls in vars(module).values()
                  if isinstance(cls, type) and issubclass(cls, anywidget.AnyWidget)
                  and cls.__module__ == module.__name__}
    assert found == {spec["widget"] for spec in VIEWS.values()}
