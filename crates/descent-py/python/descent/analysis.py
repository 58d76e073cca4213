"""The analyses of ``descent`` on arrays: what to expect before training.

Each takes the data and the estimator's keyword arguments (``model``, ``optimizer``,
``lr``, ``optimizer_options``, ``scale``, ...) and looks at the data as such a run would
(scaled, with the same initial parameters).
"""

import numpy as np

from . import _descent
from ._data import as_2d_float, class_labels


def _prepare(X, y, classifier, params):
    X = np.asarray(X)
    if X.dtype not in (np.float64, np.float32):
        X = X.astype(np.float64)
    if X.ndim != 2:
        raise ValueError(f"X: expected a 2-d array (rows x features), got {X.ndim}-d")
    if not classifier:
        return X, as_2d_float(y), None, params
    classes, index = np.unique(np.asarray(y), return_inverse=True)
    params = dict(params)
    if params.get("model", "linear") == "linear":
        params["model"] = "logistic" if len(classes) == 2 else "softmax"
    return X, index.astype(np.float64).reshape(-1, 1), class_labels(classes), params


def analyze(X, y, classifier=False, **params):
    """Curvature of the least-squares problem (``lambda_max``, ``lambda_min``, condition
    number, rank), the largest stable learning rate of the optimizer (``bounds``), the
    optimal fixed step and heavy-ball settings (``optima``) and the least-squares solution,
    as a dict; the features scaled as the run would scale them."""
    X, y2d, classes, params = _prepare(X, y, classifier, params)
    return _descent.analyze(X, y2d, params, classes)


def lr_find(X, y, classifier=False, lr_min=1e-7, lr_max=10.0, steps=100, **params):
    """The learning-rate range test (one full-batch step per learning rate, from ``lr_min``
    to ``lr_max`` geometrically): the learning rates, losses, smoothed losses and the
    suggested learning rate."""
    X, y2d, classes, params = _prepare(X, y, classifier, params)
    out = _descent.lr_find(X, y2d, params, classes, lr_min, lr_max, steps)
    for key in ("lrs", "losses", "smoothed"):
        out[key] = np.asarray(out[key])
    return out


def gradcheck(X, y, classifier=False, **params):
    """The model's autodiff gradient at its initial parameters against central finite
    differences: ``passed``, the worst absolute and relative errors, and per parameter
    tensor."""
    X, y2d, classes, params = _prepare(X, y, classifier, params)
    return _descent.gradcheck(X, y2d, params, classes)
