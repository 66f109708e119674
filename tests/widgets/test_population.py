"""PopulationView in Python: binary traits, channels, previews by message, run epochs."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

import nbperceive as nbp
from nbperceive.errors import MetadataError
from nbperceive.widgets.population import PopulationView
from nbperceive.widgets.rows import ROW_REQUESTS
from nbperceive.widgets.serializers import (
    MISSING,
    array_from_json,
    array_to_json,
    channels_to_json,
    encode_channel,
)


@pytest.fixture(scope="module")
def digits_df():
    d = load_digits()
    xy = PCA(2, random_state=0).fit_transform(d.data)
    # per-sample "loss": distance to the class mean in pixel space (real, skewed, per sample)
    means = np.stack([d.data[d.target == k].mean(0) for k in range(10)])
    loss = np.linalg.norm(d.data - means[d.target], axis=1)
    df = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "label": d.target, "loss": loss,
                       "name": [f"digit {t}" for t in d.target]})
    return df, d


def _wire_bytes(value) -> int:
    return value["view"].nbytes


def test_defaults_colour_and_size_by_loss_and_everything_travels_binary(digits_df):
    df, _ = digits_df
    view = PopulationView(df)
    assert view.color == "loss" and view.size == "loss"
    assert set(view.columns) == {"label", "loss", "name"}
    state = view.get_state()
    x, y = state["x"], state["y"]
    assert x["dtype"] == "float32" and isinstance(x["view"], memoryview)
    np.testing.assert_array_equal(np.frombuffer(x["view"], np.float32), df.x.astype(np.float32))
    ch = state["channels"]
    assert ch["loss"]["codes"]["dtype"] == "uint8" and ch["label"]["kind"] == "categorical"
    per_point = (_wire_bytes(x) + _wire_bytes(y) + _wire_bytes(ch[view.color]["codes"])
                 + _wire_bytes(ch[view.size]["codes"])) / len(df)
    assert per_point == 10  # x, y float32 + one byte colour + one byte size


def test_without_a_loss_column_points_keep_one_size(digits_df):
    """A table without loss colours by its first column; sizing by a class id would mean
    nothing, so every point has the same size until the user picks a column."""
    df, _ = digits_df
    view = PopulationView(df.drop(columns="loss"))
    assert view.color == "label" and view.size == ""
    view.size = "name"  # any column can still be chosen, and "" again
    view.size = ""
    assert view.size == ""


def test_continuous_codes_follow_the_values_and_clip_outliers():
    values = pd.Series(np.r_[np.linspace(0, 1, 998), 50.0, np.nan])
    ch = encode_channel(values)
    codes = ch["codes"]
    assert ch["kind"] == "continuous" and ch["clipped"][1]
    assert ch["domain"][1] < 2  # the 50 outlier does not stretch the scale
    assert np.all(np.diff(codes[:998].astype(int)) >= 0)  # monotone
    assert codes[0] == 0 and codes[998] == MISSING - 1 and codes[999] == MISSING


def test_categorical_codes_keep_numeric_order_and_lump_rare_categories():
    ch = encode_channel(pd.Series([10, 2, 2, 1, None], dtype="Int64"))
    assert ch["categories"] == ["1", "2", "10"]
    assert list(ch["codes"]) == [2, 1, 1, 0, MISSING]
    many = pd.Series([f"c{i}" for i in range(300)] + ["c0"] * 5)
    ch = encode_channel(many)
    assert len(ch["categories"]) == 254 and ch["categories"][-1] == "other"
    assert ch["codes"][0] == ch["categories"].index("c0")


def test_selection_round_trips_as_binary_uint32(digits_df):
    df, _ = digits_df
    view = PopulationView(df)
    sent = array_to_json(np.array([3, 9, 1200], np.uint32))
    view.set_state({"selection": {**sent, "view": sent["view"].tobytes()}, "selected": 9})
    assert view.selection.dtype == np.uint32
    assert view.selection.tolist() == [3, 9, 1200] and view.selected == 9
    assert array_from_json(view.get_state()["selection"]).tolist() == [3, 9, 1200]


def test_choosing_a_column_from_python_and_bad_columns(digits_df):
    df, _ = digits_df
    view = PopulationView(df, color="label", size="loss")
    view.color = "name"
    assert view.channels["name"]["categories"][0] == "digit 0"
    with pytest.raises(MetadataError, match="Choose one of"):
        view.color = "nope"
    with pytest.raises(MetadataError, match="not a column"):
        PopulationView(df, x="px")
    with pytest.raises(MetadataError, match="DataFrame"):
        PopulationView(df.to_numpy())
    with pytest.raises(MetadataError, match="preview holds"):
        PopulationView(df, preview=nbp.texts(["a", "b"]))


def test_large_tables_send_only_the_channels_in_use(monkeypatch, digits_df):
    import nbperceive.widgets.population as pop

    df, _ = digits_df
    monkeypatch.setattr(pop, "INLINE_CHANNEL_BYTES", 100)
    view = PopulationView(df, color="label", size="loss")
    assert set(view.channels) == {"label", "loss"}
    view.color = "name"  # chosen later (dropdown or Python): sent then
    assert set(view.channels) == {"label", "loss", "name"}
    assert set(channels_to_json(view.channels)) == {"label", "loss", "name"}


def test_many_points_are_drawn_smaller_unless_a_size_is_given():
    # 4 px dots over a 1M-point plot only overplot each other (and cost the frame more)
    def table(n):
        rng = np.random.default_rng(0)
        return pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n),
                             "loss": rng.random(n)})

    sizes = [PopulationView(table(n)).point_size for n in (1_000, 50_000, 200_000, 1_000_000)]
    assert sizes[0] == sizes[1] == 4.0 and 4.0 > sizes[2] > sizes[3] >= 1.5
    assert PopulationView(table(1_000_000), point_size=5).point_size == 5.0


def test_hover_preview_is_answered_by_custom_message(digits_df):
    df, d = digits_df
    view = PopulationView(df, preview=nbp.images(d.images.astype(np.uint8)))
    assert view.preview_kind == "image" and view.preview_inline == {}  # 1,797 > inline limit
    sent = []
    view.send = lambda content, buffers=None: sent.append((content, buffers))
    view._on_custom_msg(view, {"type": ROW_REQUESTS["preview"], "index": 42}, [])
    content, buffers = sent[-1]
    assert content["index"] == 42 and content["info"]["label"] == int(d.target[42])
    assert buffers[0] == view._preview.get(42)


def test_small_sets_carry_text_previews_inline(digits_df):
    df, _ = digits_df
    small = df.head(20).reset_index(drop=True)
    texts = [f"<img src=x onerror=alert({i})>" for i in range(20)]
    view = PopulationView(small, preview=texts)
    assert view.preview_kind == "text"
    assert view.preview_inline["texts"][3] == "<img src=x onerror=alert(3)>"
    assert view.preview_inline["info"][3]["label"] == int(small.label[3])


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """A real run: a small CNN trained 2 epochs on digits, 300 probe samples recorded."""
    from core.models import record_digits_run

    return nbp.open_run(record_digits_run(tmp_path_factory.mktemp("run") / "digits"))


def test_from_run_shows_an_epoch_and_the_scrubber_moves_points(digits_run):
    run = digits_run
    assert len(run.epochs) >= 3  # before training + 2 epochs
    view = PopulationView.from_run(run, epoch=run.epochs[0])
    assert view.epochs == run.epochs and view.epoch == run.epochs[0]
    first = run.project(run.epochs[0], method="pca")
    np.testing.assert_allclose(view.x, first[:, 0], rtol=1e-6)
    assert view.color == "loss" and {"label", "pred", "correct"} <= set(view.columns)
    loss_before = view.channels["loss"]["domain"]

    view.epoch = run.epochs[-1]  # what the scrubber does
    last = run.project(run.epochs[-1], method="pca")
    np.testing.assert_allclose(view.x, last[:, 0], rtol=1e-6)
    np.testing.assert_allclose(view.y, last[:, 1], rtol=1e-6)
    assert view.channels["loss"]["domain"] != loss_before  # colours follow the epoch's loss
    np.testing.assert_allclose(view.data["loss"], run.snapshot(run.epochs[-1]).table["loss"])


def test_from_run_rejects_an_unrecorded_epoch(digits_run):
    from nbperceive.errors import RunError

    view = PopulationView.from_run(digits_run)
    with pytest.raises(RunError, match="recorded epochs"):
        view.epoch = 99


def test_add_column_joins_the_pickers_and_survives_epochs(digits_run):
    view = PopulationView.from_run(digits_run, epoch=digits_run.epochs[0])
    flags = np.arange(len(view.data)) % 3
    view.add_column("fold", flags)
    assert "fold" in view.columns and view.channels["fold"]["categories"] == ["0", "1", "2"]
    view.color = "fold"
    view.epoch = digits_run.epochs[-1]
    assert view.data["fold"].tolist() == flags.tolist()
    assert view.channels["fold"]["codes"].tolist() == flags.tolist()
    with pytest.raises(MetadataError, match="one value per sample"):
        view.add_column("bad", [1, 2])


def test_a_saved_report_carries_every_preview_even_for_large_sets():
    d = load_digits()
    images = np.tile((d.images * 16).clip(0, 255).astype(np.uint8), (2, 1, 1))[:1500]
    df = pd.DataFrame({"x": np.arange(1500.0), "y": np.arange(1500.0)})
    view = nbp.PopulationView(df, preview=nbp.images(images))
    assert view.preview_inline == {}  # live: too many to inline, fetched per hover
    exported = view.export_state()["preview_inline"]
    offsets = np.frombuffer(exported["offsets"]["view"], dtype=np.uint32)
    assert len(offsets) == 1501 and offsets[-1] == len(exported["png"]["view"])
    assert len(exported["info"]) == 1500


def test_a_saved_page_s_previews_keep_to_their_budget_listed_samples_first():
    """Every preview of a large set made a saved page ~900 B a sample (a 1M-sample page: past
    what a browser opens); within ``preview_bytes`` it carries the selected and marked
    samples' first, then an even share of the others, and says whose (sorted ids, of N)."""
    from nbperceive.export import ExportContext

    d = load_digits()
    images = (d.images * 16).clip(0, 255).astype(np.uint8)
    n = len(images)
    df = pd.DataFrame({"x": np.arange(n, dtype=float), "y": np.zeros(n), "label": d.target})
    view = nbp.PopulationView(df, preview=nbp.images(images))
    view.selected, view.marked = 1500, np.array([7, 1200], np.uint32)
    everything = view.export_state(ExportContext(preview_bytes=None))["preview_inline"]
    assert "ids" not in everything and len(everything["info"]) == n
    whole = len(everything["png"]["view"])
    saved = view.export_state(ExportContext(preview_bytes=whole // 10))["preview_inline"]
    ids = array_from_json(saved["ids"])
    assert saved["of"] == n and 0.05 * n < len(ids) < 0.1 * n
    assert {1500, 7, 1200} <= set(ids.tolist()) and (np.diff(ids.astype(int)) > 0).all()
    offsets = np.frombuffer(saved["offsets"]["view"], dtype=np.uint32)
    png = bytes(saved["png"]["view"])
    assert len(png) <= whole // 10 and len(offsets) == len(ids) + 1
    k = int(np.searchsorted(ids, 1200))  # sample 1200's own thumbnail, at its slot
    assert png[offsets[k]:offsets[k + 1]] == view._preview.get(1200)
    assert saved["info"][k]["label"] == int(d.target[1200])
    # the others spread over the set, not the first rows
    assert ids.max() > 0.9 * n and ids[len(ids) // 2] > 0.2 * n
    # within the budget: every preview, no ids
    assert "ids" not in view.export_state(ExportContext(preview_bytes=10 * whole))[
        "preview_inline"]


def test_save_html_refuses_a_bad_preview_or_epoch_budget(tmp_path):
    from nbperceive.errors import ReportError
    from nbperceive.report import save_html

    view = nbp.PopulationView(pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0]}))
    for bad in (-1, "8MB", 1.5, True):
        with pytest.raises(ReportError, match="preview_bytes"):
            save_html(view, tmp_path / "bad.html", preview_bytes=bad)
    for bad in (0, "all", 2.0):
        with pytest.raises(ReportError, match="epochs must be an int >= 1 or None"):
            save_html(view, tmp_path / "bad.html", epochs=bad)
    assert not (tmp_path / "bad.html").exists()


