"""The grading command: full marks for correct work, zero for a blank edition, a row for every
broken submission, no credit for tampering, and the same verdicts as the checkers give in a
student's own notebook.

The correct answers are the worked solutions of ``test_exercises.py`` (its ``*_reference``
functions), pasted into the stubs of the student edition as a student would.
"""

import inspect
import re
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(Path(__file__).parent))
import exercise_registry  # noqa: E402
import grade  # noqa: E402
import grading_wire as wire  # noqa: E402
import student_edition  # noqa: E402
import test_exercises  # noqa: E402  (the worked solutions)

import gradcourse.exercises as exercises  # noqa: E402

REGISTRY = exercise_registry.load()
CODE = [e for e in REGISTRY if e.check]
#: The reference solution of each function the students write, where its name differs.
REFERENCE = {"my_sigmoid": "stable_sigmoid_reference", "my_clip": "clip_by_global_norm_reference"}


def _reference_name(function_name):
    return REFERENCE.get(function_name, f"{function_name}_reference")


def correct_answer(exercise):
    """The answer cell a student with the worked solution would hand in."""
    source = inspect.getsource(getattr(test_exercises, _reference_name(exercise.check.function_name)))
    for other in CODE:  # one solution may call another (state_jacobian calls step_jacobian)
        source = source.replace(_reference_name(other.check.function_name), other.check.function_name)
    return ("import math\nfrom functools import reduce\n\nimport numpy as np\n\n"
            "from gradcourse.activations import sigmoid, sigmoid_prime\n\n" + source)


def _edition(tmp_path, chapter):
    return nbformat.read(student_edition.write([ROOT / "book" / f"{chapter}.ipynb"], tmp_path / "edition")[0],
                         as_version=4)


def _fill(nb, answers=None, written="An answer in words."):
    for cell in nb.cells:
        label, role = cell.metadata.get("gradcourse", {}).get("exercise"), cell.metadata.get("gradcourse", {}).get("role")
        if role == "answer" and answers is not None and label in answers:
            cell.source = answers[label]
        if role == "written" and written:
            cell.source = written
    return nb


def _grade(tmp_path, submissions, **kwargs):
    folder = tmp_path / "handed_in"
    folder.mkdir(exist_ok=True)
    for name, nb in submissions.items():
        if isinstance(nb, str):
            (folder / name).write_text(nb)
        else:
            nbformat.write(nb, folder / name)
    rows = grade.grade_folder(folder, **kwargs)
    return {(row.student, row.exercise, row.part): row for row in rows}


CHAPTERS = list(exercise_registry.by_chapter(REGISTRY))


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_a_correct_submission_scores_full(tmp_path, chapter):
    answers = {e.label: correct_answer(e) for e in CODE if e.chapter == chapter}
    rows = _grade(tmp_path, {"ada.ipynb": _fill(_edition(tmp_path, chapter), answers)})
    exercises_here = exercise_registry.by_chapter(REGISTRY)[chapter]
    for e in exercises_here:
        if e.check:
            row = rows["ada.ipynb", e.label, "check"]
            assert (row.status, row.points) == ("passed", e.check.points), row.message
        if e.written:
            assert rows["ada.ipynb", e.label, "written"].status == "to mark"
    assert len(rows) == sum((e.check is not None) + (e.written is not None) for e in exercises_here)


def test_a_blank_student_edition_scores_zero_without_errors(tmp_path):
    submissions = {f"{c}.ipynb": _edition(tmp_path, c) for c in CHAPTERS}
    rows = _grade(tmp_path, submissions)
    assert len(rows) == sum((e.check is not None) + (e.written is not None) for e in REGISTRY)
    for row in rows.values():
        assert (row.status, row.points) == ("not attempted", 0), (row.exercise, row.message)


def test_broken_submissions_get_a_row_saying_so_and_the_rest_are_graded(tmp_path):
    chapter = "02_scalar"
    good = {e.label: correct_answer(e) for e in CODE if e.chapter == chapter}
    looping = dict(good, **{"ex-scalar-band": "def unstable_half_width(w):\n    while True:\n        pass\n"})
    dying = dict(good, **{"ex-scalar-steps": "import os\ndef steps_to_shrink(factor, threshold):\n    os._exit(3)\n"})
    rows = _grade(tmp_path, {
        "malformed.ipynb": '{"cells": [',
        "notes.pdf": "%PDF-1.4",
        "looping.ipynb": _fill(_edition(tmp_path, chapter), looping),
        "dying.ipynb": _fill(_edition(tmp_path, chapter), dying),
    }, chapter=chapter, time_limit=3)
    for student, why in (("malformed.ipynb", "cannot be read"), ("notes.pdf", "not a notebook")):
        assert {r.status for k, r in rows.items() if k[0] == student} == {"error"}
        parts = sum((e.check is not None) + (e.written is not None) for e in REGISTRY if e.chapter == chapter)
        assert len([k for k in rows if k[0] == student]) == parts  # a row for every part, for the summary
        assert why in rows[student, "ex-scalar-steps", "check"].message
    assert "longer than the time limit of 3 s" in rows["looping.ipynb", "ex-scalar-band", "check"].message
    assert rows["looping.ipynb", "ex-scalar-steps", "check"].status == "passed"  # graded before the loop
    assert "died" in rows["dying.ipynb", "ex-scalar-steps", "check"].message
    assert rows["dying.ipynb", "ex-scalar-band", "check"].status == "passed"  # graded in a fresh process


