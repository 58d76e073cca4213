"""The numpy optimizers and schedulers against PyTorch 2.9.1: the oracle cases (recorded
torch outputs, the same files the Rust oracle test reads) and, where torch is installed,
torch.optim live."""

import json
import math

import numpy as np
import pytest

import descent.optim as optim
from descent.optim import lr_scheduler

from conftest import oracle_dir


def cases(family):
    out = []
    for path in sorted(oracle_dir().glob("*.json")):
        doc = json.loads(path.read_text())
        if doc.get("family") == family:
            out += [pytest.param(c, id=c["name"]) for c in doc["cases"]]
    assert out, f"no {family} oracle cases in {oracle_dir()}"
    return out


def make_optimizer(spec, params):
    """The optimizer of an oracle case, from the options passed to torch only."""
    kwargs = {k: spec["options"][k] for k in spec["explicit"]}
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}
    return getattr(optim, spec["name"])(params, **kwargs)


def close(actual, expected, tol, field):
    t = tol.get("fields", {}).get(field, tol)
    np.testing.assert_allclose(actual, expected, rtol=t["rtol"], atol=t["atol"], err_msg=field)


@pytest.mark.parametrize("case", cases("optim_replay"))
def test_optim_replay(case):
    dtype = np.float32 if case["dtype"] == "float32" else np.float64
    p = np.array(case["param_init"], dtype=dtype)
    opt = make_optimizer(case["optimizer"], [p])
    for k in range(case["steps"]):
        opt.step([np.array(case["grads"][k], dtype=dtype)])
        close(p, case["params"][k + 1], case["tolerance"], "params")
        if "ax" in case:
            close(opt._steppers[0][0][0].averaged(), case["ax"][k + 1], case["tolerance"], "ax")


def gradient(fn, v):
    x, y = v
    c = fn["constants"]
    name = fn["name"]
    if name == "rosenbrock":
        a, b = c["a"], c["b"]
        return np.array([-2 * (a - x) - 4 * b * x * (y - x * x), 2 * b * (y - x * x)])
    if name == "saddle":
        return np.array([2 * x, -2 * y])
    if name == "beale":
        t1, t2, t3 = 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3
        return np.array(
            [
                2 * t1 * (y - 1) + 2 * t2 * (y**2 - 1) + 2 * t3 * (y**3 - 1),
                2 * t1 * x + 2 * t2 * 2 * x * y + 2 * t3 * 3 * x * y**2,
            ]
        )
    if name == "quadratic":
        return np.array(c["A"]) @ v - np.array(c["b"])
    raise AssertionError(f"unknown function {name}")


@pytest.mark.parametrize("case", cases("optim_closed_loop"))
def test_optim_closed_loop(case):
    p = np.array(case["x0"], dtype=np.float64)
    opt = make_optimizer(case["optimizer"], [p])
    for k in range(case["steps"]):
        opt.step([gradient(case["function"], p.copy())])
        close(p, case["trajectory"][k + 1], case["tolerance"], "trajectory")


@pytest.mark.parametrize("case", cases("schedulers"))
def test_schedulers(case):
    p = np.zeros(1)
    opt = make_optimizer(case["optimizer"], [p])
    s = case["scheduler"]
    kwargs = {k: s["options"][k] for k in s["explicit"]}
    if s["name"] == "LambdaLR":
        assert kwargs.pop("lr_lambda", s.get("lr_lambda")) in ("inv_sqrt", None)
        kwargs["lr_lambda"] = lambda epoch: 1 / math.sqrt(epoch + 1)
    sched = getattr(lr_scheduler, s["name"])(opt, **kwargs)
    lrs, moms = [], []
    key = case.get("momentum_key")
    for i in range(case["steps"]):
        group = opt.param_groups[0]
        lrs.append(group["lr"])
        if key:
            moms.append(group["betas"][0] if key == "betas[0]" else group["momentum"])
        opt.step([np.zeros(1)])
        if s["name"] == "ReduceLROnPlateau":
            sched.step(case["metrics"][i])
        else:
            sched.step()
    close(lrs, case["lr"], case["tolerance"], "lr")
    if key:
        close(moms, case["momentum"], case["tolerance"], "momentum")


