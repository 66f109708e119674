"""The label-error story on movie reviews, as a user would tell it (issue 13).

Positive reviews get the label "negative" (5 % of the sentences); a small text model trains on
the noisy labels while the callback records the training set. A review that is clearly
positive (mean human rating >= 2 of 4) but labelled negative must be found by its score (near
the top of the ranking) and by its place in the scatter (its neighbours, in the perception
space and on screen, are mostly labelled positive), and the Explorer's story panel says so.
"""

from __future__ import annotations

import numpy as np
import pytest

import nbperceive as nbp

pytestmark = pytest.mark.slow  # ~30 s: one text model trained for 4 epochs on 1,200 sentences

N, EPOCHS, FLIPPED = 1200, 4, 0.05


@pytest.fixture(scope="module")
def reviews(tmp_path_factory):
    import keras

    data = nbp.datasets.movie_reviews()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(data.y))[:N]
    texts = [data.x[i] for i in order]
    truth, rating = data.y[order], data.columns["rating"][order]
    flipped = np.sort(rng.choice(np.flatnonzero(truth == 1), int(FLIPPED * N), replace=False))
    noisy = truth.copy()
    noisy[flipped] = 0  # positive reviews labelled negative
    vec = keras.layers.TextVectorization(max_tokens=8000, output_sequence_length=32)
    vec.adapt(texts)
    x = np.asarray(vec(texts), dtype=np.int32)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((32,), dtype="int32"), keras.layers.Embedding(8000, 32),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(64, activation="relu", name="hidden"),
        keras.layers.Dense(2, activation="softmax", name="out")])
    model.compile(keras.optimizers.Adam(2e-3), "sparse_categorical_crossentropy")
    perceiver = nbp.Perceiver(model, probe=(x, noisy), metadata={"rating": rating},
                              preview=nbp.texts(texts), class_names=data.class_names,
                              run_dir=tmp_path_factory.mktemp("reviews") / "run")
    model.fit(x, noisy, epochs=EPOCHS, batch_size=32, verbose=0,
              callbacks=[perceiver.callback()])
    return perceiver, texts, rating, flipped


def test_a_clearly_positive_review_labelled_negative_is_found_and_explained(reviews):
    perceiver, texts, rating, flipped = reviews
    ranked = perceiver.run.suspects()
    rank = {int(s): r for r, s in enumerate(ranked["sample_id"])}
    clear = [int(s) for s in flipped if rating[s] >= 2.0]
    assert len(clear) >= 10
    found = min(clear, key=rank.get)
    print(f"#{found} (rating {rating[found]:.2f}) ranked {rank[found]} of {N}: {texts[found]!r}")
    assert rank[found] < 0.02 * N  # by its score: at the top of the ranking
    # the clearly positive flips rank far above the clean negatives (the ranking is no accident)
    clean_negative = [r for s, r in rank.items() if s not in set(flipped) and rating[s] < 0]
    assert np.median([rank[s] for s in clear]) < np.median(clean_negative) / 2

    ex = nbp.Explorer(perceiver)
    assert ex.wait_for_suspects(300), ex.suspects.status
    assert found in ex.suspects.ids  # listed, with its sentence as the snippet
    k = ex.suspects.ids.index(found)
    assert ex.suspects.thumbs["kind"] == "text"
    assert ex.suspects.thumbs["texts"][k] == texts[found][:120]
    ex.story.selected = found  # a click on the list in the page
    story = ex.story.stories[str(found)]
    names = perceiver.run.class_names
    assert names[story["label"]] == "negative" and story["parts"]["p_label"] < 0.5
    positive = names.index("positive")
    nb = np.array(story["neighbour_labels"])
    assert (nb == positive).mean() >= 2 / 3  # its neighbours are mostly labelled positive
    # ... and so are the points around it in the scatter
    xy = np.stack([ex.population.x, ex.population.y], axis=1).astype(float)
    d = ((xy - xy[found]) ** 2).sum(1)
    d[found] = np.inf
    near = np.argsort(d)[:15]
    labels = perceiver.run.samples["label"].to_numpy()
    assert (labels[near] == positive).mean() > 0.5
