"""Per-run metrics: confusion matrices, training dynamics and label-error suspects.

A label error is a sample whose given label is not its true class. Under label noise that is
uniform over the other classes, ranking samples by an estimate of p(given label | sample) is
the best one can do, so ``suspects`` ranks by a better estimate than the model's alone: a
product of two experts,

- the **model**: its probability of the given label (``p_label``; ranking by the last epoch's
  alone is ranking by loss);
- the **neighbourhood** (Deep kNN, Bahri et al. 2020): the add-one smoothed share of the
  sample's ``k`` nearest neighbours, in the perception space of one hidden layer, that carry
  the same given label (``knn_label``). A mislabelled sample sits inside another label's
  cluster; the neighbours' labels leave the sample's own label out. The layer is the hidden
  (non-output) layer whose neighbourhoods agree best with the given labels at the last epoch
  (``layer=`` to choose). When no hidden layer separates the classes (agreement below
  ``min_agreement``, e.g. a CNN whose only deep features are pooled conv maps) the
  neighbourhood is left out and the ranking is by the last epoch's model alone.

Both experts are read at one recorded epoch (``attrs["epoch"]``): the trained epoch whose
predictions agree best with the neighbourhoods' majority label. Trained long enough, a model
memorises the flipped labels and its loss stops finding them (the motivation of AUM); the
neighbours' vote leaves each sample out, so agreement with it falls once the model fits
labels its neighbours contradict, and rises while the model still learns the clean classes.

``suspicion`` = 1 - sqrt(p_label * knn_label): 1 - the geometric mean of the two experts'
belief in the given label (1 = most suspicious). Training dynamics are reported beside it:
area under the margin (AUM, Pleiss et al. 2020: p(label) - max p(other), averaged over trained
epochs) and forgetting events (correct -> wrong between consecutive captures). They are not
part of the score: averaged over all epochs they include the early ones, where the model has
not learned the clean samples yet either; on benchmarks/label_errors.py AUM ranks below loss
after 6 epochs and below ``suspicion`` after 20.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .errors import RunError

if TYPE_CHECKING:
    from .store import Run


def confusion_matrix(table: pd.DataFrame, n_classes: int) -> np.ndarray:
    """int64 (C, C) counts: rows are the given label, columns the prediction."""
    labels = table["label"].to_numpy()
    preds = table["pred"].to_numpy()
    ok = (labels >= 0) & (labels < n_classes) & (preds >= 0) & (preds < n_classes)
    flat = labels[ok].astype(np.int64) * n_classes + preds[ok].astype(np.int64)
    return np.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def precision_recall(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per class, from a confusion matrix (rows: label, columns: prediction):
    precision = TP / (TP + FP), the share of the samples predicted as the class that truly are
    of it (column); recall = TP / (TP + FN), the share of the class's samples predicted as it
    (row). float64 (C,) each; NaN where nothing was predicted as / labelled with the class."""
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    predicted, labelled = cm.sum(axis=0), cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, tp / predicted, np.nan)
        recall = np.where(labelled > 0, tp / labelled, np.nan)
    return precision, recall


def _probabilities(table: pd.DataFrame, class_names: list[str]) -> np.ndarray:
    cols = [f"prob_{name}" for name in class_names]
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise RunError(f"this run has no class probabilities ({missing[:3]}...): label-error "
                       "ranking needs a classification model.")
    return table[cols].to_numpy(dtype=np.float64)


def margins(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """p(given label) - max p(other label), per sample."""
    idx = np.arange(len(labels))
    given = probs[idx, labels]
    others = probs.copy()
    others[idx, labels] = -np.inf
    return given - others.max(1)


def training_dynamics(run: Run) -> pd.DataFrame:
    """Per sample: AUM, forgetting events, last margin and last loss across recorded epochs."""
    epochs = run.epochs
    if not epochs:
        raise RunError(f"{run.path} holds no epoch yet.")
    trained = [e for e in epochs if e > 0] or epochs
    labels = run.samples["label"].to_numpy()
    if labels.dtype.kind != "i" or (labels < 0).any() or (labels >= len(run.class_names)).any():
        raise RunError("label-error ranking needs integer class labels (0 .. number of classes "
                       "- 1) for every probe sample.")
    all_margins, correct = [], []
    for epoch in trained:
        last = run.snapshot(epoch).table
        all_margins.append(margins(_probabilities(last, run.class_names), labels))
        correct.append(last["correct"].to_numpy(dtype=bool))
    m = np.stack(all_margins)
    c = np.stack(correct)
    forgetting = ((c[:-1] & ~c[1:]).sum(0) if len(c) > 1 else np.zeros(len(labels), int))
    return pd.DataFrame({
        "sample_id": last["sample_id"].to_numpy(),
        "label": labels,
        "pred": last["pred"].to_numpy(),
        "aum": m.mean(0),
        "margin": m[-1],
        "forgetting": forgetting.astype(np.int64),
        "loss": last["loss"].to_numpy(),
    })


def neighbours(vectors: np.ndarray, k: int) -> np.ndarray:
    """int (N, k) indices of each sample's k nearest neighbours (Euclidean), self excluded."""
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=k + 1).fit(vectors)
    _, idx = nn.kneighbors(vectors)
    return idx[:, 1:]


