"""Per-run metrics: confusion matrices, training dynamics and label-error suspects.

A label error is a sample whose given label is not its true class. ``suspects`` ranks probe
samples by how little two experts believe the given label, from what the callback recorded:

- the **model**: its probability of the given label averaged over the trained epochs read
  (``p_label``; a temporal ensemble: a model that memorises a flipped label late still
  doubted it for most of the run, which the last epoch's loss forgets);
- the **neighbourhood** (Deep kNN, Bahri et al. 2020): the add-one smoothed share of the
  sample's ``k`` nearest neighbours, in one hidden layer's perception space, that carry the
  same label (``knn_label``). The layer is the hidden layer whose neighbourhoods agree best
  with the labels at the last epoch read; the epoch is the one whose neighbours' majority
  agrees best with that epoch's predictions (it rises while the model learns the clean
  classes and falls once it fits labels the neighbours contradict). Both are chosen on 1,000
  samples with exact search; the neighbours of all samples come from the run's cached graph
  (:mod:`nbperceive.neighbours`, shared with UMAP).

The neighbourhood enters with an exponent, its measured reliability: ``neighbour_weight`` =
(agreement - chance) / (1 - chance), the share of neighbours with the same label above what
random neighbours would give (chance = sum of squared class shares), clipped to [0, 1]. No
threshold: neighbourhoods without signal get weight ~0 and the ranking becomes the model's.

``belief`` = p_label * knn_label ** neighbour_weight, normalised over the classes; like
confident learning's per-class thresholds (Northcutt et al. 2021), it is compared with the
mean belief of the samples given the same label (``class_threshold``), so a class the model
finds hard does not fill the list: ``label_quality`` = min(1, belief / class_threshold),
``suspicion`` = 1 - label_quality. Area under the margin (AUM, Pleiss et al. 2020) and
forgetting events (correct -> wrong between consecutive captures) are reported beside it;
``suspect_story`` gives one sample's trajectory, neighbours and score parts.

Measured by benchmarks/label_errors.py against final loss and cleanlab over 4 data sets x 3
noise kinds x 2 training lengths x 2 probes; README "Label errors" has the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .errors import RunError

if TYPE_CHECKING:
    from .store import Run, Snapshot


def confusion_matrix(table: pd.DataFrame, n_classes: int) -> np.ndarray:
    """int64 (C, C) counts: rows are the given label, columns the prediction."""
    labels = table["label"].to_numpy()
    preds = table["pred"].to_numpy()
    ok = (labels >= 0) & (labels < n_classes) & (preds >= 0) & (preds < n_classes)
    flat = labels[ok].astype(np.int64) * n_classes + preds[ok].astype(np.int64)
    return np.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def label_confusion(table: pd.DataFrame, name: str) -> np.ndarray:
    """int64 (2, 2) counts of one label of a multi-label run: rows the truth (no, yes) from
    ``label_<name>``, columns the prediction (``prob_<name>`` below / at least 0.5)."""
    truth = table[f"label_{name}"].to_numpy().astype(np.int64)
    pred = (table[f"prob_{name}"].to_numpy() >= 0.5).astype(np.int64)
    return np.bincount(truth * 2 + pred, minlength=4).reshape(2, 2)


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


def _used_epochs(run: Run, epochs: Sequence[int] | None) -> list[int]:
    """The recorded epochs to read (``epochs=None``: all), ascending."""
    recorded = run.epochs
    if not recorded:
        raise RunError(f"{run.path} holds no epoch yet.")
    if epochs is None:
        return recorded
    missing = sorted(set(epochs) - set(recorded))
    if missing or not len(epochs):
        raise RunError(f"epochs={list(epochs)!r}: {missing or 'none given'} not recorded in "
                       f"{run.path}; recorded epochs are {recorded}.")
    return sorted(set(int(e) for e in epochs))


def _trained(epochs: list[int]) -> list[int]:
    return [e for e in epochs if e > 0] or epochs


def _checked_labels(run: Run) -> np.ndarray:
    labels = run.samples["label"].to_numpy()
    if labels.dtype.kind != "i" or (labels < 0).any() or (labels >= len(run.class_names)).any():
        raise RunError("label-error ranking needs integer class labels (0 .. number of classes "
                       "- 1) for every probe sample.")
    return labels


def training_dynamics(run: Run, epochs: Sequence[int] | None = None,
                      _snaps: dict[int, Snapshot] | None = None) -> pd.DataFrame:
    """Per sample over the trained epochs among ``epochs`` (default: all recorded): AUM,
    forgetting events, and the margin, loss and prediction of the last of them."""
    trained = _trained(_used_epochs(run, epochs))
    labels = _checked_labels(run)
    snaps = _snaps or {e: run.snapshot(e, metadata=False) for e in trained}
    all_margins, correct = [], []
    for epoch in trained:
        last = snaps[epoch].table
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


SUBSAMPLE = 1000  # samples used to choose the layer and the epoch of the neighbourhoods


def _votes(neighbours: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """int (N, C): how many of each sample's neighbours carry each label."""
    n = len(labels)
    flat = (np.arange(n)[:, None] * n_classes + labels[neighbours]).ravel()
    return np.bincount(flat, minlength=n * n_classes).reshape(n, n_classes)


