"""The Explorer's kernel-side links on a real recorded run (browser links: tests/browser)."""

from __future__ import annotations

import numpy as np
import pytest

import nbperceive as nbp
from nbperceive.widgets.serializers import array_from_json


@pytest.fixture(scope="module")
def perceiver(tmp_path_factory):
    from core.models import digits_perceiver

    note = np.array(["<script>alert(1)</script>"] + ["plain"] * 199)
    return digits_perceiver(tmp_path_factory.mktemp("ex") / "run", n_probe=200,
                            learning_rate=0.01, metadata={"note": note})


def _ask(view, type, **content):
    """What the page sends the selection view (js/src/tables.js: needColumns, needRows): a
    row request named by the view's ``row_requests``."""
    view._on_msg(view, {"type": view.row_requests[type], **content}, [])


def test_details_read_raw_rows_that_a_report_saves_once(perceiver):
    # the page formats and escapes (tests/browser); Python supplies raw values, in the
    # selection view the details panel references, linked to the scatter by jslink
    ex = nbp.Explorer(perceiver)
    assert ex.details.source is ex.selection_view
    view = ex.selection_view
    assert view.table == {} and view.rows == {} and not view.complete  # nothing per point yet
    # the details panel asks for its sample's row and its nearest samples (once searched)
    near = ex.population.neighbours_of(0)
    _ask(view, type="rows", slot="details", ids=[0], neighbours=True)
    got = view.rows["details"]
    assert len(near) == 8 and got["neighbours"] == near
    assert array_from_json(got["ids"]).tolist() == [0, *near]
    assert got["table"]["note"]["texts"][0] == "<script>alert(1)</script>"
    table = perceiver.run.snapshot().table
    loss = array_from_json(got["table"]["loss"]["numbers"])  # float32: what the page shows
    np.testing.assert_allclose(loss, table["loss"].to_numpy()[[0, *near]], rtol=1e-6)
    assert "x" not in got["table"]
    # a saved report holds every column; it scrubs epochs: every epoch's rows travel in the
    # selection view only (the shown epoch's among them, not twice)
    exported = view.export_state()
    assert exported["complete"] and exported["table"] == {}
    assert sorted(exported["epoch_tables"], key=int) == [str(e) for e in perceiver.run.epochs]
    saved = exported["epoch_tables"]["0"]
    assert {"label", "pred", "sample_id", "note"} <= set(saved)
    # text in binary: codes into the distinct values' UTF-8 (no JSON string per row), the
    # same bytes every epoch (a page stores identical buffers once)
    packed = saved["note"]["packed"]
    ends = array_from_json(packed["offsets"])
    blob = bytes(packed["blob"]["view"])
    distinct = [blob[a:b].decode("utf-8") for a, b in zip(ends[:-1], ends[1:])]
    want = perceiver.run.snapshot(0).table["note"].tolist()
    assert [distinct[c] for c in array_from_json(packed["codes"])] == want
    assert distinct == ["<script>alert(1)</script>", "plain"]
    last = exported["epoch_tables"][str(perceiver.run.epochs[-1])]["note"]["packed"]
    assert bytes(last["blob"]["view"]) == blob
    # ... in fewer bytes: ids as one-byte steps, probabilities as one byte of their percent
    # (what the page shows; below 0.5 stays below it)
    epoch0 = perceiver.run.snapshot(0).table
    ids = saved["sample_id"]["numbers"]
    assert ids["delta"] and array_from_json(ids).tolist() == epoch0["sample_id"].tolist()
    prob = next(c for c in saved if c.startswith("prob_"))
    assert saved[prob]["numbers"]["dtype"] == "uint8"
    p = epoch0[prob].to_numpy(dtype=np.float64)
    want = np.where((p >= 0.495) & (p < 0.5), 0.49, np.round(p, 2))
    np.testing.assert_allclose(array_from_json(saved[prob]["numbers"]), want, atol=1e-6)
    assert not {"table", "epoch_tables"} & set(ex.details.get_state())  # not a second copy
    # fewer epochs in the scrubber: the rows of those the population view saves, no others
    from nbperceive.export import ExportContext

    ctx = ExportContext(epochs=1)
    ex.population.epoch = perceiver.run.epochs[0]
    rows = view.export_state(ctx)["epoch_tables"]
    assert sorted(rows, key=int) == [str(e) for e in ex.population.export_state(ctx)["epochs"]]
    assert len(rows) == 2 < len(perceiver.run.epochs)  # the last and the shown (first) one


