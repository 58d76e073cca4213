"""scikit-learn estimators over the descent engine: :class:`Regressor` and
:class:`Classifier`.

They follow scikit-learn's rules: ``__init__`` stores its arguments verbatim, ``fit``
validates them (with the messages of the ``descent`` CLI) and returns ``self``, fitted
attributes end with ``_``. The arguments mirror the CLI's flags (``--model``, ``--hidden``,
``--optimizer``, ``--lr``, ``--schedule``, ``--epochs``, ``--batch``, ``--scale``, ...).
"""

import json
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from . import _descent
from ._data import as_2d_float, class_labels

_DTYPES = [np.float64, np.float32]

# The parameters the Rust side reads (crates/descent-py/src/params.rs holds the table; the
# rest are Python's: callback, verbose).
_RUN_KEYS = tuple(_descent.RUN_PARAMS)


class _Descent(BaseEstimator):
    """What both estimators share: the run parameters (the signature scikit-learn reads
    for ``get_params``; :class:`Regressor` adds ``scale_target``), fitting, the fitted
    attributes."""

    def __init__(
        self,
        model="linear",
        hidden=None,
        activation="relu",
        loss=None,
        optimizer="adam",
        lr=0.01,
        optimizer_options=None,
        schedule=None,
        epochs=200,
        batch=32,
        shuffle=None,
        scale="standard",
        dtype="f64",
        seed=0,
        init=None,
        early_stopping=None,
        val_fraction=0.0,
        clip_norm=None,
        n_jobs=None,
        callback=None,
        verbose=False,
    ):
        self.model = model
        self.hidden = hidden
        self.activation = activation
        self.loss = loss
        self.optimizer = optimizer
        self.lr = lr
        self.optimizer_options = optimizer_options
        self.schedule = schedule
        self.epochs = epochs
        self.batch = batch
        self.shuffle = shuffle
        self.scale = scale
        self.dtype = dtype
        self.seed = seed
        self.init = init
        self.early_stopping = early_stopping
        self.val_fraction = val_fraction
        self.clip_norm = clip_norm
        self.n_jobs = n_jobs
        self.callback = callback
        self.verbose = verbose

    def _run_params(self, model=None):
        params = {k: getattr(self, k) for k in _RUN_KEYS if hasattr(self, k)}
        if model is not None:
            params["model"] = model
        return params

    def _fit(self, X, y2d, classes=None, model=None):
        names = getattr(self, "feature_names_in_", None)
        feature_names = [str(n) for n in names] if names is not None else None
        fitted, history, outcome, interrupted, timing = _descent.fit(
            X,
            y2d,
            self._run_params(model),
            classes=classes,
            feature_names=feature_names,
            callback=self.callback,
            verbose=bool(self.verbose),
        )
        self.model_ = fitted
        self.history_ = history
        self.n_iter_ = int(len(history["loss"]))
        self.outcome_ = json.loads(outcome) if outcome else None
        self.timing_ = timing
        coefficients = fitted.coefficients()
        if coefficients is not None:
            coef, intercept = coefficients
            self.coef_, self.intercept_ = coef, intercept
        stop = (self.outcome_ or {}).get("stop", {})
        if isinstance(stop, dict) and stop.get("status") == "diverged":
            warnings.warn(
                f"training diverged at epoch {stop.get('epoch')}: {stop.get('cause')}; the model holds "
                "the best parameters seen (lower lr; descent.analyze gives the stable bound)",
                ConvergenceWarning,
                stacklevel=3,
            )
        if interrupted:
            # The estimator is fitted with the best parameters seen; Ctrl-C still stops
            # the program (a notebook cell shows it was interrupted).
            raise KeyboardInterrupt("training stopped by Ctrl-C; the estimator keeps its best state")
        return self

    def save(self, path):
        """Writes the fitted model as the CLI's ``model.json`` (a directory gets
        ``DIR/model.json``); ``descent predict --model PATH`` reads it."""
        check_is_fitted(self)
        import os

        self.model_.save(os.fspath(path))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.non_deterministic = False
        return tags


