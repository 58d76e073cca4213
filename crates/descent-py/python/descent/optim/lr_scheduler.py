"""Learning-rate schedulers with torch's class names, arguments and protocol::

    opt = descent.optim.SGD(params, lr=0.1)
    sched = descent.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
    for epoch in range(100):
        opt.step(grads)
        sched.step()

Each param group gets the library's schedule (the same recurrences as torch, so the learning
rates agree to the last bits); ``OneCycleLR`` and ``CyclicLR`` also cycle the group's
``momentum`` (or ``betas[0]``). ``LambdaLR`` takes any callable (``lr = initial_lr *
lr_lambda(epoch)``, as torch computes it).
"""

import json

from .. import _descent

__all__ = [
    "LRScheduler",
    "ConstantLR",
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "LinearLR",
    "OneCycleLR",
    "CyclicLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "LambdaLR",
    "SequentialLR",
]


def _momentum(group):
    if "betas" in group:
        return float(group["betas"][0])
    if "momentum" in group:
        return float(group["momentum"])
    return None


def _set_momentum(group, m):
    if "betas" in group:
        group["betas"] = (m, group["betas"][1])
    elif "momentum" in group:
        group["momentum"] = m


class LRScheduler:
    """The base: one library schedule per param group, built from torch's class name and
    arguments. ``step()`` advances it and writes each group's ``lr``."""

    _args = ()  # torch's argument names after ``optimizer``, in order

    def __init__(self, optimizer, *args, **kwargs):
        if len(args) > len(self._args):
            raise TypeError(f"{type(self).__name__} takes at most {len(self._args)} positional arguments after the optimizer")
        options = dict(zip(self._args, args))
        for key in kwargs:
            if key in options:
                raise TypeError(f"{type(self).__name__} got multiple values for argument {key!r}")
        options.update(kwargs)
        options.pop("verbose", None)
        self.optimizer = optimizer
        self._options = options
        self.last_epoch = 0
        self._schedules = []
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
            self._schedules.append(self._build(group, options))
        self._apply()

    def _build(self, group, options):
        return _descent._Schedule(
            type(self).__name__, self._json_options(options), float(group["initial_lr"]), _momentum(group)
        )

    @staticmethod
    def _json_options(options):
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in options.items()}

    def _apply(self):
        for group, s in zip(self.optimizer.param_groups, self._schedules):
            group["lr"] = s.lr()
            m = s.momentum()
            if m is not None:
                _set_momentum(group, m)

    def step(self):
        """Advances one epoch (or step) and sets each group's learning rate."""
        for s in self._schedules:
            s.step()
        self.last_epoch += 1
        self._apply()

    def get_last_lr(self):
        """The learning rate of each group, as the last ``step`` set it."""
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self):
        return {"last_epoch": self.last_epoch, "schedules": [json.loads(s.state()) for s in self._schedules]}

    def load_state_dict(self, state_dict):
        self.last_epoch = state_dict["last_epoch"]
        for s, state in zip(self._schedules, state_dict["schedules"]):
            s.load_state(json.dumps(state))
        self._apply()


def _scheduler(name, args, doc):
    return type(name, (LRScheduler,), {"_args": tuple(args), "__doc__": doc})


ConstantLR = _scheduler("ConstantLR", ["factor", "total_iters", "last_epoch"], "torch's ConstantLR.")
StepLR = _scheduler("StepLR", ["step_size", "gamma", "last_epoch"], "torch's StepLR.")
MultiStepLR = _scheduler("MultiStepLR", ["milestones", "gamma", "last_epoch"], "torch's MultiStepLR.")
ExponentialLR = _scheduler("ExponentialLR", ["gamma", "last_epoch"], "torch's ExponentialLR.")
CosineAnnealingLR = _scheduler(
    "CosineAnnealingLR", ["T_max", "eta_min", "last_epoch"], "torch's CosineAnnealingLR (recursive form)."
)
CosineAnnealingWarmRestarts = _scheduler(
    "CosineAnnealingWarmRestarts", ["T_0", "T_mult", "eta_min", "last_epoch"], "torch's CosineAnnealingWarmRestarts."
)
LinearLR = _scheduler("LinearLR", ["start_factor", "end_factor", "total_iters", "last_epoch"], "torch's LinearLR.")
OneCycleLR = _scheduler(
    "OneCycleLR",
    [
        "max_lr",
        "total_steps",
        "epochs",
        "steps_per_epoch",
        "pct_start",
        "anneal_strategy",
        "cycle_momentum",
        "base_momentum",
        "max_momentum",
        "div_factor",
        "final_div_factor",
        "three_phase",
        "last_epoch",
    ],
    "torch's OneCycleLR (cycles the momentum or beta1 too).",
)
CyclicLR = _scheduler(
    "CyclicLR",
    [
        "base_lr",
        "max_lr",
        "step_size_up",
        "step_size_down",
        "mode",
        "gamma",
        "scale_fn",
        "scale_mode",
        "cycle_momentum",
        "base_momentum",
        "max_momentum",
        "last_epoch",
    ],
    "torch's CyclicLR.",
)
PolynomialLR = _scheduler("PolynomialLR", ["total_iters", "power", "last_epoch"], "torch's PolynomialLR.")


class ReduceLROnPlateau(LRScheduler):
    """torch's ReduceLROnPlateau: ``step(metric)`` after each epoch."""

    _args = ("mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "min_lr", "eps")

    def step(self, metrics):
        for s in self._schedules:
            s.step(float(metrics))
        self.last_epoch += 1
        self._apply()


class LambdaLR(LRScheduler):
    """torch's LambdaLR: ``lr = initial_lr * lr_lambda(epoch)``, ``epoch`` the number of
    ``step()`` calls so far; ``lr_lambda`` a callable (or a list, one per group)."""

    _args = ("lr_lambda", "last_epoch")

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        if last_epoch != -1:
            raise ValueError("last_epoch other than -1 (resuming) is not supported")
        groups = optimizer.param_groups
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * len(groups)
        if len(lambdas) != len(groups):
            raise ValueError(f"Expected {len(groups)} lr_lambdas, but got {len(lambdas)}")
        self.optimizer, self.lr_lambdas, self.last_epoch = optimizer, lambdas, 0
        self._schedules = []
        for group in groups:
            group.setdefault("initial_lr", group["lr"])
        self._apply()

    def _apply(self):
        for group, f in zip(self.optimizer.param_groups, self.lr_lambdas):
            group["lr"] = group["initial_lr"] * f(self.last_epoch)

    def step(self):
        self.last_epoch += 1
        self._apply()

    def state_dict(self):
        return {"last_epoch": self.last_epoch}

    def load_state_dict(self, state_dict):
        self.last_epoch = state_dict["last_epoch"]
        self._apply()


class SequentialLR(LRScheduler):
    """torch's SequentialLR: ``schedulers`` (built on the same optimizer) one after another,
    switching at ``milestones``."""

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        for group in optimizer.param_groups:
            # The schedulers built before moved the lr; torch restarts from the initial one.
            group["lr"] = group.get("initial_lr", group["lr"])
        parts = []
        for s in schedulers:
            if not isinstance(s, LRScheduler) or isinstance(s, (LambdaLR, SequentialLR)):
                raise TypeError(f"SequentialLR: unsupported scheduler {type(s).__name__}")
            parts.append({"name": type(s).__name__, "options": self._json_options(s._options)})
        super().__init__(optimizer, schedulers=parts, milestones=list(milestones), last_epoch=last_epoch)
