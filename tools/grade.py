"""Grade a folder of handed-back student notebooks into a table of points.

    python tools/grade.py SUBMISSIONS [--chapter 01_bptt] [--out grades.csv] [--jobs 2]
                          [--time-limit 20]

Every ``*.ipynb`` in SUBMISSIONS is one student's copy of one chapter of the student edition
(``tools/student_edition.py``). For each submission and each exercise part of that chapter in
``exercises.yml``, a row is written to ``--out`` (default ``SUBMISSIONS/grades.csv``):

    student, exercise, number, part, status, points, max_points, message

- ``part`` is ``check`` (the automatic check of a numeric or code exercise) or ``written``.
- ``status`` is ``passed``, ``failed`` or ``not attempted`` (the checker's verdict), ``error``
  (the notebook cannot be read, the answer cell raised, the function did not finish within
  ``--time-limit`` seconds, or its process died), or, for a written part, ``to mark`` (an answer
  is there: mark it by hand with the rubric in ``exercises.yml``) or ``not attempted``.
- ``points`` is the check's points if it passed, else 0; empty for a written part to mark.

A per-exercise summary goes to ``<out>`` with ``-summary`` before the extension.

How a submission is graded. Its answer cells (the cells the student edition marks as answers,
or failing that the cells that define the exercise's function), with the chapter's import
statements that bind a name they use, run in a fresh Python process, one per submission, with
nothing else of the notebook: whatever an answer needs must be in an answer cell (``np`` is
always there). The checkers
run here, in the grader's process, and reach the student's functions only through that
process (``grading_worker.py``): they send the arguments, and get back the result, the
exception, the library shortcuts called and the arguments as the function left them, as plain
data. Student code therefore cannot replace a checker or its verdict, whatever it patches or
prints. A function that runs past the time limit has its process killed; the exercises after
it are graded in a new process. Submissions are graded ``--jobs`` at a time.
"""

import argparse
import ast
import csv
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat
import numpy as np

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))
import exercise_registry  # noqa: E402
import grading_wire as wire  # noqa: E402
from student_edition import written_stub  # noqa: E402

import gradcourse.exercises  # noqa: E402
from gradcourse.exercises._forbid import Call, RemoteFunction  # noqa: E402

STATUSES = ("passed", "failed", "not attempted", "error", "to mark")
COLUMNS = ("student", "exercise", "number", "part", "status", "points", "max_points", "message")
MEMORY_LIMIT = 4 * 2**30  # bytes of address space for a worker
LOAD_TIME_LIMIT = 60.0  # seconds to start a worker, import what the answers need and run their cells


@dataclass
class Row:
    student: str
    exercise: str
    number: str
    part: str
    status: str
    points: object
    max_points: int
    message: str


class WorkerFailure(Exception):
    """The worker did not answer in time, died, or answered what cannot be read."""


class Worker:
    """One fresh Python process that holds one student's functions."""

    def __init__(self):
        to_child, self._write = os.pipe()
        self._read, from_child = os.pipe()
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        self._scratch = tempfile.TemporaryDirectory(prefix="grading-")
        self.process = subprocess.Popen(
            [sys.executable, str(TOOLS / "grading_worker.py"), str(to_child), str(from_child), str(MEMORY_LIMIT)],
            pass_fds=(to_child, from_child), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, cwd=self._scratch.name, env=env, start_new_session=True)
        os.close(to_child)
        os.close(from_child)
        self.failure = None

    def request(self, message, timeout):
        """Send ``message`` and wait at most ``timeout`` seconds for the reply."""
        if self.failure:
            raise WorkerFailure(self.failure)
        try:
            wire.send_request(self._write, message)
            ready, _, _ = select.select([self._read], [], [], timeout)
            if not ready:
                raise WorkerFailure(f"it did not finish within the time limit of {timeout:g} s")
            return wire.receive_reply(self._read)
        except (OSError, wire.WireError) as err:
            try:
                code = self.process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                code = None
            reason = f"its process died (exit code {code})" if code is not None else f"its process broke off ({err})"
            self.failure = reason
            raise WorkerFailure(reason) from None
        except WorkerFailure as err:
            self.failure = str(err)
            raise

    def close(self):
        if self.process.poll() is None:
            try:
                if not self.failure:
                    wire.send_request(self._write, {"op": "exit"})
                    self.process.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        for fd in (self._read, self._write):
            try:
                os.close(fd)
            except OSError:
                pass
        self._scratch.cleanup()