def test_answers_are_found_where_students_put_them(tmp_path):
    """A new cell under the untouched stub, a helper in another cell, a trial call on a chapter
    variable, a cell magic; a written answer below its placeholder, and in copied cells."""
    chapter = "02_scalar"
    nb = _edition(tmp_path, chapter)
    stub = next(i for i, c in enumerate(nb.cells) if c.metadata.get("gradcourse", {}).get("role") == "answer")
    nb.cells.insert(stub + 1, nbformat.v4.new_code_cell(
        "%%time\ndef steps_to_shrink(factor, threshold):\n    return _first_k(factor, threshold)\n\n"
        "steps_to_shrink(factor_of_the_chapter, 1e-6)  # a trial call that would raise NameError\n"))
    nb.cells.insert(2, nbformat.v4.new_code_cell(
        "import numpy as np\nLOG = np.log\n\ndef _first_k(factor, threshold):\n"
        "    return int(np.floor(LOG(threshold) / LOG(factor))) + 1\n"))
    written = next(i for i, c in enumerate(nb.cells) if c.metadata.get("gradcourse", {}).get("role") == "written")
    nb.cells.insert(written + 1, nbformat.v4.new_markdown_cell("k = 132, since 0.9^131 is still above."))
    copied = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(c.source) if c.cell_type == "markdown"
                                             else nbformat.v4.new_code_cell(c.source) for c in nb.cells])
    copied.metadata = {}
    rows = _grade(tmp_path, {"own_cells.ipynb": nb, "copied_02_scalar.ipynb": copied}, chapter=chapter)
    for student in ("own_cells.ipynb", "copied_02_scalar.ipynb"):
        assert rows[student, "ex-scalar-steps", "check"].status == "passed", rows[student, "ex-scalar-steps", "check"]
        row = rows[student, "ex-scalar-steps", "written"]
        assert (row.status, row.answer) == ("to mark", "k = 132, since 0.9^131 is still above.")


def test_calling_the_checkers_own_reference_is_not_credited(tmp_path):
    cheat = ("from gradcourse.exercises.scalar import _steps_by_multiplying\n\n"
             "def steps_to_shrink(factor, threshold):\n    return _steps_by_multiplying(factor, threshold)\n")
    row = _grade(tmp_path, {"eve.ipynb": _fill(_edition(tmp_path, "02_scalar"), {"ex-scalar-steps": cheat})})[
        "eve.ipynb", "ex-scalar-steps", "check"]
    assert (row.status, row.points) == ("failed", 0)
    assert "a part of the checker itself" in row.message


@pytest.mark.skipif(not grade._isolation(), reason="Linux's unshare is not available to put workers apart")
def test_a_hand_in_cannot_signal_the_grader_or_another_students_process(tmp_path):
    import os

    chapter = "02_scalar"
    good = {e.label: correct_answer(e) for e in CODE if e.chapter == chapter}
    killer = dict(good, **{"ex-scalar-steps": (
        f"import os, signal\ndef steps_to_shrink(factor, threshold):\n"
        f"    for pid in ({os.getpid()}, os.getppid()):\n"
        f"        try:\n            os.kill(pid, signal.SIGTERM)\n        except OSError:\n            pass\n"
        f"    return 0\n")})
    rows = _grade(tmp_path, {"a_killer.ipynb": _fill(_edition(tmp_path, chapter), killer),
                             "b_honest.ipynb": _fill(_edition(tmp_path, chapter), good)}, chapter=chapter)
    assert rows["b_honest.ipynb", "ex-scalar-steps", "check"].status == "passed"
    assert rows["a_killer.ipynb", "ex-scalar-band", "check"].status == "passed"


def test_the_command_keeps_an_existing_table_and_the_summary_waits_for_marks(tmp_path):
    folder = tmp_path / "handed_in"
    folder.mkdir()
    nbformat.write(_fill(_edition(tmp_path, "02_scalar"), {}), folder / "ada.ipynb")
    grade.main([str(folder)])
    summary = (folder / "grades-summary.csv").read_text().splitlines()
    written = [line for line in summary if ",written," in line]
    assert written and all(line.endswith(",") for line in written)  # no mean before the marking
    with pytest.raises(SystemExit):
        grade.main([str(folder)])
    grade.main([str(folder), "--overwrite"])


