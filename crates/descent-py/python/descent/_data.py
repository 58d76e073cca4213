"""Input checks shared by the estimators and the analyses: arrays of float64 or float32
(any memory order; float64 is passed to Rust without a copy), class labels encoded."""

import numpy as np


def class_labels(classes):
    """The labels stored with the model (``model.json``): the original labels as text, or
    ``0``/``1`` for two numeric labels other than 0 and 1 (logistic regression's rule)."""
    labels = [str(c) for c in classes]
    if len(labels) == 2:
        try:
            numbers = [float(c) for c in labels]
        except ValueError:
            return labels
        if numbers != [0.0, 1.0]:
            return ["0", "1"]
    return labels


def as_2d_float(y):
    """``y`` as a float64 column (1-d) or matrix (2-d)."""
    y = np.asarray(y, dtype=np.float64)
    return y.reshape(-1, 1) if y.ndim == 1 else y
