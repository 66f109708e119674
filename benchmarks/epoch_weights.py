"""What keeping each epoch's weights costs, and how fast the inspector switches epochs.

1. saving weights / capture: the capture benchmark's CNN on Fashion-MNIST, a 5,000-sample
   probe, ``keep_weights=True``: per epoch, the seconds ``model.save_weights`` took inside the
   epoch's folder against the seconds of that epoch's capture (both from the run's meta.json,
   same run), and the bytes per epoch.
2. inspector epoch switch: ``Inspector(model, x, run=run)`` on one sample, time from setting
   ``view_epoch`` (what the scrubber does) to new maps: a first visit (weights swapped into the
   one copy, maps computed), a cached revisit, against rebuilding a model per epoch
   (``run.model_at`` + ``explain``: a new model, so the engine traces its pass again).

Run: ``.venv/bin/python benchmarks/epoch_weights.py``
"""

from __future__ import annotations

import os
import statistics
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from capture import cnn, timed  # noqa: E402

import nbperceive as nbp  # noqa: E402


def main(epochs: int = 4) -> None:
    data = nbp.datasets.fashion_mnist()
    x = (data.x.astype(np.float32) / 255.0)[..., None]
    y = data.y
    tmp = tempfile.mkdtemp(prefix="nbp-bench-weights-")
    model = cnn()
    perceiver = nbp.Perceiver(model, probe=(x[60000:65000], y[60000:65000]),
                              run_dir=f"{tmp}/run", keep_weights=True)
    model.fit(x[:10000], y[:10000], epochs=epochs, batch_size=128, verbose=0,
              callbacks=[perceiver.callback()])
    run = perceiver.run
    metas = [run.snapshot(e, metadata=False).meta for e in run.epochs[1:]]  # 0: tracing
    save = statistics.median(m["weights"]["seconds"] for m in metas)
    cap = statistics.median(m["capture_seconds"] for m in metas)
    size = statistics.median(m["weights"]["bytes"] for m in metas)
    print(f"weights per epoch, {model.count_params():,} parameters: save {save * 1000:.1f} ms "
          f"({size / 2**20:.2f} MB) vs capture of 5,000 samples {cap:.3f} s: "
          f"ratio {save / cap:.3f} (median of {len(metas)} epochs)")

    ins = nbp.Inspector(model, x[60000:60010], run=run, y_true=y[60000:60010], sample=3)
    first, cached = [], []
    for e in run.epochs[-2::-1]:  # every earlier epoch, first visit
        first.append(timed(lambda e=e: setattr(ins, "view_epoch", e)))
    for e in run.epochs[::-1]:
        cached.append(timed(lambda e=e: setattr(ins, "view_epoch", e)))
    assert not ins.error, ins.error
    x1 = x[60003:60004]
    rebuilt = [timed(lambda e=e: nbp.explain(run.model_at(e, model), x1, method="gradcam"))
               for e in run.epochs[:-1]]
    f, c, r = statistics.median(first), statistics.median(cached), statistics.median(rebuilt)
    print(f"inspector epoch switch (GradCAM, every depth x 10 labels): first visit "
          f"{f * 1000:.0f} ms, cached {c * 1000:.1f} ms; rebuilding a model per epoch "
          f"{r * 1000:.0f} ms, {r / f:.1f}x the swap (medians over {len(first)} epochs)")


if __name__ == "__main__":
    main()
