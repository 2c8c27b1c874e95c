"""What nbval cannot see: that each notebook is stored as one clean run, top to bottom."""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted(p for p in (Path(__file__).parents[1] / "book").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebook found under book/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_as_one_run_in_a_fresh_kernel(path):
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    counts = [c["execution_count"] for c in cells]
    assert counts == list(range(1, len(cells) + 1)), f"execution counts {counts}: re-execute {path.name}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_errors_or_warnings_in_outputs(path):
    for cell in json.loads(path.read_text())["cells"]:
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"{path.name}: a cell raised {out.get('ename')}"
            assert out.get("name") != "stderr", f"{path.name}: stderr output {''.join(out['text'])[:200]!r}"