class Regressor(RegressorMixin, _Descent):
    """Regression by gradient descent (linear model or MLP), as ``descent train``.

    Parameters mirror the CLI: ``model`` (``linear``, ``linear-nobias``, ``mlp``), ``hidden``
    (widths of an MLP's hidden layers), ``activation`` (``relu``, ``tanh``, ``sigmoid``),
    ``loss`` (``mse``, ``mae``, ``huber[:DELTA]``; default mse), ``optimizer`` (any of
    ``descent.optim.names()`` or torch's class name), ``lr``, ``optimizer_options`` (a dict
    with torch's argument names), ``schedule`` (the CLI's syntax, e.g.
    ``"cosine:t_max=100"``), ``epochs``, ``batch`` (rows, or ``"full"``), ``shuffle``,
    ``scale`` and ``scale_target`` (``standard``, ``minmax``, ``none``), ``dtype`` (``f64``
    or ``f32``), ``seed``, ``init``, ``early_stopping`` (patience in epochs, or
    ``"patience=N,min_delta=X"``), ``val_fraction``, ``clip_norm``, ``n_jobs`` (threads;
    the numbers do not depend on it), ``callback`` (called with each epoch's record; return
    ``False`` to stop), ``verbose``.

    Fitted attributes: ``model_`` (a :class:`descent.Model`), ``coef_``, ``intercept_``
    (in the features' own units; one-layer models), ``n_features_in_``,
    ``feature_names_in_`` (pandas input), ``n_iter_`` (epochs run), ``history_`` (per-epoch
    ``loss``, ``val_loss``, ``lr``, ``grad_norm`` as numpy arrays), ``outcome_``,
    ``timing_`` (seconds building the run and training it: ``setup_s``, ``train_s``, as
    ``descent train``'s ``summary.json`` ``timing``).
    """

    def __init__(
        self,
        model="linear",
        hidden=None,
        activation="relu",
        loss=None,
        optimizer="adam",
        lr=0.01,
        optimizer_options=None,
        schedule=None,
        epochs=200,
        batch=32,
        shuffle=None,
        scale="standard",
        scale_target="standard",
        dtype="f64",
        seed=0,
        init=None,
        early_stopping=None,
        val_fraction=0.0,
        clip_norm=None,
        n_jobs=None,
        callback=None,
        verbose=False,
    ):
        # scikit-learn reads the parameters from this signature: the base's plus
        # scale_target, stored as given.
        super().__init__(
            model=model, hidden=hidden, activation=activation, loss=loss, optimizer=optimizer,
            lr=lr, optimizer_options=optimizer_options, schedule=schedule, epochs=epochs,
            batch=batch, shuffle=shuffle, scale=scale, dtype=dtype, seed=seed, init=init,
            early_stopping=early_stopping, val_fraction=val_fraction, clip_norm=clip_norm,
            n_jobs=n_jobs, callback=callback, verbose=verbose,
        )
        self.scale_target = scale_target

    def fit(self, X, y):
        """Trains on ``X`` (rows x features) and ``y`` (rows, or rows x targets)."""
        X, y = validate_data(self, X, y, dtype=_DTYPES, y_numeric=True, multi_output=True)
        self._y_ndim = np.ndim(y)
        return self._fit(X, as_2d_float(y))

    def predict(self, X):
        """Predictions for ``X`` in the targets' own units (1-d for a single target)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=_DTYPES, reset=False)
        out = np.asarray(self.model_.predict(X))
        return out.ravel() if self._y_ndim == 1 else out

    def _fit(self, X, y2d, classes=None, model=None):
        super()._fit(X, y2d, classes, model)
        if getattr(self, "coef_", None) is not None and self._y_ndim == 1:
            self.coef_, self.intercept_ = self.coef_[0], float(self.intercept_[0])
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


class Classifier(ClassifierMixin, _Descent):
    """Classification by gradient descent: logistic regression (two classes), softmax
    regression (more), or an MLP, as ``descent train``.

    ``model="linear"`` (the default) picks logistic or softmax from the number of classes;
    ``logistic``, ``softmax`` and ``mlp`` (with ``hidden``) name one. Labels may be any
    values numpy can sort (numbers, strings, booleans); ``classes_`` holds them. The other
    parameters are :class:`Regressor`'s (``loss`` defaults to the model's: BCE with logits
    for two classes, cross-entropy for more).
    """

    def fit(self, X, y):
        """Trains on ``X`` (rows x features) and the labels ``y``."""
        X, y = validate_data(self, X, y, dtype=_DTYPES)
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        self.classes_, index = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                "Classifier can't train when only one class is present: "
                f"every label is {self.classes_[0]!r}"
            )
        model = self.model
        if model == "linear":
            model = "logistic" if len(self.classes_) == 2 else "softmax"
        y2d = index.astype(np.float64).reshape(-1, 1)
        return self._fit(X, y2d, classes=class_labels(self.classes_), model=model)

    def predict_proba(self, X):
        """Class probabilities, one column per class of ``classes_``."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=_DTYPES, reset=False)
        return self.model_.predict(X)[1]

    def predict(self, X):
        """The most probable label of ``classes_`` for each row."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=_DTYPES, reset=False)
        index, _ = self.model_.predict(X)
        return self.classes_[index]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags
