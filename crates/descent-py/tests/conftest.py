"""Shared paths: the repository's oracle fixtures (PyTorch 2.9.1 outputs) and the CLI."""

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def oracle_dir():
    """``DESCENT_ORACLE_DIR`` if set (a directory of oracle ``*.json``), else the fixtures the
    Rust oracle test reads."""
    d = os.environ.get("DESCENT_ORACLE_DIR")
    return Path(d) if d else REPO / "crates" / "descent" / "tests" / "fixtures" / "oracle"


@pytest.fixture
def descent_cli():
    """The ``descent`` binary: ``DESCENT_BIN``, else the workspace's release build, else
    PATH. CI builds it before this suite (``cargo test --workspace --release``)."""
    candidates = [os.environ.get("DESCENT_BIN"), REPO / "target" / "release" / "descent"]
    target = os.environ.get("CARGO_TARGET_DIR")
    if target:
        candidates.insert(1, Path(target) / "release" / "descent")
    for c in candidates:
        if c and Path(c).is_file():
            return str(c)
    found = shutil.which("descent")
    if found:
        return found
    pytest.skip("the descent binary is not built (cargo build --release -p descent-cli)")
