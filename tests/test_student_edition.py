"""The exercise convention (exercises.yml) and the student edition written from it.

The registry must list exactly the book's exercises, in order, with checkers that exist; the
student edition must hold a stub, a check and an answer cell where the registry says, render
in plain Jupyter (no MyST left), hold nothing of any solution or rubric, and run top to
bottom with every check saying "Not attempted".
"""

import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import exercise_registry  # noqa: E402
import student_edition  # noqa: E402

import gradcourse.exercises  # noqa: E402

NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
REGISTRY = exercise_registry.load()
EXERCISE = re.compile(r"```\{exercise\}[^\n]*\n:label: (\S+)\n(.*?)\n```", re.S)


def _book_exercises():
    """``[(chapter, label, text)]`` of every exercise in the book, in order."""
    found = []
    for path in NOTEBOOKS:
        for cell in json.loads(path.read_text())["cells"]:
            for label, text in EXERCISE.findall("".join(cell["source"])):
                found.append((path.stem, label, text))
    return found


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    subprocess.run([sys.executable, str(ROOT / "tools" / "student_edition.py"), "--out", str(out)],
                   check=True, capture_output=True, cwd=ROOT)
    return {path.stem: nbformat.read(path, as_version=4) for path in sorted(out.glob("*.ipynb"))}


# ---------------------------------------------------------------------------------------------
# The convention
# ---------------------------------------------------------------------------------------------


def test_the_registry_lists_exactly_the_books_exercises_in_order():
    assert [(e.chapter, e.label) for e in REGISTRY] == [(c, label) for c, label, _ in _book_exercises()]


def test_every_exercise_has_a_kind_from_the_vocabulary_and_points():
    for exercise in REGISTRY:
        assert exercise.kind in exercise_registry.KINDS
        assert exercise.points > 0 and exercise.minutes > 0
        assert (exercise.check is None) == (exercise.kind == "conceptual"), exercise.label


def test_every_checker_named_exists_and_every_checker_is_used():
    named = {e.check.checker for e in REGISTRY if e.check}
    offered = {name for name in gradcourse.exercises.__all__ if name.startswith("check_")}
    assert named == offered


def test_the_exercise_text_names_the_function_and_its_checker():
    texts = {label: text for _, label, text in _book_exercises()}
    for exercise in REGISTRY:
        if exercise.check:
            text = texts[exercise.label]
            assert f"`{exercise.check.function}`" in text, f"{exercise.label}: signature not in the text"
            assert exercise.check.checker in text, f"{exercise.label}: checker not named in the text"
            assert re.search(r"exactly|10\^\{-\d+\}", text), f"{exercise.label}: no tolerance stated"


@pytest.mark.parametrize("change, words", [
    (lambda e: e.update(kind="essay"), "kind must be one of conceptual, numeric, code"),
    (lambda e: e.update(minutes=0), "minutes must be a positive whole number"),
    (lambda e: e.pop("written"), "a conceptual exercise needs a written part"),
    (lambda e: e["written"].update(points=2), "the rubric has 3 lines for 2 points"),
    (lambda e: e.update(check={"function": "f(x)", "checker": "check_f", "points": 1}), "a conceptual exercise has no check"),
    (lambda e: e.update(colour="red"), "fields must be"),
])
def test_a_malformed_entry_is_refused_with_a_clear_message(change, words):
    import yaml

    raw = yaml.safe_load((ROOT / "exercises.yml").read_text())
    change(raw[0])
    with pytest.raises(ValueError, match=re.escape(words)):
        exercise_registry.parse(raw)


def test_exercise_numbers_follow_the_chapters():
    numbers = exercise_registry.numbers(REGISTRY)
    assert numbers["ex-bptt-immediate"] == "1.1" and numbers["ex-rem-residual"] == "7.3"
    assert numbers["ex-matrix-direction"] == "3.2"


