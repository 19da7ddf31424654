"""How far clip-mean MFCCs alone separate a trigger-folder corpus: the linear floor under the deep models.

The generated DeepASMR corpus is tuned so that this stays well above chance (the classes do
sound different) but below 90 % (the deep classifiers have more to learn than a spectral
average), on a split grouped by session.
"""

from __future__ import annotations

import numpy as np

from audioprep.params import MelSliceParams, MfccParams

CLIP_MFCC = 40  # coefficients per frame of the clip-level baseline


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


def clip_mfcc_statistics(wave: np.ndarray, mfcc: MfccParams) -> np.ndarray:
    """A whole clip as one vector: its MFCCs' mean and standard deviation over frames, and its delta-MFCCs'
    standard deviation (how the spectrum moves), the classic clip-level features of environmental sound."""
    import librosa

    coefficients = librosa.feature.mfcc(y=wave, sr=mfcc.sample_rate, n_mfcc=CLIP_MFCC)
    deltas = librosa.feature.delta(coefficients, mode="nearest")  # 'nearest' takes clips shorter than its width
    return np.concatenate([coefficients.mean(axis=1), coefficients.std(axis=1), deltas.std(axis=1)])


def clip_mfcc_logreg_accuracy(root, test_fold: int, options=None, sample_rate: int = 22050) -> float:
    """Clip accuracy on ESC-50's `test_fold` of a standardised logistic regression on `clip_mfcc_statistics`,
    fit on the other folds: the protocol's classic baseline, one decision per clip."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from audioprep.datasets import ReadOptions, read_layout
    from audioprep.io import load_audio

    examples = read_layout(root, options=options or ReadOptions())
    classes = sorted({ex.label for ex in examples})
    mfcc = MfccParams(sample_rate=sample_rate)
    features = np.stack([clip_mfcc_statistics(load_audio(ex.path, sr=sample_rate)[0], mfcc) for ex in examples])
    labels = np.array([classes.index(ex.label) for ex in examples])
    test = np.array([ex.fold == test_fold for ex in examples])
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    clf.fit(features[~test], labels[~test])
    return float(np.mean(clf.predict(features[test]) == labels[test]))
