"""scikit-learn's own conformance checks, and the estimators inside its tools."""

import pickle

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

import descent

# Checks that are expected to fail, with the reason (none at present).
EXPECTED_FAILED = {}


@pytest.mark.parametrize("make", [descent.Regressor, descent.Classifier], ids=["Regressor", "Classifier"])
def test_check_estimator(make):
    results = check_estimator(
        make(), expected_failed_checks=EXPECTED_FAILED, on_fail=None
    )
    failed = [r for r in results if r["status"] == "failed"]
    assert not failed, "\n".join(f"{r['check_name']}: {r['exception']!r}" for r in failed)
    ran = [r for r in results if r["status"] == "passed"]
    assert len(ran) > 30


def test_pipeline_grid_search_with_two_processes():
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), descent.Classifier(scale="none", epochs=50))
    grid = GridSearchCV(pipe, {"classifier__lr": [0.001, 0.05]}, cv=3, n_jobs=2)
    grid.fit(X, y)
    assert grid.best_params_ == {"classifier__lr": 0.05}
    assert grid.best_score_ > 0.85


def test_cross_val_score_is_deterministic():
    X, y = load_diabetes(return_X_y=True)
    a = cross_val_score(descent.Regressor(epochs=30), X, y, cv=3)
    b = cross_val_score(descent.Regressor(epochs=30), X, y, cv=3)
    np.testing.assert_array_equal(a, b)
    assert a.mean() > 0.4


@pytest.mark.parametrize("make", [descent.Regressor, descent.Classifier])
def test_pickle_round_trip_predicts_the_same(make):
    X, y = load_iris(return_X_y=True)
    est = make(epochs=20).fit(X, y)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))
    assert again.get_params() == est.get_params()
    np.testing.assert_array_equal(again.history_["loss"], est.history_["loss"])


def test_get_set_params_round_trip():
    est = descent.Regressor(hidden=[8, 4], model="mlp", optimizer_options={"betas": (0.8, 0.9)})
    params = est.get_params()
    clone = descent.Regressor().set_params(**params)
    assert clone.get_params() == params


def test_the_run_parameters_are_the_rust_table():
    # One table (crates/descent-py/src/params.rs): the estimators' parameters are it, plus
    # the Python-only callback and verbose; the classifier has no target scaling.
    from descent import _descent

    table = set(_descent.RUN_PARAMS)
    python_only = {"callback", "verbose"}
    assert set(descent.Regressor().get_params()) == table | python_only
    assert set(descent.Classifier().get_params()) == (table - {"scale_target"}) | python_only