def _neighbour_votes(vectors: np.ndarray, labels: np.ndarray, k: int,
                     n_classes: int) -> np.ndarray:
    """int (N, C): how many of each sample's k nearest neighbours carry each label."""
    nb = neighbours(np.asarray(vectors, dtype=np.float32), k)
    flat = (np.arange(len(labels))[:, None] * n_classes + labels[nb]).ravel()
    return np.bincount(flat, minlength=len(labels) * n_classes).reshape(len(labels), n_classes)


def suspects(run: Run, k: int = 50, layer: str | None = None,
             min_agreement: float = 0.8) -> pd.DataFrame:
    """Probe samples ranked by how likely their label is wrong (most suspicious first).

    Columns: ``suspicion`` (see the module docstring), ``p_label``, ``knn_label`` and
    ``neighbour_disagreement`` (share of the ``k`` neighbours with another label; NaN, like
    ``knn_label``, when no layer was used), all read at ``attrs["epoch"]``; ``aum``,
    ``forgetting`` over the trained epochs; ``margin``, ``loss`` and ``pred`` of the last
    epoch; the run's metadata. ``attrs["layer"]`` names the layer whose neighbourhoods were
    used (None: model alone). Cost: one nearest-neighbour search per hidden layer and per
    recorded epoch (about 0.2 s each for 5,000 samples; 4 s for a 6-epoch run of the CNN in
    benchmarks/label_errors.py). Reading every epoch's neighbourhoods, not only the last one's,
    is what finds the epoch before memorisation.
    """
    dyn = training_dynamics(run)
    labels = dyn["label"].to_numpy()
    n, n_classes = len(labels), len(run.class_names)
    rows = np.arange(n)
    k = max(1, min(k, n - 1))
    last = run.snapshot(run.epochs[-1])
    candidates = [layer] if layer else [b["name"] for b in last.layout[:-1]]
    best, best_agreement, votes = None, -1.0, None
    for name in candidates:
        v = _neighbour_votes(last.layer_vectors(name), labels, k, n_classes)
        agreement = float(v[rows, labels].mean() / k)
        if agreement > best_agreement:
            best, best_agreement, votes = name, agreement, v
    probs = _probabilities(last.table, run.class_names)
    epoch = last.epoch
    if votes is not None and (layer or best_agreement >= min_agreement):
        trained = [e for e in run.epochs if e > 0] or run.epochs
        best_fit = float((votes.argmax(1) == probs.argmax(1)).mean())
        for e in reversed(trained[:-1]):  # the latest epoch wins a tie
            snap = run.snapshot(e)
            p = _probabilities(snap.table, run.class_names)
            v = _neighbour_votes(snap.layer_vectors(best), labels, k, n_classes)
            fit = float((v.argmax(1) == p.argmax(1)).mean())
            if fit > best_fit:
                best_fit, epoch, probs, votes = fit, e, p, v
    else:
        best, votes = None, None
    # clipped so that labels the model rules out entirely still rank by their neighbourhood
    p_label = np.clip(np.nan_to_num(probs[rows, labels], nan=0.0), 1e-12, 1.0)
    dyn["p_label"] = p_label
    if votes is not None:
        same = votes[rows, labels]
        dyn["knn_label"] = (same + 1.0) / (k + n_classes)
        dyn["neighbour_disagreement"] = 1.0 - same / k
        dyn["suspicion"] = 1.0 - np.sqrt(p_label * dyn["knn_label"].to_numpy())
    else:
        dyn["knn_label"] = np.nan
        dyn["neighbour_disagreement"] = np.nan
        dyn["suspicion"] = 1.0 - p_label
    meta = run.samples.drop(columns=["label"])
    ranked = dyn.merge(meta, on="sample_id", how="left")
    ranked = ranked.sort_values("suspicion", ascending=False, kind="stable").reset_index(drop=True)
    ranked.attrs["layer"] = best
    ranked.attrs["neighbour_agreement"] = best_agreement
    ranked.attrs["epoch"] = epoch
    return ranked
