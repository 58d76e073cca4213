"""torch-like optimizers over lists of numpy arrays.

``descent.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), ...)`` takes torch's arguments
and defaults; ``opt.step(grads)`` updates every parameter array in place, through its own
buffer (float32 or float64, C or Fortran order; no copy of the parameters), with the same
arithmetic as ``torch.optim`` step for step. ``param_groups`` (a list of dicts with
per-group options, as in torch), ``state_dict()`` and ``load_state_dict()`` work as in torch;
``zero_grad`` is not needed (the gradients are passed to ``step``).

Every optimizer of the library is here: the torch classes ``SGD, Adagrad, RMSprop, Adam,
AdamW, Adamax, NAdam, RAdam, Adadelta, ASGD, Rprop`` and the library's own (see
:func:`names`).
"""

import copy
import json

import numpy as np

from .. import _descent

__all__ = ["Optimizer", "names", "lr_scheduler"]

_INFO = {name: (torch, summary, options) for name, torch, summary, options in _descent.optimizers()}


def names():
    """The optimizers' names (the CLI's), in the order ``descent train --help`` lists them."""
    return list(_INFO)


def _as_option(value):
    # numpy scalars and tuples to plain Python (what the Rust side reads as JSON).
    if isinstance(value, (tuple, list)):
        return [_as_option(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


class Optimizer:
    """The base of every optimizer: ``param_groups``, ``step(grads)``, ``state_dict``.

    ``params`` is a list of numpy arrays or a list of dicts (``{"params": [...], "lr":
    ...}``) with per-group options, as in torch.
    """

    _name = None  # the library's name of the optimizer

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        if isinstance(params, np.ndarray):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of arrays or "
                "dicts, but got a numpy array (wrap it in a list)"
            )
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(params[0], dict):
            params = [{"params": params}]
        self.param_groups = []
        self._steppers = []
        for group in params:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Adds a group (a dict with ``params`` and options; the rest take the defaults)."""
        group = dict(param_group)
        arrays = group["params"]
        arrays = [arrays] if isinstance(arrays, np.ndarray) else list(arrays)
        unknown = set(group) - set(self.defaults) - {"params"}
        if unknown:
            raise ValueError(
                f"{type(self).__name__} param group: unknown option(s) {sorted(unknown)}; "
                f"known: {sorted(self.defaults)}"
            )
        for a in arrays:
            if not isinstance(a, np.ndarray):
                raise TypeError(f"parameters must be numpy arrays, got {type(a).__name__}")
            if a.dtype not in (np.float32, np.float64):
                raise TypeError(f"parameters must be float32 or float64 arrays, got {a.dtype}")
            if not (a.flags.c_contiguous or a.flags.f_contiguous):
                raise ValueError("parameters must be contiguous arrays (C or Fortran order)")
            if not a.flags.writeable:
                raise ValueError("parameters must be writeable arrays (they are updated in place)")
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        group["params"] = arrays
        options = self._options(group)
        steppers = [_descent._Stepper(self._name, options, a) for a in arrays]
        self.param_groups.append(group)
        self._steppers.append((steppers, options))

    def _options(self, group):
        # The optimizer's options only (a scheduler adds keys such as initial_lr).
        return {k: _as_option(v) for k, v in group.items() if k in self.defaults}

    def _sync(self, i):
        """Rebuilds group ``i``'s optimizers if an option other than lr changed (a
        scheduler cycling the momentum, a user edit); the state is kept."""
        steppers, built = self._steppers[i]
        options = self._options(self.param_groups[i])
        changed = {k for k in options if k != "lr" and options[k] != built.get(k)}
        if changed:
            for s in steppers:
                s.set_options(options)
            self._steppers[i] = (steppers, options)

    def step(self, grads):
        """Updates every parameter in place from ``grads``: one gradient per parameter, in
        the order of the groups' ``params`` (a list of arrays of the parameters' shapes and
        dtypes)."""
        grads = list(grads)
        expected = sum(len(g["params"]) for g in self.param_groups)
        if len(grads) != expected:
            raise ValueError(f"step got {len(grads)} gradients for {expected} parameters")
        k = 0
        for i, group in enumerate(self.param_groups):
            self._sync(i)
            lr = group["lr"]
            for param, stepper in zip(group["params"], self._steppers[i][0]):
                stepper.step(param, grads[k], float(lr))
                k += 1

    def zero_grad(self, set_to_none=True):
        """Nothing to do: gradients are passed to :meth:`step` (kept for torch code)."""

    def state_dict(self):
        """The state: ``{"state": {index: per-parameter state}, "param_groups": [options
        with "params" as indices]}``, as torch lays it out (values are JSON-able)."""
        state, groups, k = {}, [], 0
        for i, group in enumerate(self.param_groups):
            indices = []
            for stepper in self._steppers[i][0]:
                state[k] = json.loads(stepper.state())
                indices.append(k)
                k += 1
            g = {key: copy.deepcopy(v) for key, v in group.items() if key != "params"}
            g["params"] = indices
            groups.append(g)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restores what :meth:`state_dict` gave (the same parameter layout)."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(groups)} parameter groups, the optimizer {len(self.param_groups)}"
            )
        for i, (saved, group) in enumerate(zip(groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"loaded state dict's group {i} has {len(saved['params'])} parameters, the optimizer's {len(group['params'])}"
                )
            for key, value in saved.items():
                if key != "params":
                    group[key] = copy.deepcopy(value)
            self._sync(i)
            for index, stepper in zip(saved["params"], self._steppers[i][0]):
                entry = state_dict["state"].get(index, state_dict["state"].get(str(index)))
                if entry is not None:
                    stepper.load_state(json.dumps(entry))

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in g if k != "params"):
                lines.append(f"    {key}: {g[key]}")
        return "\n".join(lines) + "\n)"


def _make(name, torch_name, summary, options):
    defaults = dict(options)

    def __init__(self, params, **kwargs):
        unknown = set(kwargs) - set(defaults)
        if unknown:
            raise TypeError(
                f"{cls_name}() got unexpected keyword argument(s) {sorted(unknown)}; "
                f"it takes {', '.join(defaults)}"
            )
        Optimizer.__init__(self, params, {**defaults, **kwargs})

    cls_name = torch_name or "".join(part.capitalize() for part in name.split("-"))
    signature = ", ".join(f"{k}={v!r}" for k, v in defaults.items())
    doc = f"{summary}\n\n{cls_name}(params, {signature})"
    if torch_name:
        doc += f"\n\nEquals torch.optim.{torch_name} step for step."
    return type(cls_name, (Optimizer,), {"__init__": __init__, "__doc__": doc, "_name": name})


for _name, (_torch, _summary, _options) in _INFO.items():
    _cls = _make(_name, _torch, _summary, _options)
    globals()[_cls.__name__] = _cls
    __all__.append(_cls.__name__)

from . import lr_scheduler  # noqa: E402
