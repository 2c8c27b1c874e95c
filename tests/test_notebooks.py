"""What nbval cannot see: that each notebook is stored as one clean run, top to bottom."""

import json
import re
import sys
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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_solution_sits_in_cells_tagged_solution(path):
    """The student edition removes tagged cells, so every piece of a solution must be tagged:
    {solution} blocks, and everything from {solution-start} to {solution-end}."""
    inside = False
    n_exercises = 0
    for cell in json.loads(path.read_text())["cells"]:
        source = "".join(cell["source"])
        tagged = "solution" in cell["metadata"].get("tags", [])
        n_exercises += source.count("```{exercise}")
        if "```{solution" in source or inside:
            assert tagged, f"{path.name}: untagged solution cell: {source[:80]!r}"
            assert "```{exercise}" not in source, f"{path.name}: an exercise shares a cell with a solution"
        if "```{solution-start}" in source:
            inside = True
        if "```{solution-end}" in source:
            inside = False
    assert n_exercises >= 3, f"{path.name} has {n_exercises} exercises; every chapter needs at least 3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_cell_installs_the_package_only_where_it_is_missing(path):
    first = json.loads(path.read_text())["cells"][0]
    source = "".join(first["source"])
    assert first["cell_type"] == "code"
    assert {"remove-cell", "nbval-skip"} <= set(first["metadata"].get("tags", []))
    assert "import gradcourse" in source and "except ImportError" in source and "pip install" in source


def test_glue_falls_back_without_myst_nb(monkeypatch, capsys):
    import importlib

    import gradcourse.book

    monkeypatch.setitem(sys.modules, "myst_nb", None)  # makes "import myst_nb" fail
    fallback = importlib.reload(gradcourse.book)
    try:
        fallback.glue("hidden", 1.5, display=False)
        assert capsys.readouterr().out == ""
        fallback.glue("shown", 2.5)
        assert "2.5" in capsys.readouterr().out
    finally:
        monkeypatch.undo()
        importlib.reload(gradcourse.book)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_cells_whose_output_nbval_ignores_hold_no_claim_and_no_number_of_the_text(path):
    """A progress display may be ignored by nbval (its timings vary); what the text rests on
    may not: checks and glued numbers belong in cells whose outputs are compared."""
    for cell in json.loads(path.read_text())["cells"]:
        if "nbval-ignore-output" in cell["metadata"].get("tags", []):
            source = "".join(cell["source"])
            assert "check(" not in source and "glue(" not in source, f"{path.name}: {source[:80]!r}"


#: The longest line of code or printed output the book shows without sideways scrolling at a
#: 1280 px window (13 px monospace in a column of about 684 px: see _static/custom.css), and
#: inside a folded solution, whose box is narrower (about 617 px).
MAX_LINE = 79
MAX_LINE_IN_SOLUTIONS = 75


def _shown_lines(cell):
    """Lines of a code cell the book shows: its source and its printed or displayed text."""
    lines = "".join(cell["source"]).splitlines()
    for out in cell.get("outputs", []):
        text = "".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", ""))
        if "image/png" not in out.get("data", {}):  # a figure's "<Figure size ...>" is not shown
            lines += text.splitlines()
    return lines


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_and_printed_lines_fit_the_column(path):
    too_long = []
    for cell in json.loads(path.read_text())["cells"]:
        tags = cell["metadata"].get("tags", [])
        if cell["cell_type"] == "code" and "remove-cell" not in tags:
            limit = MAX_LINE_IN_SOLUTIONS if "solution" in tags else MAX_LINE
            too_long += [line for line in _shown_lines(cell) if len(line) > limit]
    assert not too_long, f"{len(too_long)} lines too long for the column, e.g. {too_long[0]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_figure_text_is_set_below_the_courses_smallest_size(path):
    from gradcourse.plotting import SMALLEST_FONT_PT

    sizes = []
    for cell in json.loads(path.read_text())["cells"]:
        source = "".join(cell["source"])
        sizes += [float(v) for v in re.findall(r"\b(?:fontsize|labelsize)\s*=\s*([0-9.]+)", source)]
    assert all(size >= SMALLEST_FONT_PT for size in sizes), sizes


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_glue_calls_are_out_of_the_readers_way(path):
    for cell in json.loads(path.read_text())["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and "glue(" in source:
            assert "remove-cell" in cell["metadata"].get("tags", []), f"glue in a visible cell: {source[:80]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_figures_are_stored_at_twice_their_displayed_resolution(path):
    """The course's style (gradcourse.plotting) asks for retina PNGs: sharp text when scaled."""
    for cell in json.loads(path.read_text())["cells"]:
        for out in cell.get("outputs", []):
            if "image/png" in out.get("data", {}):
                assert out.get("metadata", {}).get("image/png", {}).get("width"), "a figure not in retina PNG"