TAMPERING = '''
import gradcourse.exercises as ex
import gradcourse.exercises._feedback as fb
fb.Feedback.__bool__ = lambda self: True
fb.Feedback.__post_init__ = lambda self: None
ex.check_steps_to_shrink = lambda *a, **k: fb.Feedback(True, "Correct: trust me", "passed")
import grading_wire
grading_wire.encode = lambda value, depth=0: {"t": "int", "v": "132"}

def steps_to_shrink(factor, threshold):
    return 132
'''


def test_a_tampering_submission_is_not_credited(tmp_path):
    nb = _fill(_edition(tmp_path, "02_scalar"), {"ex-scalar-steps": TAMPERING})
    nb.cells.append(nbformat.v4.new_code_cell("check_steps_to_shrink = lambda f: 'Correct'"))  # never run
    row = _grade(tmp_path, {"mallory.ipynb": nb})["mallory.ipynb", "ex-scalar-steps", "check"]
    assert (row.status, row.points) == ("failed", 0)
    assert row.message.startswith("Not yet: steps_to_shrink fails")


WRONG = {  # function name -> source of a wrong answer whose verdict must be the same in both places
    "step_jacobian": "def step_jacobian(W_hh, a_t, f_prime):\n    return W_hh @ np.diag(f_prime(a_t))\n",
    "largest_singular_value": "def largest_singular_value(A):\n    return np.linalg.svd(A)[1][0]\n",
    "my_clip": ("def my_clip(grads, max_norm):\n    for g in grads.values():\n        g *= 0.5\n"
                "    return {k: v.copy() for k, v in grads.items()}\n"),
    "orthogonal": ("def orthogonal(n, rng):\n    q, r = np.linalg.qr(np.random.default_rng(0).normal(size=(n, n)))\n"
                   "    return q\n"),
    "my_sigmoid": "def my_sigmoid(a):\n    return 1 / (1 + np.exp(-a))\n",
    "add_identity_layers": "def add_identity_layers(params, k):\n    return params\n",
}


def _local(source, name):
    namespace = {"np": np}
    exec(source, namespace)  # noqa: S102  (a test's own source)
    return namespace[name]


@pytest.mark.parametrize("name", list(WRONG))
def test_the_grader_gives_the_verdict_the_checker_gives_in_the_notebook(name):
    exercise = next(e for e in CODE if e.check.function_name == name)
    checker = getattr(exercises, exercise.check.checker)
    here = checker(_local(WRONG[name], name), seed=7)
    worker = grade.Worker()
    try:
        worker.request({"op": "load", "statements": [("cell", WRONG[name])]}, 20, "too slow")
        there = checker(grade.StudentFunction(worker, name, 20), seed=7)
    finally:
        worker.close()
    assert not here and here.message == there.message


def test_shortcuts_in_place_changes_and_the_generator_are_seen_through_the_process():
    """The three things a checker learns besides the result: what it called, what it changed, what it drew."""
    worker = grade.Worker()
    try:
        worker.request({"op": "load", "statements": [(name, source) for name, source in WRONG.items()]}, 20,
                       "too slow")
        remote = lambda name: grade.StudentFunction(worker, name, 20)  # noqa: E731
        assert "do not call np.linalg.svd" in exercises.check_largest_singular_value(remote("largest_singular_value")).message
        assert "input gradients were modified" in exercises.check_clip_by_global_norm(remote("my_clip")).message
        assert "draw it from rng" in exercises.check_orthogonal(remote("orthogonal")).message
    finally:
        worker.close()


@pytest.mark.parametrize("value", [
    None, True, 3, 2**80, 1.5, float("nan"), -np.inf, np.float64(2.5), np.int32(7), np.bool_(False), "text",
    np.arange(6.0).reshape(2, 3), np.array([1, 2], dtype=np.int8), np.array(3.0), np.array([1 + 2j]),
    [1, [2.0, None]], (np.ones(2), "a"), {"W1": np.eye(2), "b1": np.zeros(2)},
])
def test_values_cross_between_processes_unchanged(value):
    back = wire.decode(wire.encode(value))
    assert type(back) is type(value)
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and np.array_equal(back, value)
    elif isinstance(value, dict):
        assert all(np.array_equal(back[k], value[k]) for k in value)
    elif isinstance(value, float) and np.isnan(value):
        assert np.isnan(back)
    elif not isinstance(value, (list, tuple)):
        assert back == value


def test_what_cannot_cross_arrives_described_and_a_forged_reply_reads_as_nothing():
    assert wire.describe(wire.decode(wire.encode(object()))) == "a object"
    assert wire.describe(wire.decode(wire.encode(np.array([object()])))) == "an array of shape (1,) and dtype object"
    forged = {"t": "array", "v": "bm90IGFuIGFycmF5"}
    assert re.match("a value the grader could not read", wire.describe(wire.decode(forged)))
