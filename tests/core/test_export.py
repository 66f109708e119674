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