# ---------------------------------------------------------------------------------------------
# The student edition
# ---------------------------------------------------------------------------------------------


def _role_cells(nb, role):
    return [c for c in nb.cells if c.metadata.get("gradcourse", {}).get("role") == role]


def test_every_code_and_numeric_exercise_gets_a_stub_and_a_check(edition):
    for exercise in REGISTRY:
        nb = edition[exercise.chapter]
        number = exercise_registry.numbers(REGISTRY)[exercise.label]
        answers = [c for c in _role_cells(nb, "answer") if c.metadata["gradcourse"]["exercise"] == exercise.label]
        checks = [c for c in _role_cells(nb, "check") if c.metadata["gradcourse"]["exercise"] == exercise.label]
        written = [c for c in _role_cells(nb, "written") if c.metadata["gradcourse"]["exercise"] == exercise.label]
        assert len(answers) == len(checks) == (1 if exercise.check else 0), exercise.label
        assert len(written) == (1 if exercise.written else 0), exercise.label
        if exercise.check:
            assert f"def {exercise.check.function}:" in answers[0].source
            assert f'raise NotImplementedError("Exercise {number}: ' in answers[0].source
            assert f"{exercise.check.checker}({exercise.check.function_name})" in checks[0].source


def test_no_myst_markup_is_left_for_plain_jupyter(edition):
    for name, nb in edition.items():
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                assert not student_edition.LEFTOVER.search(cell.source), (name, cell.source[:120])
                assert "{glue" not in cell.source and "```{" not in cell.source


def test_exercises_become_numbered_headings_and_values_are_pasted(edition):
    text = "\n".join(c.source for c in edition["02_scalar"].cells if c.cell_type == "markdown")
    assert "### Exercise 2.1: How long does 0.9 take?" in text
    assert "*Numeric · about 10 minutes · 3 points (2 by the check + 1 for the written part)*" in text
    glued = student_edition.glued_values(nbformat.read(ROOT / "book" / "02_scalar.ipynb", as_version=4))
    some = [v for k, v in glued.items() if len(v) >= 3][:5]
    assert some and all(v in text for v in some)


def test_a_reference_to_another_chapter_links_to_its_section_there(edition):
    chapter_3 = "\n".join(c.source for c in edition["03_matrix"].cells if c.cell_type == "markdown")
    chapter_6 = "\n".join(c.source for c in edition["06_clipping"].cells if c.cell_type == "markdown")
    assert "[A training run that explodes](06_clipping.ipynb#sec-explodes)" in chapter_3
    assert '<a id="sec-explodes"></a>' in chapter_6


def test_citations_read_author_year_with_a_reference_list(edition):
    cells = edition["01_bptt"].cells
    text = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    assert "(Werbos, 1990)" in text
    assert cells[-1].source.startswith("## References") and "Backpropagation through time" in cells[-1].source


def test_figure_captions_show_under_their_figures(edition):
    book = nbformat.read(ROOT / "book" / "03_matrix.ipynb", as_version=4)
    captions = [c.metadata["mystnb"]["figure"]["caption"] for c in book.cells
                if c.metadata.get("mystnb", {}).get("figure", {}).get("caption")]
    cells = edition["03_matrix"].cells
    shown = [cells[i + 1].source for i, c in enumerate(cells[:-1]) if c.metadata.get("mystnb", {}).get("figure")]
    assert len(captions) >= 3
    assert shown == [f"**Figure 3.{i}.** {caption}" for i, caption in enumerate(captions, start=1)]


def test_the_colab_install_cell_stays_first(edition):
    for nb in edition.values():
        assert "pip install" in nb.cells[0].source


