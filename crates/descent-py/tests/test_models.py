"""Models shared with the CLI (model.json both ways) and the analyses."""

import csv
import json
import subprocess

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris

import descent

X, Y = load_diabetes(return_X_y=True)


def test_save_and_load_model_predict_the_same(tmp_path):
    est = descent.Regressor(epochs=20).fit(X, Y)
    est.save(tmp_path)
    model = descent.load_model(tmp_path)
    np.testing.assert_array_equal(model.predict(X).ravel(), est.predict(X))
    assert json.loads((tmp_path / "model.json").read_text())["features"] == [f"x{i}" for i in range(10)]


def _write_csv(path, X, y, names):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(names + ["target"])
        for row, t in zip(X, y):
            w.writerow([repr(float(v)) for v in row] + [t])


def test_python_model_predicts_in_the_cli(tmp_path, descent_cli):
    data = load_iris(as_frame=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[data.target]
    est = descent.Classifier(epochs=50).fit(data.data, labels)
    est.save(tmp_path / "model.json")
    names = list(data.data.columns)
    _write_csv(tmp_path / "rows.csv", data.data.to_numpy(), labels, names)
    out = tmp_path / "pred.csv"
    subprocess.run(
        [descent_cli, "predict", "--model", str(tmp_path / "model.json"), "--data", str(tmp_path / "rows.csv"), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    with open(out) as f:
        rows = list(csv.DictReader(f))
    assert [r["predicted"] for r in rows] == list(est.predict(data.data))
    proba = np.array([[float(r[f"p_{c}"]) for c in est.classes_] for r in rows])
    np.testing.assert_allclose(proba, est.predict_proba(data.data), rtol=1e-12, atol=1e-15)


def test_cli_model_loads_in_python(tmp_path, descent_cli):
    subprocess.run(
        [descent_cli, "train", "--data", "builtin:diabetes", "--model", "linear", "--scale", "standard",
         "--optimizer", "sgd", "--lr", "0.2", "--batch", "full", "--epochs", "200", "--out", str(tmp_path / "run"), "-q"],
        check=True,
    )
    model = descent.load_model(tmp_path / "run")
    assert model.kind == "linear" and len(model.features) == 10
    est = descent.Regressor(optimizer="sgd", lr=0.2, batch="full", epochs=200, scale_target="none").fit(X, Y)
    # The same run in both front ends: the same parameters.
    np.testing.assert_allclose(model.params, est.model_.params, rtol=1e-12, atol=1e-12)


def test_analyze_matches_the_least_squares_answer():
    a = descent.analyze(X, Y, optimizer="sgd", lr=0.1)
    c = a["curvature"]
    assert c["lambda_max"] > c["lambda_min"] > 0
    assert c["condition_number"] == pytest.approx(c["lambda_max"] / c["lambda_min"])
    assert a["bounds"]["max_stable_lr"] == pytest.approx(2 / c["lambda_max"])
    o = a["optima"]
    est = descent.Regressor(
        optimizer="sgd", lr=o["heavy_ball_lr"], optimizer_options={"momentum": o["heavy_ball_momentum"]},
        batch="full", epochs=1000, scale_target="none",
    ).fit(X, Y)
    assert est.history_["loss"][-1] == pytest.approx(a["least_squares"]["mse"], rel=1e-9)
    assert a["optima"]["gd_lr"] == pytest.approx(2 / (c["lambda_max"] + c["lambda_min"]))


def test_lr_find_and_gradcheck():
    r = descent.lr_find(X, Y, optimizer="sgd", steps=50)
    assert len(r["lrs"]) == len(r["losses"]) <= 50
    assert r["suggestion"] is not None and 1e-7 < r["suggestion"] < 10
    Xi, yi = load_iris(return_X_y=True)
    g = descent.gradcheck(Xi[:20], yi[:20], classifier=True, model="mlp", hidden=[4], activation="tanh")
    assert g["passed"] and g["max_rel"] < 1e-5


@pytest.mark.parametrize(
    "dtype, flags, args",
    [
        # float32 features in an f32 run: the table comes straight from the float32 array.
        ("f32", ["--scale", "none", "--scale-target", "none", "--optimizer", "adam", "--lr", "0.01"],
         dict(scale="none", scale_target="none", optimizer="adam", lr=0.01)),
        # float64 features, both scalers and a validation split: statistics, split and table
        # built from the array, not from a Dataset.
        ("f64", ["--scale", "standard", "--scale-target", "minmax", "--val-fraction", "0.25",
                 "--optimizer", "sgd", "--lr", "0.05"],
         dict(scale="standard", scale_target="minmax", val_fraction=0.25, optimizer="sgd", lr=0.05)),
    ],
)
def test_fit_trains_the_numbers_of_descent_train_bit_for_bit(tmp_path, descent_cli, dtype, flags, args):
    csv = tmp_path / "data.csv"
    subprocess.run([descent_cli, "generate", "linear", "--rows", "3000", "--features", "7", "--seed", "5",
                    "--out", str(csv)], check=True)
    common = ["--model", "linear", "--batch", "64", "--epochs", "4", "--seed", "3", "--dtype", dtype]
    subprocess.run([descent_cli, "train", "--data", str(csv), "--target", "y", *common, *flags,
                    "--out", str(tmp_path / "run"), "-q"], check=True, capture_output=True)
    table = np.loadtxt(csv, delimiter=",", skiprows=1)
    X, y = table[:, :-1], table[:, -1]
    if dtype == "f32":
        X = X.astype(np.float32)  # what the CLI's f32 table holds
    est = descent.Regressor(model="linear", batch=64, epochs=4, seed=3, dtype=dtype, **args).fit(X, y)
    metrics = np.genfromtxt(tmp_path / "run" / "metrics.csv", delimiter=",", names=True)
    np.testing.assert_array_equal(est.history_["loss"], metrics["loss"])
    np.testing.assert_array_equal(est.history_["grad_norm"], metrics["grad_norm"])
    if "val_fraction" in args:
        np.testing.assert_array_equal(est.history_["val_loss"], metrics["val_loss"])
    model = descent.load_model(tmp_path / "run")
    np.testing.assert_array_equal(est.model_.params, model.params)