def test_details_rows_do_not_wait_for_the_nearest_samples(perceiver):
    # the kernel answers one message at a time: a details row waiting for a neighbour search
    # (an exact one takes ~1 s at 10k samples) held every click's answer (1.9 s at 10k)
    from concurrent.futures import Future

    ex = nbp.Explorer(perceiver)
    pop, view = ex.population, ex.selection_view
    pop.neighbours_of(0)  # the real search done; now one is under way, as right after opening
    pop._near_job = searching = Future()
    _ask(view, type="rows", slot="details", ids=[5], neighbours=True)
    got = view.rows["details"]
    assert array_from_json(got["ids"]).tolist() == [5] and got["neighbours"] == []
    _ask(view, type="rows", slot="page", ids=[6])
    searching.set_result(None)  # found: the details' rows are sent again, with them
    got = view.rows["details"]
    near = pop.neighbours_of(5)
    assert len(near) == 8 and got["neighbours"] == near
    assert array_from_json(got["ids"]).tolist() == [5, *near]
    assert array_from_json(view.rows["page"]["ids"]).tolist() == [6]


def test_default_state_sends_the_scatter_alone_per_point(perceiver, monkeypatch):
    from ipywidgets.embed import dependency_state

    import nbperceive.widgets.population as pop

    # as at 10k samples and more (a small set also gets every column's codes up front)
    monkeypatch.setattr(pop, "INLINE_CHANNEL_BYTES", 0)
    ex = nbp.Explorer(perceiver)
    n = len(ex.population.data)
    buffers = sum(len(b["data"]) * 3 // 4 for e in dependency_state([ex]).values()
                  for b in e.get("buffers", []))
    # x, y float32 and the loss codes (colour and size); everything else is asked for
    assert ex.population.color == ex.population.size == "loss"
    assert 9 * n <= buffers < 9 * n + 4_000


def test_selection_view_sends_the_columns_the_page_asks_for(perceiver):
    # the page links cells and lasso to the table (tests/browser); Python supplies the data
    ex = nbp.Explorer(perceiver)
    view = ex.selection_view
    assert view.population is ex.population and view.grid is ex._cm_grid
    _ask(view, type="columns", names=["label", "pred", "nope"])
    assert set(view.table) == {"label", "pred"}
    label = array_from_json(view.table["label"]["numbers"])
    np.testing.assert_array_equal(label, ex.population.data["label"].to_numpy())
    _ask(view, type="columns", names=["note"])
    assert view.table["note"]["texts"][0] == "<script>alert(1)</script>"
    _ask(view, type="rows", slot="page", ids=[5, 3])
    assert array_from_json(view.rows["page"]["ids"]).tolist() == [5, 3]
    ex.population.selection = np.array([2, 0, 2], dtype=np.uint32)
    assert ex.selected_samples["sample_id"].tolist() == [0, 2]
    assert "x" not in ex.selected_samples.columns


def test_suspects_list_the_top_of_the_ranking(perceiver):
    ex = nbp.Explorer(perceiver)
    assert ex.wait_for_suspects(120), ex.suspects.status
    ranked = perceiver.run.suspects()
    top = ranked.head(50)
    assert ex.suspects.ids == top["sample_id"].astype(int).tolist()
    assert ex.suspects.texts[0].startswith(f"#{ex.suspects.ids[0]}: labelled ")
    assert ex.suspects.status == ""
    # sortable in the page by the score's parts; the scatter's "show suspects" marks them
    assert ex.suspects.sort_by == "suspicion"
    np.testing.assert_allclose(ex.suspects.sort_keys["p(label)"], top["p_label"])
    assert ex.population.marked.tolist() == ex.suspects.ids
    assert ex.suspects.filter_label and not ex.population.only_marked


def test_a_slow_analysis_ahead_does_not_delay_the_explorer(perceiver):
    # issue 12: the ranking runs on the background worker. Keep the worker busy with a real
    # job that ends when the test says so (as a first UMAP fit or numba compile would):
    # Explorer() must return with the list empty and a status, and fill it afterwards.
    import threading

    from nbperceive.projection.background import submit

    gate = threading.Event()
    ahead = submit(("test", "busy worker", id(gate)), "a slow analysis",
                   lambda handle: gate.wait(300))
    try:
        ex = nbp.Explorer(perceiver)
        assert not ex.wait_for_suspects(0)
        assert ex.suspects.ids == [] and "label-error ranking" in ex.suspects.status
        assert ex.story.ranked == 0 and ex.story.status
        ex.story.selected = 3  # as jslink does in the page when sample 3 is clicked
        assert ex.story.stories == {}  # nothing to explain yet, and no error either
    finally:
        gate.set()
    ahead.result(60)
    assert ex.wait_for_suspects(120)
    assert len(ex.suspects.ids) == 50 and ex.suspects.status == ""
    assert ex.story.ranked == len(perceiver.run.samples) and ex.story.status == ""
    assert "3" in ex.story.stories  # the sample selected meanwhile is explained once ready


