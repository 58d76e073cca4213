"""The quick start runs, and the README's Python example is that script, word for word."""

import re
import runpy
from pathlib import Path

from conftest import REPO

QUICKSTART = REPO / "examples" / "python" / "quickstart.py"


def test_readme_python_example_is_the_quickstart():
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Python"):]
    block = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert block == QUICKSTART.read_text()
    assert "pip install ./crates/descent-py" in section[: section.index("```python")]


def test_quickstart_runs(capsys):
    runpy.run_path(str(QUICKSTART), run_name="__main__")
    out = capsys.readouterr().out
    assert "R^2" in out