def test_step_writes_through_the_callers_buffer_in_every_layout():
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        c = rng.standard_normal((3, 4)).astype(dtype)
        f = np.asfortranarray(c.copy())
        g = rng.standard_normal((3, 4)).astype(dtype)
        addresses = (c.ctypes.data, f.ctypes.data)
        opt = optim.Adam([c, f], lr=0.1)
        for _ in range(3):
            opt.step([g, np.asfortranarray(g)])
        assert (c.ctypes.data, f.ctypes.data) == addresses
        np.testing.assert_array_equal(c, f)
        assert c.dtype == dtype


def test_param_groups_state_dict_and_load():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(5), rng.standard_normal(3)
    grads = [[rng.standard_normal(5), rng.standard_normal(3)] for _ in range(6)]
    opt = optim.AdamW([{"params": [a]}, {"params": [b], "weight_decay": 0.0, "lr": 0.05}], lr=0.01)
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)
    for g in grads[:3]:
        opt.step(g)
    saved = json.loads(json.dumps(opt.state_dict()))  # JSON-able
    a2, b2 = a.copy(), b.copy()
    for g in grads[3:]:
        opt.step(g)
    other = optim.AdamW([{"params": [a2]}, {"params": [b2], "weight_decay": 0.0, "lr": 0.05}], lr=0.01)
    other.load_state_dict(saved)
    for g in grads[3:]:
        other.step(g)
    np.testing.assert_array_equal(a, a2)
    np.testing.assert_array_equal(b, b2)


def test_every_optimizer_of_the_library_is_here():
    names = optim.names()
    assert "adam" in names and "sgd" in names and len(names) >= 11
    for cls in ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "Adadelta", "ASGD", "Rprop"]:
        opt = getattr(optim, cls)([np.ones(2)])
        opt.step([np.ones(2)])


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


TORCH_CASES = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "dampening": 0.3, "maximize": True}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.01, "betas": (0.8, 0.99)}),
    ("Adamax", {"lr": 0.02}),
    ("NAdam", {"lr": 0.01, "decoupled_weight_decay": True, "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.01}),
    ("Adadelta", {"lr": 1.0, "rho": 0.8}),
    ("ASGD", {"lr": 0.01, "t0": 5.0}),
    ("Rprop", {"lr": 0.01}),
]


@pytest.mark.parametrize("name, kwargs", TORCH_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(TORCH_CASES)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_against_live_torch(name, kwargs, dtype):
    torch = _torch()
    if torch is None:
        pytest.skip("torch is not installed (the oracle cases above hold its outputs)")
    torch.set_num_threads(1)
    # torch keeps some state scalars (ASGD's eta and mu, NAdam's mu product) in the default
    # dtype: float64 for a float64 run, as the oracle fixtures were made.
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64 if dtype == "float64" else torch.float32)
    try:
        _compare_with_torch(torch, name, kwargs, dtype)
    finally:
        torch.set_default_dtype(previous)


def _compare_with_torch(torch, name, kwargs, dtype):
    rng = np.random.default_rng(7)
    init = rng.standard_normal((4, 3)).astype(dtype)
    grads = [rng.standard_normal((4, 3)).astype(dtype) for _ in range(25)]
    grads[5][:] = 0  # a whole zero step
    p = init.copy()
    ours = getattr(optim, name)([p], **kwargs)
    t = torch.tensor(init.copy(), requires_grad=True)
    theirs = getattr(torch.optim, name)([t], **kwargs, foreach=False)
    for g in grads:
        ours.step([g])
        t.grad = torch.tensor(g)
        theirs.step()
    rtol, atol = (1e-12, 1e-14) if dtype == "float64" else (1e-5, 1e-6)
    np.testing.assert_allclose(p, t.detach().numpy(), rtol=rtol, atol=atol)