def test_the_inspectors_first_maps_do_not_delay_the_explorer(perceiver, monkeypatch):
    # issue 12: explaining the first sample (and tracing the model's gradient pass) runs on a
    # thread. Hold every explanation until the test says so: Explorer() returns meanwhile,
    # with the inspector's methods known (the model was checked) and a "computing" status.
    # Meanwhile a garbage collection spares the objects alive before (young_gc): a full pass
    # over TensorFlow's heap would stop the kernel's main thread for ~250 ms.
    import gc
    import threading

    import nbperceive.attribution as attribution

    gate, real, old, walked = threading.Event(), attribution.explain, [0], []

    def held(*args, **kwargs):
        walked.append(any(o is old for o in gc.get_objects()))
        gate.wait(300)
        return real(*args, **kwargs)

    monkeypatch.setattr(attribution, "explain", held)
    try:
        ex = nbp.Explorer(perceiver)
        ins = ex.inspector
        assert not ins.wait(0) and ins.status == "computing" and ins.panels == []
        assert "gradcam" in ins.methods and "saliency" in ins.methods
    finally:
        gate.set()
    assert ins.wait(120) and ins.status == "" and not ins.error
    assert ins.panels[0]["layers"] and ins.shown == 0
    assert walked and not any(walked)


def test_a_click_during_the_first_maps_is_the_one_shown(perceiver):
    # the click waits for the first maps, then its own are made; the first never overwrite
    from nbperceive.widgets.serializers import array_from_json

    ex = nbp.Explorer(perceiver)
    ins = ex.inspector
    ins.sample = 5  # what the jslinked scatter does when sample 5 is clicked
    assert ins.wait(120) and ins.shown == 5
    x5 = perceiver.data.x[0][5:6]
    np.testing.assert_allclose(array_from_json(ins.panels[0]["probabilities"]),
                               np.asarray(perceiver.model(x5)).reshape(-1), atol=1e-5)


def test_a_click_in_the_page_leaves_the_kernel_free_and_the_newest_sample_wins(perceiver,
                                                                                monkeypatch):
    # a click's maps are made on the inspector's worker: the message handler returns at once
    # (the details of the same click are answered meanwhile); of clicks in a row, the last
    # one's maps are shown; the scrubber moved meanwhile applies to them
    import threading

    import nbperceive.attribution as attribution
    from nbperceive.widgets.serializers import array_from_json

    ex = nbp.Explorer(perceiver)
    ins = ex.inspector
    assert ins.wait(120)
    gate, real, made = threading.Event(), attribution.explain, []

    def held(model, x, *args, **kwargs):
        gate.wait(300)
        made.append(np.asarray(x).copy())
        return real(model, x, *args, **kwargs)

    monkeypatch.setattr(attribution, "explain", held)
    try:
        for s in (3, 4, 9):
            ins.set_state({"sample": s})  # what the comm does with the page's message
        assert ins.status == "computing" and ins.shown == 0 and ins.sample == 9
        assert not ins.wait(0)
    finally:
        gate.set()
    ins.view_epoch = 0  # the scrubber, while the click's maps are being made
    assert ins.wait(120) and not ins.error and ins.status == ""
    assert ins.shown == 9 and ins.model_epoch == 0
    x = perceiver.data.x[0]
    assert not any(np.array_equal(m, x[4:5]) for m in made)  # sample 4 was never explained
    np.testing.assert_allclose(array_from_json(ins.panels[0]["probabilities"]),
                               _recorded_probs(perceiver.run, 0, 9), atol=1e-5)


def test_the_story_panel_explains_the_selected_sample_and_saves_the_suspects(perceiver):
    from nbperceive.report import script_json

    ex = nbp.Explorer(perceiver)
    assert ex.wait_for_suspects(120)
    top = ex.suspects.ids[0]
    ex.story.selected = top  # jslink sets it in the page on a click; the kernel adds the story
    story = ex.story.stories[str(top)]
    run = perceiver.run
    assert story["epochs"] == run.epochs and story["rank"] == 0
    assert len(story["p_label"]) == len(story["margin"]) == len(run.epochs)
    ranked = run.suspects()
    assert story["parts"]["suspicion"] == pytest.approx(ranked["suspicion"].iloc[0], abs=1e-4)
    assert len(story["neighbours"]) == ranked.attrs["k"] and top not in story["neighbours"]
    # a saved page carries the stories of the listed suspects, compactly
    saved = ex.story.export_state()["stories"]
    assert set(saved) == {str(s) for s in ex.suspects.ids}
    size = len(script_json(saved))
    print(f"stories of {len(saved)} suspects: {size} bytes")
    assert size < 1000 * len(saved)