def test_a_saved_report_carries_every_epoch_for_the_scrubber(digits_run):
    run = digits_run
    view = PopulationView.from_run(run)  # the last epoch
    saved = view.export_state()
    assert view.epoch_frames == {}  # the live widget is untouched
    assert saved["epochs"] == run.epochs
    frames = saved["epoch_frames"]
    assert sorted(frames, key=int) == [str(e) for e in run.epochs]
    first = frames[str(run.epochs[0])]
    xs = array_from_json(first["x"])  # uint16 steps over the layout's extent
    want = run.project(run.epochs[0], method="pca")[:, 0]
    np.testing.assert_allclose(xs, want, atol=(want.max() - want.min()) / 65534)
    # colour codes of that epoch's losses, not the last epoch's (the page works them out
    # from the saved table's quantised losses: within one code)
    codes = array_from_json(first["channels"]["loss"]["codes"]).astype(int)
    expected = encode_channel(run.snapshot(run.epochs[0]).table["loss"])["codes"]
    assert np.abs(codes - expected).max() <= 1 and (codes == expected).mean() > 0.95
    assert first["channels"]["loss"]["domain"] != view.channels["loss"]["domain"]


def test_a_saved_scrubber_carries_a_spread_of_epochs_within_the_budget(digits_run,
                                                                        monkeypatch):
    """Every epoch of every sample went into a saved page: 50 epochs of 1M samples would be
    ~800 MB. It carries ``epochs`` of them (the first, the last, the one shown, the rest
    spread), fewer for a large run (SAVED_EPOCH_POINTS over all of them, two at least)."""
    from nbperceive import export
    from nbperceive.export import ExportContext

    run = digits_run
    first, middle, last = run.epochs[0], run.epochs[1], run.epochs[-1]
    view = PopulationView.from_run(run, epoch=middle)
    assert view.export_state(ExportContext(epochs=1))["epochs"] == [middle, last]
    assert view.export_state(ExportContext(epochs=None))["epochs"] == run.epochs
    view.epoch = last
    assert view.export_state(ExportContext(epochs=2))["epochs"] == [first, last]
    saved = view.export_state(ExportContext(epochs=1))
    assert "epoch_frames" not in saved  # one epoch: no scrubber
    # a large run: 300 samples against a budget of 600 points keeps two epochs
    monkeypatch.setattr(export, "SAVED_EPOCH_POINTS", 600)
    assert ExportContext().epoch_count(300) == 2 and ExportContext().epoch_count(10**6) == 2
    assert sorted(view.export_state()["epoch_frames"], key=int) == [str(first), str(last)]
    assert ExportContext(epochs=None).epoch_count(10**6) is None