class StudentFunction(RemoteFunction):
    """A student's function, living in a :class:`Worker`; what a checker is given to call."""

    def __init__(self, worker, name, timeout):
        self.worker, self.__name__, self.timeout = worker, name, timeout

    def guarded_call(self, rules, args, record_warnings):
        reply = self.worker.request({"op": "call", "name": self.__name__, "rules": rules, "args": args,
                                     "record_warnings": record_warnings}, self.timeout)
        if not isinstance(reply, dict):
            raise WorkerFailure("its process answered what the grader cannot read")
        for arg, after in zip(args, reply.get("args") or []):
            _write_back(arg, wire.decode(after))
        text = lambda key: None if reply.get(key) is None else str(reply[key])  # noqa: E731
        return Call(value=wire.decode(reply.get("value", {"t": "none"})), error=text("error"),
                    forbidden=text("forbidden"), warnings=[str(w) for w in reply.get("warnings") or []],
                    not_attempted=reply.get("not_attempted") is True)

    def __call__(self, *args):
        result = self.guarded_call((), args, False)
        if result.error:
            raise RuntimeError(f"the function {result.error}")
        return result.value


def _write_back(original, after):
    """Make the checker's argument what the student's function left it (changes in place show)."""
    if isinstance(original, np.ndarray) and isinstance(after, np.ndarray):
        if after.shape == original.shape:
            with np.errstate(all="ignore"):
                original[...] = after.astype(original.dtype, copy=False)
    elif isinstance(original, dict) and isinstance(after, dict):
        for key in list(original):
            if key not in after:
                del original[key]
        for key, value in after.items():
            if key in original and isinstance(original[key], (np.ndarray, dict, list)):
                _write_back(original[key], value)
            else:
                original[key] = value
    elif isinstance(original, list) and isinstance(after, list) and len(after) == len(original):
        for i, value in enumerate(after):
            _write_back(original[i], value) if isinstance(original[i], (np.ndarray, dict, list)) else None
    elif isinstance(original, np.random.Generator) and isinstance(after, dict) and "rng state" in after:
        try:
            original.bit_generator.state = after["rng state"]
        except (TypeError, ValueError, KeyError):
            pass


# ---------------------------------------------------------------------------------------------
# Reading a submission
# ---------------------------------------------------------------------------------------------


def _role(cell):
    meta = cell.get("metadata", {}).get("gradcourse", {})
    return (meta.get("exercise"), meta.get("role")) if isinstance(meta, dict) else (None, None)


def _python(source):
    """The cell's source without IPython's magics and shell lines, or None if it is not Python."""
    lines = ["pass" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    text = "\n".join(lines)
    try:
        return ast.parse(text)
    except SyntaxError:
        return None


def _names_used(sources):
    used = set()
    for source in sources:
        tree = _python(source)
        used |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} if tree else set()
    return used


def imports_of(nb, answers):
    """The notebook's top-level import statements (outside the answer and check cells) that bind
    a name the ``answers`` use: what the answer cells need from the rest of the chapter."""
    used, found = _names_used(answers), []
    for cell in nb.cells:
        if cell.cell_type != "code" or _role(cell)[1] in ("answer", "check"):
            continue
        tree = _python(cell.source)
        for node in tree.body if tree else []:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                bound = {(alias.asname or alias.name).split(".")[0] for alias in node.names}
                if bound & used:
                    found.append(ast.unparse(node))
    return list(dict.fromkeys(found))


def answer_cell(nb, exercise):
    """The source of the cell that answers ``exercise``, or None if the notebook has none."""
    for cell in nb.cells:
        if cell.cell_type == "code" and _role(cell) == (exercise.label, "answer"):
            return cell.source
    pattern = re.compile(rf"^\s*def\s+{re.escape(exercise.check.function_name)}\s*\(", re.M)
    for cell in nb.cells:
        if cell.cell_type == "code" and _role(cell)[1] != "check" and pattern.search(cell.source):
            return cell.source
    return None