def test_epoch_scrub_updates_the_confusion_matrix(perceiver):
    ex = nbp.Explorer(perceiver)
    last = ex._cm_grid.color.copy()
    ex.population.epoch = 0
    assert ex._cm_grid.color.sum() == 200
    assert not np.array_equal(ex._cm_grid.color, last)  # the model changed between 0 and 2
    # the page's details and selection table read epoch 0's predictions now: what it asked
    # for is sent again from epoch 0's rows
    ex.population.epoch = 2
    _ask(ex.selection_view, type="columns", names=["pred"])
    _ask(ex.selection_view, type="rows", slot="details", ids=[7])
    ex.population.epoch = 0
    epoch0 = perceiver.run.snapshot(0).table["pred"].to_numpy()
    pred = array_from_json(ex.selection_view.table["pred"]["numbers"])
    np.testing.assert_array_equal(pred, epoch0)
    rows = ex.selection_view.rows["details"]
    assert rows["epoch"] == 0 and array_from_json(rows["table"]["pred"]["numbers"])[0] == epoch0[7]


def test_from_disk_without_model_has_no_inspector(perceiver):
    ex = nbp.Explorer(str(perceiver.run_dir))
    assert ex.inspector is None
    assert nbp.Explorer(perceiver).inspector is not None


def test_compare_links_two_runs(perceiver):
    box = nbp.Explorer.compare(perceiver, perceiver.run)
    left, right = box.explorers
    assert left.run.path == right.run.path


def test_bad_sources(tmp_path):
    with pytest.raises(nbp.RunError, match="not an nbperceive run"):
        nbp.Explorer(tmp_path)
    with pytest.raises(nbp.RunError, match="Perceiver, a Run or a run directory"):
        nbp.Explorer(42)


def test_metadata_functions_at_wrap_time(perceiver):
    ex = nbp.Explorer(perceiver, metadata={"ink": lambda img: float(img.sum()),
                                          "half": np.arange(200) < 100})
    x = perceiver.data.x[0]
    np.testing.assert_allclose(ex.population.data["ink"], x.reshape(200, -1).sum(1), rtol=1e-5)
    assert {"ink", "half"} <= set(ex.population.columns)


def test_add_metadata_from_values_and_functions(perceiver):
    ex = nbp.Explorer(perceiver)
    ex.add_metadata("ink", lambda img: float(img.sum()))
    assert "ink" in ex.population.columns
    ex.population.color = "ink"  # pickable at once
    assert "ink" in nbp.open_run(perceiver.run_dir).samples.columns  # kept with the run
    ex.add_metadata("parity", np.arange(200) % 2)
    assert "parity" in ex.population.columns
    assert "parity" in ex.selection_view.columns
    _ask(ex.selection_view, type="columns", names=["parity"])
    assert "parity" in ex.selection_view.table
    with pytest.raises(nbp.MetadataError, match="one value per probe sample"):
        ex.add_metadata("short", np.arange(3))
    with pytest.raises(nbp.MetadataError, match="records"):
        ex.add_metadata("loss", np.arange(200))


def _recorded_probs(run, epoch, sample):
    table = run.snapshot(epoch).table
    return table[[c for c in table.columns if c.startswith("prob_")]].to_numpy()[sample]


