"""descent: gradient descent you can see and trust, in Python.

The same engine as the ``descent`` command-line tool (a Rust library): scikit-learn
estimators (:class:`Regressor`, :class:`Classifier`), torch-like optimizers on numpy arrays
(:mod:`descent.optim`), the analyses (:func:`analyze`, :func:`lr_find`, :func:`gradcheck`),
and models interoperable with the CLI's ``model.json`` (:func:`load_model`).
"""

import os as _os

# matrixmultiply (the matrix products under MLPs and predictions) reads its thread count once
# and keeps those threads in a pool that a forked child does not have: a product in the child
# would wait for them for ever. One thread keeps every fork safe (scikit-learn's helpers,
# multiprocessing); the library's own pools are handled in the extension. Set the variable
# before importing descent to choose otherwise (and then do not fork after training).
_os.environ.setdefault("MATMUL_NUM_THREADS", "1")

from ._descent import Model, __version__  # noqa: E402

__all__ = [
    "Classifier",
    "Model",
    "Regressor",
    "__version__",
    "analyze",
    "gradcheck",
    "load_model",
    "lr_find",
    "optim",
]


def load_model(path):
    """Loads a model saved by ``descent train --out DIR`` (the directory or its
    ``model.json``) or by :meth:`Model.save`."""
    import os

    return Model.load(os.fspath(path))


def __getattr__(name):
    # The estimators import scikit-learn, which takes a moment: only when asked for.
    if name in ("Regressor", "Classifier"):
        from . import sklearn

        return getattr(sklearn, name)
    if name in ("analyze", "lr_find", "gradcheck"):
        from . import analysis

        return getattr(analysis, name)
    if name == "optim":
        import importlib

        return importlib.import_module(".optim", __name__)
    raise AttributeError(f"module 'descent' has no attribute {name!r}")