def _require_single_labels(run: Run) -> None:
    """Label-error ranking is offered for single-label classifiers only: say so up front."""
    labels = run.samples["label"]
    if labels.dtype.kind == "f":
        raise RunError(
            "suspects ranks label errors of classifiers; this run is a regression (its labels "
            "are values), so no ranking is offered. Look at the largest residuals instead: "
            "run.snapshot().table.sort_values('residual', key=abs, ascending=False).")
    if len(labels) and run.epochs and (labels.to_numpy() == -1).all() and any(
            str(c).startswith("label_") for c in run.snapshot(run.epochs[-1]).table.columns):
        raise RunError(
            "suspects ranks single-label classifiers; this run is multi-label, so no ranking is "
            "offered. Sort the table by loss or hamming_accuracy instead.")



def _chance_agreement(labels: np.ndarray, n_classes: int) -> float:
    """Share of neighbours with the same label when neighbours are drawn at random."""
    prior = np.bincount(labels, minlength=n_classes) / len(labels)
    return float((prior**2).sum())


def neighbour_weight(agreement: float, chance: float) -> float:
    """How far the neighbours' labels are from chance towards perfect agreement, in [0, 1]:
    the exponent of the neighbourhood expert (0: no signal, the model alone decides)."""
    if not np.isfinite(agreement) or chance >= 1.0:
        return 0.0
    return float(np.clip((agreement - chance) / (1.0 - chance), 0.0, 1.0))


def _sample_rows(n: int) -> np.ndarray:
    if n <= SUBSAMPLE:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, SUBSAMPLE, replace=False))


def _subsample_votes(snap: Snapshot, layer: str, rows: np.ndarray, labels: np.ndarray,
                     k: int, n_classes: int) -> np.ndarray:
    from .neighbours import knn_graph

    x = np.asarray(snap.layer_vectors(layer), dtype=np.float32)[rows]
    graph = knn_graph(x, min(k, len(rows) - 1), method="exact")
    return _votes(graph.neighbours(), labels[rows], n_classes)