def test_a_slow_neighbour_search_does_not_delay_the_view(digits_run, monkeypatch):
    """The exact search takes seconds at 10k samples: the view is there before it ends,
    says it is searching, and a sample's neighbours wait for it."""
    import threading

    release, started = threading.Event(), threading.Event()
    search = PopulationView._neighbour_ids

    def slow(*args):
        started.set()
        assert release.wait(timeout=60)
        return search(*args)

    monkeypatch.setattr(PopulationView, "_neighbour_ids", staticmethod(slow))
    view = PopulationView.from_run(digits_run)  # returns with the search held up
    assert started.wait(timeout=30) and not release.is_set()
    assert view.x.size == len(digits_run.samples) and view.neighbours_note.startswith("searching")
    release.set()
    assert len(view.neighbours_of(3)) > 0
    assert view.neighbours_note.startswith("nearest in perception space")


def test_a_large_runs_nearest_samples_come_from_the_ranking_s_graph(digits_run, tmp_path,
                                                                      monkeypatch):
    """Above NEIGHBOURS_SEARCHED samples the Explorer's view does not search (NN-descent: a
    minute at 1M) and had no nearest samples unless a UMAP layout had cached its graph; the
    label-error ranking caches one layer's graph: the Explorer lists them once it is done. A
    saved page above SAVED_NEIGHBOURS_MAX samples leaves them out and says so."""
    import nbperceive.widgets.population as pop
    from nbperceive.neighbours import cached_graph

    run = _as_large_run(digits_run, tmp_path, monkeypatch)
    monkeypatch.setattr(pop, "SAVED_NEIGHBOURS_MAX", 100)
    ex = nbp.Explorer(run)
    assert ex.wait_for_suspects(120)
    view = ex.population
    layers = [str(b["name"]) for b in run.snapshot(view.epoch).layout]
    cached = [name for name in layers if cached_graph(run, view.epoch, layer=name)]
    assert cached and cached_graph(run, view.epoch) is None  # one layer's, by the ranking
    graph = cached_graph(run, view.epoch, layer=cached[0])
    near = view.neighbours_of(3)
    assert near == graph.neighbours(pop.NEIGHBOURS_K)[3].tolist()
    assert f"layer {cached[0]}" in view.neighbours_note
    saved = view.export_state()
    assert array_from_json(saved["neighbours"]).size == 0
    assert "live view only" in saved["neighbours_note"]


