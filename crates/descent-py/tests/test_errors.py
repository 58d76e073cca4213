"""Bad input gets a ValueError or TypeError naming the problem; a panic (PanicException)
never reaches Python."""

import numpy as np
import pytest
from sklearn.datasets import load_iris

import descent
import descent.optim as optim

X, Y = load_iris(return_X_y=True)


def raises_clean(exc, match, fn):
    try:
        fn()
    except BaseException as e:  # PanicException derives from BaseException
        assert type(e).__name__ != "PanicException", f"panic: {e}"
        assert isinstance(e, exc), f"{type(e).__name__}: {e}"
        assert match.lower() in str(e).lower(), str(e)
        return
    pytest.fail(f"no {exc.__name__} raised")


@pytest.mark.parametrize(
    "params, exc, match",
    [
        ({"optimizer": "adamm"}, ValueError, "did you mean `adam`"),
        ({"lr": -1.0}, ValueError, "lr"),
        ({"lr": float("nan")}, ValueError, "lr"),
        ({"optimizer_options": {"betas": (1.5, 0.9)}}, ValueError, "betas"),
        ({"optimizer_options": {"momentum": 0.9}}, ValueError, "momentum"),
        ({"optimizer": "sgd", "optimizer_options": {"momentum": -1.0}}, ValueError, "momentum"),
        ({"batch": 0}, ValueError, "batch"),
        ({"batch": "half"}, ValueError, "batch"),
        ({"epochs": -3}, ValueError, "epochs"),
        ({"epochs": 2.5}, TypeError, "epochs"),
        ({"model": "tree"}, ValueError, "model"),
        ({"model": "mlp"}, ValueError, "hidden"),
        ({"model": "mlp", "hidden": [0]}, ValueError, "hidden"),
        ({"activation": "gelu", "model": "mlp", "hidden": [3]}, ValueError, "activation"),
        ({"loss": "cross-entropy"}, ValueError, "loss"),
        ({"scale": "log"}, ValueError, "scale"),
        ({"dtype": "f16"}, ValueError, "dtype"),
        ({"schedule": "cosine:tmax=3"}, ValueError, "tmax"),
        ({"val_fraction": 1.5}, ValueError, "val_fraction"),
        ({"early_stopping": "patience=x"}, ValueError, "patience"),
        ({"init": "normal:-1"}, ValueError, "normal"),
        ({"n_jobs": 0}, ValueError, "threads"),
        ({"clip_norm": "big"}, TypeError, "clip_norm"),
    ],
)
def test_bad_parameters(params, exc, match):
    raises_clean(exc, match, lambda: descent.Regressor(**{"epochs": 2, **params}).fit(X, Y))


@pytest.mark.parametrize(
    "x, y, match",
    [
        (np.full((4, 2), np.nan), np.ones(4), "NaN"),
        (np.array([[1.0, np.inf]] * 4), np.ones(4), "infinity"),
        (np.ones((4, 2)), np.array([1.0, np.nan, 1, 1]), "NaN"),
        (np.ones((0, 2)), np.ones(0), "0 sample"),
        (np.ones((4, 0)), np.ones(4), "0 feature"),
        (np.ones((4, 2)), np.ones(3), "inconsistent"),
        (np.ones(4), np.ones(4), "2D array"),
        (np.array([["a", "b"]] * 4), np.ones(4), "convert"),
    ],
)
def test_bad_data(x, y, match):
    raises_clean(ValueError, match, lambda: descent.Regressor(epochs=2).fit(x, y))


def test_predict_with_the_wrong_width_names_both():
    est = descent.Regressor(epochs=2).fit(X, Y)
    raises_clean(ValueError, "4 features", lambda: est.predict(np.ones((2, 3))))
    raises_clean(ValueError, "shape mismatch in predict", lambda: est.model_.predict(np.ones((2, 3))))
    raises_clean(TypeError, "2-d numpy array", lambda: est.model_.predict(np.ones(3)))
    raises_clean(TypeError, "2-d numpy array", lambda: est.model_.predict("rows"))


def test_classifier_with_one_class_or_real_targets():
    raises_clean(ValueError, "one class", lambda: descent.Classifier().fit(X, np.zeros(len(X))))
    raises_clean(ValueError, "Unknown label type", lambda: descent.Classifier().fit(X, X[:, 0] + 0.5))


def test_divergence_is_reported_not_a_panic():
    from sklearn.exceptions import ConvergenceWarning

    with pytest.warns(ConvergenceWarning, match="diverged"):
        est = descent.Regressor(optimizer="sgd", lr=1e6, epochs=50, scale="none").fit(X, Y)
    assert est.outcome_["stop"]["status"] == "diverged"


def test_bad_model_files(tmp_path):
    raises_clean(OSError, "missing.json", lambda: descent.load_model(tmp_path / "missing.json"))
    bad = tmp_path / "model.json"
    bad.write_text("{\"format\": 3}")
    raises_clean(ValueError, "model.json", lambda: descent.load_model(bad))
    raises_clean(ValueError, "model.json", lambda: descent.Model.from_json("[1, 2"))


def test_optimizer_bad_inputs():
    p = np.zeros(3)
    raises_clean(TypeError, "unexpected keyword", lambda: optim.Adam([p], betaz=(0.9, 0.9)))
    raises_clean(ValueError, "betas", lambda: optim.Adam([p], betas=(1.0, 0.9)))
    raises_clean(ValueError, "lr", lambda: optim.SGD([p], lr=-0.1))
    raises_clean(ValueError, "empty", lambda: optim.SGD([], lr=0.1))
    raises_clean(TypeError, "float32 or float64", lambda: optim.SGD([np.zeros(3, dtype=np.int64)]))
    raises_clean(TypeError, "list", lambda: optim.SGD(p))
    raises_clean(ValueError, "contiguous", lambda: optim.SGD([np.zeros((4, 4))[:, ::2]]))
    opt = optim.Adam([p])
    raises_clean(ValueError, "shape", lambda: opt.step([np.zeros(4)]))
    raises_clean(TypeError, "float64", lambda: opt.step([np.zeros(3, dtype=np.float32)]))
    raises_clean(ValueError, "gradients", lambda: opt.step([]))
    raises_clean(ValueError, "unknown option", lambda: optim.SGD([{"params": [p], "betas": (0.9, 0.9)}]))
    opt.step([np.full(3, np.nan)])  # NaN gradients give NaN parameters, as in torch
    assert np.isnan(p).all()


def test_scheduler_bad_inputs():
    opt = optim.SGD([np.zeros(2)], lr=0.1)
    raises_clean(ValueError, "gamma", lambda: optim.lr_scheduler.StepLR(opt, step_size=2, gamma=-1.0))
    raises_clean(ValueError, "T_max", lambda: optim.lr_scheduler.CosineAnnealingLR(opt, T_max=0))