def _solution_lines():
    """Distinctive lines of solution cells (source and printed output) found nowhere else in the book."""
    def lines(cells):
        found = set()
        for cell in cells:
            texts = ["".join(cell["source"])]
            texts += ["".join(o.get("text", "")) for o in cell.get("outputs", [])]
            texts += ["".join(o.get("data", {}).get("text/plain", "")) for o in cell.get("outputs", [])]
            for text in texts:
                found |= {line.strip() for line in text.splitlines() if len(line.strip()) >= 25}
        return found

    cells = [c for path in NOTEBOOKS for c in json.loads(path.read_text())["cells"]]
    solution = lines(c for c in cells if "solution" in c["metadata"].get("tags", []))
    elsewhere = lines(c for c in cells if "solution" not in c["metadata"].get("tags", []))
    return solution - elsewhere


def _written_lines(notebooks):
    """Every line a notebook holds: sources, printed and displayed outputs, cell metadata."""
    texts = []
    for nb in notebooks:
        for cell in nb.cells:
            texts += [cell.source, json.dumps(cell.metadata, ensure_ascii=False)]
            for output in cell.get("outputs", []):
                texts.append("".join(output.get("text", "")))
                texts += [str(value) for value in output.get("data", {}).values()]
    return {line.strip() for text in texts for line in text.splitlines()}


def _leaks(notebooks):
    """Lines of solutions and rubrics found in ``notebooks`` (the edition's on-purpose lines aside)."""
    on_purpose = set()  # what the edition writes from the registry alone: the stubs' first lines, the checks
    for e in REGISTRY:
        if e.check:
            on_purpose |= {f"def {e.check.function}:", f"{e.check.checker}({e.check.function_name})",
                           f"from gradcourse.exercises import {e.check.checker}"}
    written = _written_lines(notebooks)
    rubric = {line for e in REGISTRY if e.written for line in e.written.rubric}
    text = "\n".join(written)
    return sorted(line for line in _solution_lines() - on_purpose if line in written) + \
        sorted(line for line in rubric if line in text)


def test_nothing_of_a_solution_or_a_rubric_is_written(edition):
    assert not _leaks(edition.values())
    for name, nb in edition.items():
        assert not any("solution" in c.metadata.get("tags", []) for c in nb.cells)
        solution_keys = {o.get("metadata", {}).get("scrapbook", {}).get("name")
                         for c in nbformat.read(ROOT / "book" / f"{name}.ipynb", as_version=4).cells
                         if "solution" in c.metadata.get("tags", []) for o in c.get("outputs", [])} - {None}
        kept_keys = {o.get("metadata", {}).get("scrapbook", {}).get("name") for c in nb.cells for o in c.get("outputs", [])}
        assert not solution_keys & kept_keys, name


def test_the_leak_search_finds_the_solutions_in_the_book_itself():
    """The control: the same search, run on the chapters with their solutions, finds plenty."""
    assert len(_leaks(nbformat.read(path, as_version=4) for path in NOTEBOOKS)) > 100


def test_a_chapter_whose_markup_cannot_be_converted_is_refused(tmp_path):
    nb = nbformat.read(ROOT / "book" / "02_scalar.ipynb", as_version=4)
    nb.cells.insert(2, nbformat.v4.new_markdown_cell("See {numref}`fig-wall`."))
    path = tmp_path / "02_scalar.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(student_edition.StudentEditionError, match="MyST markup the student edition cannot convert"):
        student_edition.write([path], tmp_path / "out")


def _execute(path):
    return subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                           "--inplace", str(path)], capture_output=True, text=True,
                          env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})


def test_the_student_edition_runs_top_to_bottom_and_every_check_says_not_attempted(tmp_path):
    written = student_edition.write(NOTEBOOKS, tmp_path)
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(_execute, written))
    for path, result in zip(written, results):
        assert result.returncode == 0, f"{path.name}: {result.stderr[-1500:]}"
        nb = nbformat.read(path, as_version=4)
        for cell in _role_cells(nb, "check"):
            shown = "".join(o.get("data", {}).get("text/plain", "") for o in cell.outputs)
            assert shown.startswith("Not attempted:"), (path.name, shown[:200])