def _choose_neighbourhood(snaps: dict[int, Snapshot], trained: list[int], layer: str | None,
                          labels: np.ndarray, k: int, n_classes: int
                          ) -> tuple[str | None, int, float]:
    """(layer, epoch, agreement on the subsample) of the neighbourhoods to use.

    Layer: the hidden layer whose neighbourhoods agree best with the given labels at the last
    epoch. Epoch: the one whose neighbours' majority agrees best with that epoch's
    predictions: it rises while the model learns the clean classes and falls once it fits
    labels the neighbours contradict (memorisation)."""
    last = snaps[trained[-1]]
    candidates = [layer] if layer else [b["name"] for b in last.layout[:-1]]
    if not candidates:
        return None, trained[-1], float("nan")
    rows = _sample_rows(len(labels))
    sub = labels[rows]
    best, best_agreement = None, -1.0
    for name in candidates:
        v = _subsample_votes(last, name, rows, labels, k, n_classes)
        agreement = float(v[np.arange(len(rows)), sub].mean() / max(v.sum(1).max(), 1))
        if agreement > best_agreement:
            best, best_agreement = name, agreement
    epoch, best_fit = trained[-1], -1.0
    for e in reversed(trained):  # the latest epoch wins a tie
        v = _subsample_votes(snaps[e], best, rows, labels, k, n_classes)
        pred = snaps[e].table["pred"].to_numpy()[rows]
        fit = float((v.argmax(1) == pred).mean())
        if fit > best_fit:
            epoch, best_fit = e, fit
    return best, epoch, best_agreement


def suspects(run: Run, k: int = 15, layer: str | None = None,
             epochs: Sequence[int] | None = None, neighbour_search: str = "auto",
             ) -> pd.DataFrame:
    """Probe samples ranked by how likely their label is wrong (most suspicious first).

    ``epochs``: the recorded epochs to read (default all; e.g. ``range(6)`` to rank as after
    epoch 5). ``neighbour_search``: ``"auto"`` (exact up to 20,000 samples, pynndescent
    above), ``"exact"`` or ``"approx"`` (:mod:`nbperceive.neighbours`).

    Columns: ``suspicion`` (1 - ``label_quality``, see the module docstring), ``p_label``
    (the model's probability of the given label averaged over the trained epochs),
    ``knn_label`` (add-one smoothed share of the ``k`` neighbours carrying the label) and
    ``neighbour_disagreement`` (share carrying another one); ``aum``, ``forgetting``,
    ``margin``, ``loss``, ``pred``; the run's metadata. ``attrs``: ``layer`` and ``epoch`` of
    the neighbourhoods, ``epochs`` read, ``neighbour_agreement`` (share of neighbours with
    the same label), ``chance_agreement``, ``neighbour_weight``. Cost: one neighbour graph
    (cached in the run, shared with UMAP) plus exact searches on 1,000 samples.
    """
    _require_single_labels(run)
    parts = score_parts(run, k=k, layer=layer, epochs=epochs, neighbour_search=neighbour_search)
    dyn = parts.pop("table")
    meta = run.samples.drop(columns=["label"])
    ranked = dyn.merge(meta, on="sample_id", how="left")
    ranked = ranked.sort_values("suspicion", ascending=False, kind="stable").reset_index(drop=True)
    ranked.attrs.update(parts)
    return ranked


def score_parts(run: Run, k: int = 15, layer: str | None = None,
                epochs: Sequence[int] | None = None, neighbour_search: str = "auto",
                ) -> dict[str, Any]:
    """The ranking's parts, unsorted: ``table`` (one row per probe sample, in probe order)
    and the scalars ``suspects`` puts in ``attrs``."""
    from .neighbours import run_graph

    used = _used_epochs(run, epochs)
    trained = _trained(used)
    snaps = {e: run.snapshot(e, metadata=False) for e in trained}
    dyn = training_dynamics(run, used, _snaps=snaps)
    labels = dyn["label"].to_numpy()
    n, n_classes = len(labels), len(run.class_names)
    rows = np.arange(n)
    k = int(max(1, min(k, n - 1)))
    probs = np.mean([_probabilities(snaps[e].table, run.class_names) for e in trained],
                    axis=0)
    probs = np.clip(np.nan_to_num(probs, nan=0.0), 1e-6, 1.0)
    chosen, epoch, _ = _choose_neighbourhood(snaps, trained, layer, labels, k, n_classes)
    chance = _chance_agreement(labels, n_classes)
    log_q = np.log(probs)
    if chosen is not None:
        graph = run_graph(run, epoch, chosen, k=k, method=neighbour_search)
        votes = _votes(graph.neighbours(k), labels, n_classes)
        same = votes[rows, labels]
        agreement = float(same.mean() / k)
        weight = neighbour_weight(agreement, chance)
        knn = (votes + 1.0) / (k + n_classes)
        log_q = log_q + weight * np.log(knn)
        dyn["knn_label"] = knn[rows, labels]
        dyn["neighbour_disagreement"] = 1.0 - same / k
    else:
        agreement, weight = float("nan"), 0.0
        dyn["knn_label"] = np.nan
        dyn["neighbour_disagreement"] = np.nan
    q = np.exp(log_q - log_q.max(1, keepdims=True))
    q /= q.sum(1, keepdims=True)
    q_label = q[rows, labels]
    # confident learning's per-class threshold: the belief a sample given class c typically gets
    counts = np.bincount(labels, minlength=n_classes)
    typical = np.bincount(labels, weights=q_label, minlength=n_classes) / np.maximum(counts, 1)
    dyn["p_label"] = probs[rows, labels]
    dyn["belief"] = q_label
    dyn["label_quality"] = np.minimum(q_label / np.maximum(typical[labels], 1e-12), 1.0)
    dyn["suspicion"] = 1.0 - dyn["label_quality"]
    return {"table": dyn, "layer": chosen, "epoch": epoch, "epochs": used,
            "neighbour_agreement": agreement, "chance_agreement": chance,
            "neighbour_weight": weight, "k": k,
            "class_threshold": [float(t) for t in typical]}  # pandas attrs: no arrays


