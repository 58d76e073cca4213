"""What a Python user expects at run time: an epoch callback that can stop training,
Ctrl-C (KeyboardInterrupt) stopping a run with the best state kept, fork safety, and
progress lines."""

import multiprocessing
import os
import signal
import sys
import threading
import time

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, make_regression

import descent

X, Y = load_diabetes(return_X_y=True)


def test_callback_sees_every_epoch_and_false_stops():
    seen = []

    def callback(record):
        seen.append(record)
        return record["epoch"] < 7

    est = descent.Regressor(epochs=100, callback=callback).fit(X, Y)
    assert [r["epoch"] for r in seen] == list(range(1, 8))
    assert est.n_iter_ == 7
    assert set(seen[0]) == {"epoch", "step", "loss", "val_loss", "lr", "grad_norm"}
    assert seen[-1]["loss"] == est.history_["loss"][-1]


def test_callback_returning_none_continues_and_exceptions_propagate():
    est = descent.Regressor(epochs=5, callback=lambda r: None).fit(X, Y)
    assert est.n_iter_ == 5

    def boom(record):
        raise RuntimeError("from the callback")

    with pytest.raises(RuntimeError, match="from the callback"):
        descent.Regressor(epochs=5, callback=boom).fit(X, Y)


def test_ctrl_c_in_the_callback_keeps_the_best_state():
    def interrupt(record):
        if record["epoch"] == 4:
            os.kill(os.getpid(), signal.SIGINT)

    est = descent.Regressor(epochs=1000, callback=interrupt)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, Y)
    assert est.n_iter_ == 4
    assert est.predict(X).shape == (len(Y),)
    best = int(np.argmin(est.history_["loss"]))
    assert est.outcome_ is not None
    assert best <= 3


def test_ctrl_c_while_rust_trains_stops_the_run():
    # The signal comes from another thread while the main thread is in Rust (GIL released);
    # the run polls for it between updates and stops long before its 10**7 epochs.
    started = threading.Event()

    def on_epoch(record):
        if record["epoch"] == 1:
            started.set()

    sent = []

    def send():
        started.wait()
        sent.append(time.perf_counter())
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=send, daemon=True).start()
    est = descent.Regressor(epochs=10**7, batch=1, callback=on_epoch)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, Y)
    stopped = time.perf_counter()
    assert 1 <= est.n_iter_ < 10**7
    assert np.isfinite(est.predict(X)).all()
    # The bound: stopped within a second of Ctrl-C (the run polls every 50 ms).
    assert stopped - sent[0] < 1.0


def test_the_gil_is_released_while_rust_trains():
    # A second Python thread counts while the main thread fits, with no callback. The
    # switch interval is set far above the fit's length, so the counting thread (which
    # gives the GIL up on every iteration) gets it back only when the main thread gives it
    # up: while Python code runs the count stands still, while Rust trains it climbs.
    Xb, yb = make_regression(n_samples=20000, n_features=64, noise=1.0, random_state=3)
    count, stop, running = [0], threading.Event(), threading.Event()

    def counter():
        running.set()
        while not stop.is_set():
            count[0] += 1
            os.stat(".")  # a system call that releases the GIL (and keeps the CPU)

    est = descent.Regressor(model="mlp", hidden=[64], epochs=6, batch=64, n_jobs=1)
    interval = sys.getswitchinterval()
    thread = threading.Thread(target=counter, daemon=True)
    try:
        sys.setswitchinterval(30.0)
        thread.start()
        running.wait()
        before = count[0]
        sum(range(2 * 10**6))  # the control: Python code holds the GIL
        held = count[0] - before
        before = count[0]
        est.fit(Xb, yb)
        during = count[0] - before
    finally:
        stop.set()
        sys.setswitchinterval(interval)
        thread.join()
    assert est.n_iter_ == 6
    assert held < 100, f"the control let the counting thread run {held} times"
    assert during > 1000, f"the counting thread ran {during} times during fit"


def _fit_score(n_jobs):
    Xb, yb = make_regression(n_samples=20000, n_features=64, noise=1.0, random_state=0)
    est = descent.Regressor(model="mlp", hidden=[64], epochs=2, batch=512, n_jobs=n_jobs).fit(Xb, yb)
    return float(est.score(Xb, yb)), est.model_.params.tolist()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fit_in_a_forked_child_after_a_fit_in_the_parent():
    parent = _fit_score(2)  # builds the parent's worker pools
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2) as pool:
        results = [pool.apply_async(_fit_score, (n,)) for n in (None, 2)]
        children = [r.get(timeout=300) for r in results]
    for child in children:
        assert child[1] == parent[1]  # same numbers, whatever the thread count


def test_verbose_prints_one_line_per_epoch(capsys):
    descent.Regressor(epochs=3, verbose=True).fit(X, Y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("epoch 1 loss")
