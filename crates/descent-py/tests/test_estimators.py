"""The estimators against scikit-learn's own linear models on the built-in data, and the
behaviour scikit-learn users expect: attributes, history, pandas, dtypes and layouts."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.preprocessing import StandardScaler

import descent


def test_version_is_the_crates():
    assert descent.__version__.count(".") == 2


def test_regressor_reaches_the_least_squares_solution_of_diabetes():
    X, y = load_diabetes(return_X_y=True)
    ols = LinearRegression().fit(X, y)
    # Full-batch heavy ball at the optimal settings descent.analyze gives for diabetes
    # (kappa 470, rate 0.912 per epoch) converges to the normal-equation solution.
    est = descent.Regressor(
        optimizer="sgd", lr=0.45, optimizer_options={"momentum": 0.83}, batch="full", epochs=1000
    ).fit(X, y)
    np.testing.assert_allclose(est.coef_, ols.coef_, rtol=1e-9, atol=1e-9)
    assert est.intercept_ == pytest.approx(ols.intercept_, rel=1e-12)
    assert est.score(X, y) == pytest.approx(ols.score(X, y), abs=1e-12)
    np.testing.assert_allclose(est.predict(X), ols.predict(X), rtol=1e-10)
    assert est.n_features_in_ == 10
    assert est.n_iter_ == 1000
    assert set(est.history_) >= {"loss", "val_loss", "lr", "grad_norm"}
    assert est.history_["loss"].shape == (1000,)
    assert est.history_["loss"][-1] < est.history_["loss"][0]
    assert np.isnan(est.history_["val_loss"]).all()
    assert set(est.timing_) == {"setup_s", "train_s"} and min(est.timing_.values()) >= 0


def _raw_units_data():
    # Features and a target far from mean 0 / std 1, on a seed no other test uses.
    rng = np.random.default_rng(2024)
    X = rng.normal(loc=[3.0, -50.0, 0.2], scale=[2.0, 25.0, 0.01], size=(300, 3))
    y = 400.0 + X @ np.array([5.0, -0.3, 900.0]) + rng.normal(scale=2.0, size=300)
    return X, y


@pytest.mark.parametrize("scale_target", ["standard", "minmax", "none"])
def test_coefficients_are_in_the_raw_units_of_features_and_target(scale_target):
    X, y = _raw_units_data()
    A = np.column_stack([X, np.ones(len(X))])
    exact, *_ = np.linalg.lstsq(A, y, rcond=None)
    ols = LinearRegression().fit(X, y)
    est = descent.Regressor(
        optimizer="sgd", lr=0.3, batch="full", epochs=600, scale_target=scale_target
    ).fit(X, y)
    np.testing.assert_allclose(est.coef_, exact[:3], rtol=1e-8)
    assert est.intercept_ == pytest.approx(exact[3], rel=1e-8)
    np.testing.assert_allclose(est.coef_, ols.coef_, rtol=1e-8)
    # The equation in raw units is the model's prediction.
    np.testing.assert_allclose(X @ est.coef_ + est.intercept_, est.predict(X), rtol=1e-9)


def test_cli_inspect_prints_the_coefficients_in_raw_units(tmp_path, descent_cli):
    import subprocess

    X, y = _raw_units_data()
    est = descent.Regressor(optimizer="sgd", lr=0.3, batch="full", epochs=600).fit(X, y)
    est.save(tmp_path)
    out = subprocess.run(
        [descent_cli, "inspect", str(tmp_path / "model.json")], check=True, capture_output=True, text=True
    ).stdout
    line = out.split("coefficients in the features' original units")[1].splitlines()[1].strip()
    # "y = b + w0·x0 - w1·x1 + w2·x2", 12 significant digits
    terms = line.replace("y = ", "").replace(" - ", " + -").split(" + ")
    intercept = float(terms[0])
    weights = [float(t.split("·")[0]) for t in terms[1:]]
    np.testing.assert_allclose(weights, est.coef_, rtol=1e-10)
    assert intercept == pytest.approx(est.intercept_, rel=1e-10)


def test_classifier_agrees_with_logistic_regression_on_breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    ref = LogisticRegression(max_iter=5000).fit(StandardScaler().fit_transform(X), y)
    est = descent.Classifier(epochs=100).fit(X, y)
    Xs = StandardScaler().fit_transform(X)
    assert est.score(X, y) >= ref.score(Xs, y) - 0.02
    proba = est.predict_proba(X)
    assert proba.shape == (len(y), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert (est.classes_[proba.argmax(axis=1)] == est.predict(X)).all()
    assert est.coef_.shape == (1, 30) and est.intercept_.shape == (1,)


def test_classifier_keeps_string_labels_and_multiclass():
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    est = descent.Classifier(epochs=100).fit(X, names)
    assert list(est.classes_) == ["setosa", "versicolor", "virginica"]
    assert est.score(X, names) > 0.9
    assert est.predict(X[:3]).dtype == names.dtype
    assert est.coef_.shape == (3, 4)
    assert est.model_.classes == ["setosa", "versicolor", "virginica"]


def test_binary_labels_other_than_0_1():
    X, y = load_breast_cancer(return_X_y=True)
    labels = np.where(y == 1, 7, -3)
    est = descent.Classifier(epochs=30).fit(X, labels)
    assert set(est.predict(X)) <= {7, -3}
    assert est.score(X, labels) > 0.95


def test_mlp_regressor_and_classifier():
    X, y = load_diabetes(return_X_y=True)
    est = descent.Regressor(model="mlp", hidden=[16], epochs=50, scale_target="standard").fit(X, y)
    assert est.score(X, y) > 0.4
    assert not hasattr(est, "coef_")
    X, y = load_iris(return_X_y=True)
    clf = descent.Classifier(model="mlp", hidden=(8,), activation="tanh", epochs=100).fit(X, y)
    assert clf.score(X, y) > 0.9


def test_pandas_input_sets_feature_names():
    data = load_diabetes(as_frame=True)
    est = descent.Regressor(epochs=20).fit(data.data, data.target)
    assert list(est.feature_names_in_) == list(data.data.columns)
    assert est.model_.features == list(data.data.columns)
    p = est.predict(data.data)
    assert p.shape == (len(data.target),)
    with pytest.warns(UserWarning, match="feature names"):
        est.predict(data.data.to_numpy())


def test_float32_fortran_and_sliced_inputs_predict_the_same():
    X, y = load_diabetes(return_X_y=True)
    est = descent.Regressor(epochs=20).fit(X, y)
    base = est.predict(X)
    np.testing.assert_array_equal(est.predict(np.asfortranarray(X)), base)
    wide = np.hstack([X, X])
    np.testing.assert_array_equal(est.predict(wide[:, ::2][:, :10] * 0 + X), base)
    np.testing.assert_allclose(est.predict(X.astype(np.float32)), base, rtol=1e-5)
    est32 = descent.Regressor(epochs=20).fit(X.astype(np.float32), y.astype(np.float32))
    np.testing.assert_allclose(est32.predict(X), base, rtol=1e-5)


def test_f32_training():
    X, y = load_diabetes(return_X_y=True)
    est = descent.Regressor(epochs=20, dtype="f32").fit(X, y)
    assert est.model_.dtype == "f32"
    assert est.score(X, y) > 0.4


def test_multi_output_regression():
    X, y = load_diabetes(return_X_y=True)
    Y = np.column_stack([y, -2 * y])
    est = descent.Regressor(
        optimizer="sgd", lr=0.45, optimizer_options={"momentum": 0.83}, batch="full", epochs=300
    ).fit(X, Y)
    assert est.predict(X).shape == (len(y), 2)
    assert est.coef_.shape == (2, 10)
    np.testing.assert_allclose(est.coef_[1], -2 * est.coef_[0], rtol=1e-6)


def test_same_seed_same_numbers_and_other_seed_other_numbers():
    X, y = load_diabetes(return_X_y=True)
    a = descent.Regressor(epochs=5, seed=1).fit(X, y)
    b = descent.Regressor(epochs=5, seed=1).fit(X, y)
    c = descent.Regressor(epochs=5, seed=2).fit(X, y)
    np.testing.assert_array_equal(a.model_.params, b.model_.params)
    assert not np.array_equal(a.model_.params, c.model_.params)


def test_early_stopping_and_validation_history():
    X, y = load_diabetes(return_X_y=True)
    est = descent.Regressor(epochs=5000, val_fraction=0.2, early_stopping=5).fit(X, y)
    assert est.n_iter_ < 5000
    assert est.outcome_["stop"]["status"] == "early-stopped"
    assert np.isfinite(est.history_["val_loss"]).all()


def test_schedule_and_optimizer_options():
    X, y = load_diabetes(return_X_y=True)
    est = descent.Regressor(
        optimizer="sgd",
        lr=0.1,
        optimizer_options={"momentum": 0.9, "nesterov": True},
        schedule="cosine:t_max=50",
        epochs=50,
    ).fit(X, y)
    lr = est.history_["lr"]
    assert lr[0] > lr[-1]
    assert est.score(X, y) > 0.45
