"""Safe model loading and the TensorBoard projector export."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import nbperceive as nbp

from . import models


def test_load_model_keras_and_h5(digits, tmp_path):
    x, y = digits
    model = models.sequential_cnn()
    model.fit(x[:200], y[:200], epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    model.save(tmp_path / "m.h5")
    for name in ("m.keras", "m.h5"):
        loaded = nbp.load_model(tmp_path / name)
        np.testing.assert_allclose(loaded.predict(x[:20], verbose=0),
                                   model.predict(x[:20], verbose=0), atol=1e-5)


def test_load_model_refuses_other_files(tmp_path):
    (tmp_path / "m.pkl").write_bytes(b"not a model")
    with pytest.raises(nbp.ModelError, match="pickles are not accepted"):
        nbp.load_model(tmp_path / "m.pkl")
    with pytest.raises(nbp.ModelError, match="no model file"):
        nbp.load_model(tmp_path / "missing.keras")


def test_projector_export(digits, tmp_path):
    x, y = digits
    model = models.sequential_cnn()
    meta = pd.DataFrame({"note": ["tab\there", "new\nline"] + ["plain"] * 98})
    p = nbp.Perceiver(model, probe=(x[:100], y[:100]), metadata=meta, run_dir=tmp_path / "r")
    model.fit(x[:200], y[:200], epochs=1, verbose=0, callbacks=[p.callback()])
    out = p.run.to_projector(tmp_path / "tb", images=x[:100])
    config = (out / "projector_config.pbtxt").read_text()
    assert config.count("embeddings {") == 2 and 'image_path: "sprite.png"' in config
    vectors = np.loadtxt(out / "epoch-0001.tsv", delimiter="\t")
    np.testing.assert_allclose(vectors, p.run.snapshot(1).vectors, rtol=1e-4, atol=1e-4)
    lines = (out / "epoch-0001-metadata.tsv").read_text().splitlines()
    assert len(lines) == 101 and lines[0].split("\t")[:2] == ["sample_id", "label"]
    assert all(len(line.split("\t")) == len(lines[0].split("\t")) for line in lines)
    from PIL import Image

    assert Image.open(out / "sprite.png").size == (280, 280)  # 10 x 10 tiles of 28 px


def test_a_large_projector_export_keeps_to_what_tensorboard_loads(digits, tmp_path):
    """A run larger than ``max_samples`` exports a seeded random share (TensorBoard parses
    every TSV row in Python; a 1M-sample export was ~2 GB an epoch) named by sample_id,
    and its sprite stays within the projector page's 8192 px (28 px tiles for 85k+ images
    made a sheet the page refuses)."""
    from PIL import Image

    from nbperceive.projector import SPRITE_MAX_PX, sprite

    x, y = digits
    model = models.sequential_cnn()
    p = nbp.Perceiver(model, probe=(x[:300], y[:300]), run_dir=tmp_path / "r")
    model.fit(x[:300], y[:300], epochs=1, verbose=0, callbacks=[p.callback()])
    run, last = p.run, p.run.epochs[-1]
    images = (np.asarray(x[:300]).reshape(300, 8, 8) * 255).clip(0, 255).astype(np.uint8)
    out = run.to_projector(tmp_path / "tb", epochs=[last], images=images, max_samples=49)
    vectors = np.loadtxt(out / f"epoch-{last:04d}.tsv", delimiter="\t")
    rows = pd.read_csv(out / f"epoch-{last:04d}-metadata.tsv", sep="\t")
    ids = rows["sample_id"].to_numpy()
    assert vectors.shape[0] == len(rows) == 49 and len(set(ids)) == 49
    assert (np.diff(ids) > 0).all() and ids.max() > 250  # spread, in probe order
    np.testing.assert_allclose(vectors, run.snapshot(last).vectors[ids], rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(rows["label"], y[:300][ids])
    sheet = np.asarray(Image.open(out / "sprite.png"))
    assert sheet.shape == (7 * 28, 7 * 28)  # 49 tiles, 7 x 7
    tile = np.asarray(Image.fromarray(images[ids[8]]).resize((28, 28)))
    np.testing.assert_array_equal(sheet[28:56, 28:56], tile)  # tile 8: row 1, column 1
    # a sheet of 100k tiles shrinks them to fit the page's limit
    big, thumb = sprite(np.zeros((100_000, 4, 4), np.uint8))
    assert max(big.shape) <= SPRITE_MAX_PX and thumb == SPRITE_MAX_PX // 317
    with pytest.raises(nbp.MetadataError, match="max_samples"):
        run.to_projector(tmp_path / "bad", max_samples=0)
    assert not (tmp_path / "bad").exists()
