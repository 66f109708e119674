"""The browser harness itself: a plain ipywidget round-trips through Voila and Lab."""
from . import servers


def test_voila(page, voila, tmp_path):
    rec = tmp_path / "rec.json"
    url = voila(["import ipywidgets as w\ns = w.IntSlider(value=3)\ns",
                 servers.trait_recorder_source("s", ["value"], rec)])
    page.goto(url)
    page.locator(".widget-slider").first.wait_for(timeout=30000)
    assert servers.wait_for_file_json(rec, lambda d: d["value"] == 3)
    servers.screenshot(page, "smoke-voila")

def test_lab(page, lab):
    lab(["import ipywidgets as w\ns = w.IntSlider(value=4)\ns"])
    page.locator(".jp-OutputArea-output .widget-slider").first.wait_for(timeout=60000)
    assert lab.eval_json("s.value") == 4
    servers.screenshot(page, "smoke-lab")
