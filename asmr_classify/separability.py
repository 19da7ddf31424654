"""How far clip-mean MFCCs alone separate a trigger-folder corpus: the linear floor under the deep models.

The generated DeepASMR corpus is tuned so that this stays well above chance (the classes do
sound different) but below 90 % (the deep classifiers have more to learn than a spectral
average), on a split grouped by session.
"""

from __future__ import annotations

import numpy as np

from audioprep.params import MelSliceParams, MfccParams


def mfcc_logreg_probs(root, seed: int = 0, params: MelSliceParams = MelSliceParams(), options=None,
                      test_fold: int | None = None):
    """A standardised logistic regression on each ~1 s slice's mean 128-MFCC vector, fit on the train split
    of `audioprep.slices` (grouped by source recording, or ESC-50's folds, `test_fold` held out): (test class
    probabilities, test set)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from audioprep.datasets import ReadOptions
    from audioprep.features import mfcc_mean
    from audioprep.slices import audio_slice_sets

    sets = audio_slice_sets(root, params.sample_rate, params.slice_samples / params.sample_rate, seed=seed,
                            cache=False, options=options or ReadOptions(), test_fold=test_fold)
    mfcc = MfccParams(sample_rate=params.sample_rate)
    train, test = sets["train"], sets["test"]
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))
    clf.fit(mfcc_mean(train.x, mfcc), train.y)
    probs = np.zeros((len(test), len(test.classes)))
    probs[:, clf.classes_] = clf.predict_proba(mfcc_mean(test.x, mfcc))
    return probs, test


def mfcc_logreg_accuracy(root, seed: int = 0, params: MelSliceParams = MelSliceParams()) -> float:
    """Test slice accuracy of `mfcc_logreg_probs`."""
    probs, test = mfcc_logreg_probs(root, seed, params)
    return float(np.mean(probs.argmax(axis=1) == test.y))
