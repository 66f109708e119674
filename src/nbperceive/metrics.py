"""Per-run metrics: confusion matrices, training dynamics and label-error suspects.

Suspicion of a label error combines three signals of the last recorded epoch:

- **loss** of the sample under its given label;
- **neighbourhood disagreement**: the share of its ``k`` nearest neighbours, in the perception
  space of one hidden layer, whose given label differs: a mislabelled sample sits inside
  another label's cluster. The layer is the hidden (non-output) layer whose neighbourhoods
  agree best with the given labels (``layer=`` to choose). When no hidden layer separates the
  classes (agreement below ``min_agreement``, e.g. a CNN whose only deep features are pooled
  conv maps) the neighbourhood signals are left out and the ranking is by loss alone;
- **neighbours' disbelief**: 1 - the model's mean probability of this sample's given label
  over those neighbours (the region of the space, not just the sample, rejects the label).

``suspicion`` is the mean of the three signals' percentile ranks (1 = most suspicious).
Training dynamics are reported beside it: area under the margin (AUM, Pleiss et al. 2020:
p(label) - max p(other), averaged over trained epochs) and forgetting events (correct -> wrong
between consecutive captures). Measured in benchmarks/label_errors.py against ranking by loss.
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
    if labels.dtype.kind != "i" or (labels < 0).any():
        raise RunError("label-error ranking needs integer class labels for every probe sample.")
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


def _percentile(values: np.ndarray) -> np.ndarray:
    """Rank of each value in [0, 1] (ties broken by order)."""
    ranks = np.empty(len(values))
    ranks[values.argsort(kind="stable")] = np.arange(len(values))
    return ranks / max(len(values) - 1, 1)


def suspects(run: Run, k: int = 50, layer: str | None = None,
             min_agreement: float = 0.8) -> pd.DataFrame:
    """Probe samples ranked by how likely their label is wrong (most suspicious first).

    ``result.attrs["layer"]`` names the layer whose neighbourhoods were used (None: loss only).
    """
    dyn = training_dynamics(run)
    snap = run.snapshot(run.epochs[-1])
    labels = dyn["label"].to_numpy()
    probs = _probabilities(snap.table, run.class_names)
    rows = np.arange(len(labels))
    k = max(1, min(k, len(labels) - 1))
    candidates = [layer] if layer else [b["name"] for b in snap.layout[:-1]]
    best, best_agreement, best_nb = None, -1.0, None
    for name in candidates:
        nb = neighbours(np.asarray(snap.layer_vectors(name), dtype=np.float32), k)
        agreement = float((labels[nb] == labels[:, None]).mean())
        if agreement > best_agreement:
            best, best_agreement, best_nb = name, agreement, nb
    loss = np.nan_to_num(dyn["loss"].to_numpy(), nan=np.inf)
    dyn["neighbour_disagreement"] = np.nan
    dyn["neighbour_disbelief"] = np.nan
    if best_nb is not None and (layer or best_agreement >= min_agreement):
        dyn["neighbour_disagreement"] = (labels[best_nb] != labels[:, None]).mean(1)
        dyn["neighbour_disbelief"] = 1.0 - probs[best_nb].mean(1)[rows, labels]
        dyn["suspicion"] = (_percentile(loss)
                            + _percentile(dyn["neighbour_disagreement"].to_numpy())
                            + _percentile(dyn["neighbour_disbelief"].to_numpy())) / 3.0
    else:
        best = None
        dyn["suspicion"] = _percentile(loss)
    meta = run.samples.drop(columns=["label"])
    ranked = dyn.merge(meta, on="sample_id", how="left")
    ranked = ranked.sort_values("suspicion", ascending=False, kind="stable").reset_index(drop=True)
    ranked.attrs["layer"] = best
    ranked.attrs["neighbour_agreement"] = best_agreement
    return ranked