def _as_large_run(run, tmp_path, monkeypatch):
    """A copy of ``run`` without its cached graphs, counted as a large run (300 > 100)."""
    import shutil

    import nbperceive.widgets.population as pop

    shutil.copytree(run.path, tmp_path / "run")
    for f in (tmp_path / "run").glob("epoch-*/knn-*.npy"):
        f.unlink()
    monkeypatch.setattr(pop, "NEIGHBOURS_SEARCHED", 100)
    return nbp.open_run(tmp_path / "run")


def _wait_for_note(view, text: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while text not in view.neighbours_note and time.monotonic() < deadline:
        time.sleep(0.05)
    assert text in view.neighbours_note, view.neighbours_note


def test_a_large_run_s_view_searches_its_graph_in_the_background(digits_run, tmp_path,
                                                                  monkeypatch):
    """A PopulationView of a large run with no cached graph (PCA layout, no ranking) had no
    nearest samples at all; it searches the run's graph in the background once a sample is
    asked for (not beside the page's first frame) and lists them."""
    from nbperceive.neighbours import cached_graph
    from nbperceive.widgets.population import NEIGHBOURS_K

    run = _as_large_run(digits_run, tmp_path, monkeypatch)
    view = PopulationView.from_run(run)
    _wait_for_note(view, "once a sample is selected")  # the look in the cache, at opening
    assert cached_graph(run, view.epoch) is None
    assert view.neighbours_of(3, wait=False) is None  # starts the search, answers later
    assert view.neighbours_note.startswith("searching the nearest samples among 300")
    near = view.neighbours_of(3)  # waits for the search
    graph = cached_graph(run, view.epoch)
    assert graph is not None  # searched once, cached in the run for UMAP and the ranking
    assert near == graph.neighbours(NEIGHBOURS_K)[3].tolist()
    assert view.neighbours_note.startswith("nearest in perception space")


def test_a_large_regression_explorer_lists_nearest_samples(tmp_path, monkeypatch):
    """A regression run has no label-error ranking, so above NEIGHBOURS_SEARCHED samples no
    job cached a graph and the Explorer's details listed no nearest samples: once the
    ranking says it cannot run, the view searches the graph itself."""
    from core.models import digits_regression_perceiver

    from nbperceive.neighbours import cached_graph
    from nbperceive.widgets.population import NEIGHBOURS_K

    p = digits_regression_perceiver(tmp_path / "recorded")[0]
    run = _as_large_run(p.run, tmp_path, monkeypatch)
    ex = nbp.Explorer(run)
    assert ex.wait_for_suspects(120)
    assert "no label-error ranking" in ex.suspects.empty
    view = ex.population
    # the view looks again on the ranking's thread, after it gave up
    _wait_for_note(view, "once a sample is selected")
    near = view.neighbours_of(3)  # searched now
    graph = cached_graph(run, view.epoch)
    assert graph is not None and near == graph.neighbours(NEIGHBOURS_K)[3].tolist()
    assert view.neighbours_note.startswith("nearest"), view.neighbours_note


def test_neighbours_are_the_run_graphs_nearest_samples_per_epoch(digits_run):
    from nbperceive.neighbours import run_graph
    from nbperceive.widgets.population import NEIGHBOURS_K

    run = digits_run
    view = PopulationView.from_run(run, epoch=run.epochs[0])
    want = run_graph(run, run.epochs[0]).neighbours(NEIGHBOURS_K)
    # live, the page asks for one sample's (the details panel): nothing per point is sent
    assert view.neighbours.shape == (0, 0)
    near = np.array([view.neighbours_of(i) for i in range(len(run.samples))])
    np.testing.assert_array_equal(near, want)
    assert (near != np.arange(len(want))[:, None]).all()  # never the sample itself
    view.epoch = run.epochs[-1]
    last = run_graph(run, run.epochs[-1]).neighbours(NEIGHBOURS_K)
    assert view.neighbours_of(5) == last[5].tolist()
    assert f"epoch {run.epochs[-1]}" in view.neighbours_note
    saved_now = array_to_json(view.export_state()["neighbours"])  # the shown epoch's frame
    np.testing.assert_array_equal(array_from_json(saved_now), last)
    # a saved page carries the shown epoch's neighbours (with its frame), none of the others
    frames = view.export_state()["epoch_frames"]
    saved = frames[str(run.epochs[-1])]["neighbours"]
    assert saved["ranked"]  # by class and x: the page decodes the same ids
    np.testing.assert_array_equal(array_from_json(saved), last)
    assert frames[str(run.epochs[0])]["neighbours"]["shape"] == [0, 0]


def test_the_layout_switch_lays_the_epoch_out_again_and_a_saved_page_hides_it(digits_run):
    run = digits_run
    view = PopulationView.from_run(run)
    assert view.layout_methods[0] == "pca" and "umap" in view.layout_methods
    pca = np.stack([view.x, view.y], 1)
    import threading

    moved = threading.Event()
    # the refined layout arrives from the worker, then the status clears
    view.observe(lambda ch: ch["new"] == "" and moved.set(), names="layout_status")
    view.layout_method = "umap"  # what the page's Layout switch does
    assert view.layout_status.startswith("umap layout")  # refining in the background, shown
    assert moved.wait(timeout=300)
    umap = np.stack([view.x, view.y], 1)
    assert view.layout_status == ""
    assert np.abs(umap - pca).max() > 0.05  # the points moved to the UMAP layout
    view.layout_method = "pca"
    np.testing.assert_allclose(np.stack([view.x, view.y], 1), pca, rtol=1e-6)
    assert view.export_state()["layout_methods"] == []


def test_the_layer_switch_lays_the_epoch_out_from_that_layer_in_the_background(digits_run):
    import threading

    run = digits_run
    view = PopulationView.from_run(run)
    layers = [b["name"] for b in run.snapshot().layout]
    assert len(layers) > 1 and view.layout_layers == layers and view.layout_layer == ""
    every = np.stack([view.x, view.y], 1)
    done = threading.Event()
    statuses: list[str] = []
    view.observe(lambda ch: statuses.append(ch["new"]) or (ch["new"] == "" and done.set()),
                 names="layout_status")
    view.layout_layer = layers[0]  # what the page's Layer switch does
    assert done.wait(timeout=60)
    assert statuses[0].startswith(f"pca layout of epoch {view.epoch}, layer {layers[0]}")
    # the points are the PCA of that layer's vectors alone (the kernel computes it again)
    want = np.asarray(run.project(view.epoch, method="pca", layer=layers[0]))
    np.testing.assert_allclose(np.stack([view.x, view.y], 1), want, rtol=1e-5, atol=1e-6)
    assert np.abs(want - every).max() > 0.05
    view.neighbours_of(0)  # waits for their search, on its own thread
    assert f"layer {layers[0]}" in view.neighbours_note  # the neighbours follow the layer
    # a name that is no captured layer: the switch goes back
    view.layout_layer = "no such layer"
    assert view.layout_layer == layers[0]
    done.clear()
    view.layout_layer = ""  # all layers again
    assert done.wait(timeout=60)
    np.testing.assert_allclose(np.stack([view.x, view.y], 1), every, rtol=1e-5, atol=1e-6)
    assert view.export_state()["layout_layers"] == []  # a saved page has no kernel for it
    with pytest.raises(nbp.errors.RunError, match="captured layers"):
        PopulationView.from_run(run, layer="no such layer")


def test_the_structure_toggle_sends_the_cluster_labels_codes(monkeypatch, digits_run):
    import nbperceive.widgets.population as population

    monkeypatch.setattr(population, "INLINE_CHANNEL_BYTES", 10)  # a "large" set
    view = PopulationView.from_run(digits_run)
    assert set(view.channels) == {"loss"}
    assert view.class_names == [str(c) for c in digits_run.class_names]
    view.structure = True  # what the page's Structure button does
    assert set(view.channels) == {"loss", "label", "correct"}
    np.testing.assert_array_equal(view.channels["label"]["codes"],
                                  encode_channel(view.data["label"])["codes"])


def test_a_view_on_its_own_carries_the_rows_its_search_box_searches(digits_df, digits_run):
    df, _ = digits_df
    view = PopulationView(df)
    assert view.searchable and view.answers_search
    assert view.rows == {}  # live: no bytes until the page's first search asks for them
    assert set(view.export_state()["rows"]) == set(df.columns) - {"x", "y"}  # a saved page
    assert view.row_requests == ROW_REQUESTS  # the names the page builds its requests from
    view._on_custom_msg(view, {"type": "nope", "slot": "search"}, [])
    view._on_custom_msg(view, {"type": ROW_REQUESTS["rows"], "slot": "page"}, [])
    assert view.rows == {}  # neither is this view's search request
    view._on_custom_msg(view, {"type": ROW_REQUESTS["rows"], "slot": "search"}, [])
    assert set(view.rows) == set(df.columns) - {"x", "y"}
    np.testing.assert_array_equal(array_from_json(view.rows["label"]["numbers"]),
                                  df["label"].to_numpy())
    view.add_column("group", df["label"].to_numpy() % 2)
    assert "group" in view.rows
    # a run's view: its epoch's rows, and each saved epoch's in the page
    run_view = PopulationView.from_run(digits_run)
    run_view._on_custom_msg(run_view, {"type": ROW_REQUESTS["rows"], "slot": "search"}, [])
    assert "loss" in run_view.rows and "x" not in run_view.rows
    frames = run_view.export_state()["epoch_frames"]
    assert all("loss" in frame["rows"] for frame in frames.values())
    # the Explorer's selection view answers instead: no second copy of the rows
    other = PopulationView(df, own_search=False)
    assert other.rows == {} and not other.searchable and not other.answers_search


def test_a_large_runs_layout_is_computed_without_delaying_the_view(digits_run, tmp_path,
                                                                      monkeypatch):
    """Above INLINE_LAYOUT_MAX samples a layout not cached is computed on a thread: the view
    returns with its colours, no points and a status line, the points come when it is done,
    a scrubbed-to epoch keeps the old points until its own arrive, and a saved page waits."""
    import shutil
    import threading

    from nbperceive.projection import runs
    from nbperceive.widgets import population

    path = shutil.copytree(digits_run.path, tmp_path / "run")
    for f in path.glob("epoch-*/proj-*.npy"):
        f.unlink()
    monkeypatch.setattr(population, "INLINE_LAYOUT_MAX", 100)  # the 300 samples count as many
    release, started = threading.Event(), threading.Event()
    chain = runs._pca_chain

    def slow(*args, **kwargs):
        started.set()
        assert release.wait(timeout=60)
        return chain(*args, **kwargs)

    monkeypatch.setattr(runs, "_pca_chain", slow)
    run = nbp.open_run(path)
    first, last = run.epochs[0], run.epochs[-1]
    view = PopulationView.from_run(run)  # returns with the layout held up
    assert started.wait(timeout=30) and not release.is_set()
    n = len(run.samples)
    assert view.x.size == 0 and view.y.size == 0  # no NaN points sent
    assert view.layout_status == f"pca layout of epoch {last} ({n:,} samples): computing"
    assert len(view.channels["loss"]["codes"]) == n  # the loss colours are there
    release.set()
    assert view.wait_for_layout(timeout=60)
    want = run.project(last, method="pca")
    np.testing.assert_array_equal(np.stack([view.x, view.y], 1), want)
    assert view.layout_status == "" and np.isfinite(view.data[["x", "y"]]).all().all()

    release.clear()
    started.clear()
    view.epoch = first  # not cached (the chain laid it out at the fitting rows only)
    assert started.wait(timeout=30)
    np.testing.assert_array_equal(view.x, want[:, 0])  # the old points stay meanwhile
    assert view.layout_status.endswith("computing")
    saved: list = []
    export = threading.Thread(target=lambda: saved.append(view.export_state()))
    export.start()
    export.join(timeout=0.5)
    assert export.is_alive() and not saved  # the saved page waits for the points
    release.set()
    export.join(timeout=60)
    np.testing.assert_array_equal(view.x, run.project(first, method="pca")[:, 0])
    xs = array_from_json(saved[0]["x"]).astype(float)
    assert len(xs) == n and view.layout_status == ""
