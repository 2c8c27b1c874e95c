"""How long grading a class takes: 100 hand-ins of one chapter, graded 2 at a time.

    python benchmarks/grade_class.py [--chapter 01_bptt] [--students 100] [--jobs 2]

The class is made from the student edition: 60 hand-ins with every function correct (the
worked solutions of tests/test_exercises.py), 25 with one wrong answer, 10 left blank and 5
that are not notebooks at all. It prints the wall time and the time per hand-in, and checks
that every hand-in got the rows it should. Timings depend on the machine, so they are
measured here, not asserted in the tests.
"""

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tools"), str(ROOT / "tests")]

import nbformat  # noqa: E402

import exercise_registry  # noqa: E402
import grade  # noqa: E402
import student_edition  # noqa: E402
from test_grading import _fill, correct_answer  # noqa: E402  (the worked solutions, as a student pastes them)

WRONG = "def {name}(*args):\n    return 0.0\n"


def make_class(folder, chapter, students):
    registry = exercise_registry.load()
    exercises = [e for e in registry if e.chapter == chapter]
    blank = nbformat.read(student_edition.write([ROOT / "book" / f"{chapter}.ipynb"], folder / "edition")[0],
                          as_version=4)
    correct = {e.label: correct_answer(e) for e in exercises if e.check}
    first = next(e for e in exercises if e.check)
    one_wrong = dict(correct, **{first.label: WRONG.format(name=first.check.function_name)})
    class_folder = folder / "class"
    class_folder.mkdir()
    for i in range(students):
        path = class_folder / f"student_{i:03d}.ipynb"
        kind = i % 20
        if kind < 12:
            nbformat.write(_fill(nbformat.from_dict(blank), correct), path)
        elif kind < 17:
            nbformat.write(_fill(nbformat.from_dict(blank), one_wrong), path)
        elif kind < 19:
            nbformat.write(blank, path)
        else:
            path.write_text("this is not a notebook")
    return class_folder, exercises


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chapter", default="01_bptt")
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder, exercises = make_class(Path(tmp), args.chapter, args.students)
        start = time.perf_counter()
        rows = grade.grade_folder(folder, chapter=args.chapter, jobs=args.jobs)
        seconds = time.perf_counter() - start
    parts = sum((e.check is not None) + (e.written is not None) for e in exercises)
    assert len(rows) == args.students * parts, (len(rows), args.students * parts)
    print(f"{args.chapter}: {args.students} hand-ins ({parts} graded parts each) in {seconds:.1f} s with "
          f"{args.jobs} jobs, {seconds / args.students:.2f} s per hand-in")
    print("  statuses:", dict(Counter(row.status for row in rows)))


if __name__ == "__main__":
    main()