def test_inspector_follows_the_epoch_scrubber_with_that_epochs_weights(perceiver):
    from nbperceive.attribution.explain import _ENGINES
    from nbperceive.widgets.serializers import array_from_json

    ex = nbp.Explorer(perceiver)
    ins, run = ex.inspector, perceiver.run
    assert ins.wait(120)  # the run's epochs are matched with the first maps, on a thread
    assert ins.weight_epochs == [0, 1, 2] and ins.model_epoch == 2
    ins.sample = 7
    final = array_from_json(ins.panels[0]["heatmaps"])
    ins.view_epoch = 0  # what the jslinked scrubber does in the page
    assert ins.model_epoch == 0 and not ins.error
    # the maps come from the model as it was at epoch 0: its probabilities are the recorded ones
    np.testing.assert_allclose(array_from_json(ins.panels[0]["probabilities"]),
                               _recorded_probs(run, 0, 7), atol=1e-5)
    assert np.abs(array_from_json(ins.panels[0]["heatmaps"]).astype(int) - final).max() > 0
    copy = ins._epochs.at(0)
    engine = next(iter(_ENGINES[copy].values()))
    traced = {k: f.experimental_get_tracing_count() for k, f in engine._steps.items()}
    ins.view_epoch = 1  # weights swapped into the same copy: nothing traced again
    assert ins.model_epoch == 1
    np.testing.assert_allclose(array_from_json(ins.panels[0]["probabilities"]),
                               _recorded_probs(run, 1, 7), atol=1e-5)
    assert {k: f.experimental_get_tracing_count() for k, f in engine._steps.items()} == traced
    cached = len(ins._cache)
    ins.view_epoch = 0  # cached per (epoch, sample)
    ins.view_epoch = 2
    assert len(ins._cache) == cached and ins.model_epoch == 2
    np.testing.assert_array_equal(array_from_json(ins.panels[0]["heatmaps"]), final)


def test_an_epoch_without_weights_keeps_the_final_model_and_a_saved_page_moves(perceiver,
                                                                                tmp_path):
    import shutil

    shutil.copytree(perceiver.run_dir, tmp_path / "run")
    (tmp_path / "run" / "epoch-0001" / "model.weights.h5").unlink()
    ex = nbp.Explorer(tmp_path / "run", model=perceiver.model, x=perceiver.data.x[0])
    ins = ex.inspector
    assert ins.wait(120) and ins.weight_epochs == [0, 2]
    ins.sample = 3
    ins.view_epoch = 1
    assert ins.model_epoch == 2  # the page names both epochs (browser test)
    # a model saved at an earlier epoch (a best-only checkpoint) is known for what it is
    early = nbp.open_run(tmp_path / "run").model_at(0, perceiver.model)
    assert nbp.Inspector(early, perceiver.data.x[0], run=tmp_path / "run").model_epoch == 0
    ins.export_samples = [3, 4]
    saved = ins.export_state()["saved"]
    entry = saved["3"]
    assert entry["epoch"] == 2 and list(entry["epochs"]) == ["0"]
    (panel,) = entry["epochs"]["0"]
    label = int(perceiver.data.y[3]) if perceiver.data.y is not None else None
    assert len(panel["labels"]) == 3 and label in panel["labels"]
    recorded = _recorded_probs(nbp.open_run(tmp_path / "run"), 0, 3)
    np.testing.assert_allclose(np.frombuffer(panel["probabilities"]["view"], np.float32),
                               recorded, atol=1e-5)
    top = [int(c) for c in np.argsort(-recorded) if int(c) != label][:2]
    assert panel["labels"] == sorted([label, *top])  # the classes epoch 0 ranked highest


def test_a_clicked_confusion_cell_does_not_break_saving(perceiver, tmp_path):
    """The page reports a clicked cell as [[row, column]]; bqplot read that as an object
    array it could not serialise: every later save_html raised "Unsupported dtype object"."""
    from nbperceive.report import read_state

    ex = nbp.Explorer(perceiver)
    grid = ex.selection_view.grid
    grid.set_state({"selected": [[0, 1]]})  # what the page sends on a click
    assert grid.selected.tolist() == [[0, 1]]
    page = ex.save_html(tmp_path / "after-click.html").read_text()
    saved = read_state(page)["state"][grid.model_id]["state"]
    assert saved["selected"] == [[0, 1]] and saved["_model_name"] == "GridHeatMapModel"
    grid.set_state({"selected": None})  # deselected
    ex.save_html(tmp_path / "after-deselect.html")


def test_an_mlp_on_flat_pixels_is_inspected_over_its_preview_images(tmp_path):
    # MNIST-style: the model takes 64 numbers per sample, the run's previews are the 8x8
    # images; the inspector draws the maps over the image instead of listing 64 numbers
    import keras

    data = nbp.datasets.digits()
    flat = data.x[:150].reshape(150, -1)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    p = nbp.Perceiver(model, probe=(flat, data.y[:150]), run_dir=tmp_path / "run",
                      preview=nbp.images((data.x[:150] * 255).astype(np.uint8)),
                      class_names=data.class_names)
    model.fit(flat, data.y[:150], epochs=1, verbose=0, callbacks=[p.callback()])
    ex = nbp.Explorer(p)
    assert ex.inspector.wait(120) and not ex.inspector.error
    panel = ex.inspector.panels[0]
    assert panel["input_kind"] == "image" and panel["input_axes"] == [8, 8]
    assert array_from_json(ex.inspector.image).shape[:2] == (8, 8)