def suspect_story(run: Run, sample_id: int, ranked: pd.DataFrame | None = None
                  ) -> dict[str, Any]:
    """Why one probe sample is (or is not) suspect, for an explorer panel.

    ``ranked``: the result of :func:`suspects` to explain (computed when not given). Returns::

        {"sample_id", "label", "label_name", "pred", "rank" (0 = most suspicious), "suspicion",
         "parts": {"p_label", "knn_label", "neighbour_weight", "belief", "class_threshold",
                   "label_quality", "suspicion", "layer", "epoch", "k"},
         "trajectory": DataFrame, one row per recorded epoch: epoch, p_label, margin, pred,
                       correct, loss, forgotten (correct at the capture before, wrong now),
         "neighbours": DataFrame of its k neighbours at (layer, epoch): sample_id, label,
                       label_name, distance (in the graph's PCA space),
         "neighbour_labels": {class name: count}}

    ``suspicion = 1 - min(1, belief / class_threshold)`` with ``belief`` the normalised
    ``p_label * knn_label ** neighbour_weight`` (see the module docstring).
    """
    return suspect_stories(run, [sample_id], ranked)[0]


def suspect_stories(run: Run, sample_ids: Sequence[int], ranked: pd.DataFrame | None = None
                    ) -> list[dict[str, Any]]:
    """:func:`suspect_story` of several samples, reading each epoch once (e.g. the stories of
    the listed suspects a saved page carries)."""
    return Stories(run, ranked if ranked is not None else suspects(run))(sample_ids)