def written_answer(nb, exercise, number):
    """The student's written answer to ``exercise`` (None if not attempted)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and _role(cell) == (exercise.label, "written"):
            text = cell.source.strip()
            return None if not text or text == written_stub(number) else text
    return None


def chapter_of(nb, path, chapters):
    meta = nb.metadata.get("gradcourse", {})
    if isinstance(meta, dict) and meta.get("chapter") in chapters:
        return meta["chapter"]
    return next((c for c in chapters if path.stem.startswith(c) or c in path.stem), None)


# ---------------------------------------------------------------------------------------------
# Grading
# ---------------------------------------------------------------------------------------------


def _rows_for_failure(student, exercises, numbers, message):
    rows = []
    for exercise in exercises:
        for part, points in (("check", exercise.check), ("written", exercise.written)):
            if points:
                rows.append(Row(student, exercise.label, numbers[exercise.label], part, "error", 0, points.points,
                                message))
    return rows


def _load(worker, nb, exercises, timeout):
    cells = [(e.label, answer_cell(nb, e)) for e in exercises if e.check and answer_cell(nb, e) is not None]
    reply = worker.request({"op": "load", "imports": imports_of(nb, [source for _, source in cells]), "cells": cells,
                            "names": {e.label: e.check.function_name for e in exercises if e.check}},
                           max(timeout, LOAD_TIME_LIMIT))
    found = {label for label, _ in cells}
    return found, reply.get("cells", {}), reply.get("functions", {})


def grade_checks(student, nb, exercises, numbers, timeout):
    """Rows for the automatic checks of one submission."""
    rows, pending = [], [e for e in exercises if e.check]
    while pending:
        worker = Worker()
        try:
            try:
                found, cell_errors, defined = _load(worker, nb, pending, timeout)
            except WorkerFailure as err:
                rows += [_row(student, e, numbers, "error", f"running the answer cells failed: {err}") for e in pending]
                return rows
            while pending:
                exercise = pending.pop(0)
                rows.append(_check_one(student, worker, exercise, numbers, found, cell_errors, defined, timeout))
                if worker.failure:
                    break  # the rest in a fresh process
        finally:
            worker.close()
    return rows


def _row(student, exercise, numbers, status, message, points=0):
    return Row(student, exercise.label, numbers[exercise.label], "check", status, points, exercise.check.points,
               message)


def _check_one(student, worker, exercise, numbers, found, cell_errors, defined, timeout):
    name = exercise.check.function_name
    if exercise.label not in found:
        return _row(student, exercise, numbers, "not attempted", f"no cell defines {name}")
    if cell_errors.get(exercise.label):
        return _row(student, exercise, numbers, "error", f"the answer cell raised {cell_errors[exercise.label]}")
    if not defined.get(exercise.label):
        return _row(student, exercise, numbers, "error", f"after its cell ran, {name} is not a function")
    checker = getattr(gradcourse.exercises, exercise.check.checker)
    feedback = checker(StudentFunction(worker, name, timeout))
    if worker.failure:
        return _row(student, exercise, numbers, "error", f"{name}: {worker.failure}")
    points = exercise.check.points if feedback.status == "passed" else 0
    return _row(student, exercise, numbers, feedback.status, feedback.message, points)


def grade_written(student, nb, exercises, numbers):
    rows = []
    for exercise in exercises:
        if exercise.written:
            answer = written_answer(nb, exercise, numbers[exercise.label])
            status, points, message = ("not attempted", 0, "no answer written") if answer is None else (
                "to mark", "", f"{len(answer.split())} words: mark with the rubric of {exercise.label} in exercises.yml")
            rows.append(Row(student, exercise.label, numbers[exercise.label], "written", status, points,
                            exercise.written.points, message))
    return rows


def grade_submission(path, registry, chapter=None, timeout=20.0):
    """All rows for one handed-back notebook; never raises on what the notebook holds."""
    numbers = exercise_registry.numbers(registry)
    chapters = exercise_registry.by_chapter(registry)
    student = path.name
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as err:  # noqa: BLE001  (anything a file can be)
        nb, reason = None, f"the notebook cannot be read ({type(err).__name__}: {str(err)[:200]})"
    found_chapter = chapter or (chapter_of(nb, path, chapters) if nb is not None else None)
    if found_chapter is None:
        return [Row(student, "", "", "", "error", 0, 0,
                    reason if nb is None else "the notebook names no chapter of the course: pass --chapter")]
    exercises = chapters[found_chapter]
    if nb is None:
        return _rows_for_failure(student, exercises, numbers, reason)
    return grade_checks(student, nb, exercises, numbers, timeout) + grade_written(student, nb, exercises, numbers)


def summarize(rows):
    """Per exercise part: how many submissions got each status, and the mean points."""
    groups = {}
    for row in rows:
        if row.exercise:
            groups.setdefault((row.number, row.exercise, row.part, row.max_points), []).append(row)
    summary = []
    for (number, label, part, max_points), group in sorted(groups.items(),
                                                           key=lambda kv: (tuple(map(int, kv[0][0].split("."))), kv[0][2])):
        counts = Counter(row.status for row in group)
        scored = [row.points for row in group if row.points != ""]
        mean = f"{sum(scored) / len(scored):.2f}" if scored else ""
        summary.append({"exercise": label, "number": number, "part": part, "max_points": max_points,
                        "submissions": len(group), **{status: counts.get(status, 0) for status in STATUSES},
                        "mean_points": mean})
    return summary


def grade_folder(folder, *, chapter=None, jobs=2, timeout=20.0, registry=None):
    """Rows for every notebook in ``folder``, graded ``jobs`` at a time."""
    registry = registry or exercise_registry.load()
    paths = sorted(Path(folder).glob("*.ipynb"))
    if not paths:
        raise ValueError(f"folder {folder} holds no .ipynb submissions")
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        per_file = list(pool.map(lambda p: grade_submission(p, registry, chapter, timeout), paths))
    return [row for rows in per_file for row in rows]


def write_csv(path, rows, columns):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("submissions", type=Path, help="folder of handed-back .ipynb files, one per student")
    parser.add_argument("--chapter", help="the chapter graded, e.g. 01_bptt (default: read from each notebook)")
    parser.add_argument("--out", type=Path, help="the grades table (default: SUBMISSIONS/grades.csv)")
    parser.add_argument("--jobs", type=int, default=2, help="submissions graded at a time (default 2)")
    parser.add_argument("--time-limit", type=float, default=20.0,
                        help="seconds a student's function may take over one exercise's check (default 20)")
    args = parser.parse_args(argv)
    registry = exercise_registry.load()
    if args.chapter and args.chapter not in exercise_registry.by_chapter(registry):
        parser.error(f"--chapter must be one of {', '.join(exercise_registry.by_chapter(registry))}, got {args.chapter!r}")
    if args.jobs < 1 or args.time_limit <= 0:
        parser.error("--jobs must be at least 1 and --time-limit positive")
    if not args.submissions.is_dir():
        parser.error(f"{args.submissions} is not a folder")
    out = args.out or args.submissions / "grades.csv"
    start = time.perf_counter()
    try:
        rows = grade_folder(args.submissions, chapter=args.chapter, jobs=args.jobs, timeout=args.time_limit,
                            registry=registry)
    except ValueError as err:
        parser.exit(1, f"grade: {err}\n")
    write_csv(out, [asdict(row) for row in rows], COLUMNS)
    summary = summarize(rows)
    summary_path = out.with_name(out.stem + "-summary" + out.suffix)
    write_csv(summary_path, summary, list(summary[0]) if summary else ["exercise"])
    n_students = len({row.student for row in rows})
    print(f"graded {n_students} submissions in {time.perf_counter() - start:.1f} s: {out}, {summary_path}")
    for line in summary:
        counts = ", ".join(f"{line[s]} {s}" for s in STATUSES if line[s])
        print(f"  Exercise {line['number']} {line['part']:7s} ({line['max_points']} pt): {counts}")


if __name__ == "__main__":
    main()
