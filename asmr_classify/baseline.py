"""A linear reference point for Table 2: logistic regression on each slice's mean MFCC vector.

If a linear model on clip-mean MFCCs already separates the labels, a deep model's accuracy says
little about the corpus being hard; this row makes that visible.
"""

from __future__ import annotations

import numpy as np

from audioprep.slices import SliceSet


def mfcc_logreg_accuracy(train: SliceSet, test: SliceSet, seed: int = 0) -> float:
    """Test accuracy of standardised logistic regression fit on the train split's MFCC vectors."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def flat(x):
        return np.asarray(x).reshape(len(x), -1)

    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))
    clf.fit(flat(train.x), train.y)
    return float(clf.score(flat(test.x), test.y))