class Stories:
    """The stories of one ranking (:func:`suspect_story`): the run is read once here (every
    epoch's table, the neighbour graph), so each story after costs O(k + epochs), not O(N):
    the explorer builds this beside the ranking and a click reads no table (at 1M samples a
    story read from disk took ~350 ms)."""

    def __init__(self, run: Run, ranked: pd.DataFrame):
        from .neighbours import run_graph

        self.run, self.ranked = run, ranked
        samples = run.samples
        self._rank_of = pd.Index(ranked["sample_id"].to_numpy())
        self._position_of = pd.Index(samples["sample_id"].to_numpy())
        for index in (self._rank_of, self._position_of):  # their hash tables now, not at a click
            index.get_indexer(index[:1])
        self._sample_ids = samples["sample_id"].to_numpy()
        self._sample_labels = samples["label"].to_numpy()
        labels = np.empty(len(ranked), np.int64)  # the ranking's labels, in probe order
        labels[self._position_of.get_indexer(ranked["sample_id"].to_numpy())] = \
            ranked["label"].to_numpy()
        self._epochs = list(ranked.attrs.get("epochs", run.epochs))
        self._trajectory = {}  # epoch -> (p_label, margin, pred, correct, loss), probe order
        rows = np.arange(len(labels))
        for e in self._epochs:
            table = run.snapshot(e, metadata=False).table
            probs = _probabilities(table, run.class_names)
            p_label = probs[rows, labels]
            margin = margins(probs, labels) if probs.shape[1] > 1 else p_label
            self._trajectory[e] = (p_label.astype(np.float32), margin.astype(np.float32),
                                   table["pred"].to_numpy(), table["correct"].to_numpy(bool),
                                   table["loss"].to_numpy())
        layer, epoch = ranked.attrs.get("layer"), ranked.attrs.get("epoch")
        self._graph = (run_graph(run, epoch, layer, k=ranked.attrs.get("k"))
                       if layer is not None else None)

    def known(self, sample_id: int) -> bool:
        """Whether ``sample_id`` is a probe sample of the ranking."""
        return int(sample_id) in self._rank_of

    def __call__(self, sample_ids: Sequence[int]) -> list[dict[str, Any]]:
        sample_ids = [int(s) for s in sample_ids]
        ranks = self._rank_of.get_indexer(sample_ids)
        positions = self._position_of.get_indexer(sample_ids)
        missing = [s for s, r, p in zip(sample_ids, ranks, positions, strict=True)
                   if r < 0 or p < 0]
        if missing:
            ids = self._rank_of
            raise RunError(f"sample_id={missing[0]!r} is not a probe sample of {self.run.path}; "
                           f"ids run from {ids.min()} to {ids.max()}.")
        return [self._story(s, int(r), int(p))
                for s, r, p in zip(sample_ids, ranks, positions, strict=True)]

    def _story(self, sample_id: int, rank: int, position: int) -> dict[str, Any]:
        ranked, names = self.ranked, self.run.class_names
        row = ranked.iloc[rank]
        label = int(row["label"])
        trajectory, was_correct = [], None
        for e in self._epochs:
            p_label, margin, pred, correct, loss = (a[position] for a in self._trajectory[e])
            correct = bool(correct)
            trajectory.append({
                "epoch": e, "p_label": float(p_label), "margin": float(margin),
                "pred": int(pred), "correct": correct, "loss": float(loss),
                "forgotten": bool(was_correct and not correct) if e > 0 else False})
            was_correct = correct if e > 0 else None
        attrs = ranked.attrs
        layer, epoch, k = attrs.get("layer"), attrs.get("epoch"), attrs.get("k")
        nbrs = pd.DataFrame(columns=["sample_id", "label", "label_name", "distance"])
        counts: dict[str, int] = {}
        if self._graph is not None:
            graph = self._graph
            order = graph.neighbours(k, rows=[position])[0].tolist()
            by_index = dict(zip(graph.indices[position].tolist(),
                                graph.distances[position].tolist(), strict=True))
            nb_labels = self._sample_labels[order]
            nbrs = pd.DataFrame({"sample_id": self._sample_ids[order], "label": nb_labels,
                                 "label_name": [names[i] for i in nb_labels],
                                 "distance": [by_index[i] for i in order]})
            counts = {names[c]: int(n) for c, n in enumerate(
                np.bincount(nb_labels, minlength=len(names))) if n}
        threshold = attrs.get("class_threshold")
        parts = {"p_label": float(row["p_label"]), "knn_label": float(row["knn_label"]),
                 "neighbour_weight": float(attrs.get("neighbour_weight", 0.0)),
                 "belief": float(row["belief"]),
                 "class_threshold": float(threshold[label]) if threshold is not None else np.nan,
                 "label_quality": float(row["label_quality"]),
                 "suspicion": float(row["suspicion"]), "layer": layer, "epoch": epoch, "k": k}
        return {"sample_id": sample_id, "label": label, "label_name": names[label],
                "pred": int(row["pred"]), "rank": rank, "suspicion": float(row["suspicion"]),
                "parts": parts, "trajectory": pd.DataFrame(trajectory), "neighbours": nbrs,
                "neighbour_labels": counts}
