"""Grade a folder of handed-back student notebooks into a table of points.

    python tools/grade.py SUBMISSIONS [--chapter 01_bptt] [--out grades.csv] [--jobs 2]
                          [--time-limit 20]

Every file in SUBMISSIONS (hidden files aside) is one student's hand-in: a copy of one chapter
of the student edition (``tools/student_edition.py``); any other file gets rows saying so. For
each hand-in and each exercise part of that chapter in ``exercises.yml``, a row is written to
``--out`` (default ``SUBMISSIONS/grades.csv``; an existing table is kept unless ``--overwrite``):

    student, exercise, number, part, status, points, max_points, message, answer

- ``part`` is ``check`` (the automatic check of a numeric or code exercise) or ``written``.
- ``status`` is ``passed``, ``failed`` or ``not attempted`` (the checker's verdict), ``error``
  (the notebook cannot be read, the answer cell raised, the function did not finish within
  ``--time-limit`` seconds, or its process died), or, for a written part, ``to mark`` (an answer
  is there: mark it by hand with the rubric in ``exercises.yml``) or ``not attempted``.
- ``points`` is the check's points if it passed, else 0; empty for a written part to mark.
- ``answer`` is the text of a written part, to mark in the table itself.

A per-exercise summary goes to ``<out>`` with ``-summary`` before the extension.

How a submission is graded. From its code cells (not the check cells), the functions and
classes defined at top level, constants, and the imports those use run in a fresh Python
process, one per submission, in a PID namespace of its own where Linux allows it (``unshare``);
nothing else of the notebook runs, so trial calls, loops or training left in a cell cannot make
an answer fail or hang, and the last definition of a function wins, as when the notebook runs.
The checkers run here, in the grader's process, and reach the student's functions only through
that process (``grading_worker.py``): they send the arguments, and get back the result, the
exception, the library shortcuts called and the arguments as the function left them, as plain
data. Student code therefore cannot replace a checker or its verdict, whatever it patches or
prints, nor (in its namespace) signal the grader or another student's process. A check that
runs past the time limit has its process killed; the exercises after it are graded in a new
process. Submissions are graded ``--jobs`` at a time.
"""

import argparse
import ast
import csv
import functools
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
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
COLUMNS = ("student", "exercise", "number", "part", "status", "points", "max_points", "message", "answer")
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
    answer: str = ""  # a written part's text, for marking


class WorkerFailure(Exception):
    """The worker did not answer in time, died, or answered what cannot be read."""


@functools.lru_cache(maxsize=None)
def _isolation():
    """The command that starts a worker in a process namespace of its own, or () where unavailable.

    In its own PID namespace (Linux's ``unshare``), a student's code cannot see or signal the
    grader or another student's worker, and every process it forks dies with it.
    """
    command = ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc"]
    if os.geteuid() != 0:
        command[1:1] = ["--user", "--map-root-user"]
    try:
        works = subprocess.run([*command, "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        works = False
    return tuple(command) if works else ()


class Worker:
    """One fresh Python process that holds one student's functions."""

    def __init__(self):
        to_child, self._write = os.pipe()
        self._read, from_child = os.pipe()
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        self._scratch = tempfile.TemporaryDirectory(prefix="grading-")
        self.process = subprocess.Popen(
            [*_isolation(), sys.executable, str(TOOLS / "grading_worker.py"), str(to_child), str(from_child),
             str(MEMORY_LIMIT)],
            pass_fds=(to_child, from_child), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, cwd=self._scratch.name, env=env, start_new_session=True)
        os.close(to_child)
        os.close(from_child)
        self.failure = None

    def request(self, message, timeout, on_timeout):
        """Send ``message`` and wait at most ``timeout`` seconds for the reply (else fail with
        ``on_timeout``, words for the verdict)."""
        if self.failure:
            raise WorkerFailure(self.failure)
        try:
            wire.send_request(self._write, message)
            ready, _, _ = select.select([self._read], [], [], timeout)
            if not ready:
                raise WorkerFailure(on_timeout)
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
        if self.process.poll() is None and not self.failure:
            try:
                wire.send_request(self._write, {"op": "exit"})
                self.process.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        try:  # the worker and anything it started in its session
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        for fd in (self._read, self._write):
            try:
                os.close(fd)
            except OSError:
                pass
        self._scratch.cleanup()


class StudentFunction(RemoteFunction):
    """A student's function, living in a :class:`Worker`; what a checker is given to call."""

    def __init__(self, worker, name, time_limit):
        self.worker, self.__name__, self.time_limit = worker, name, time_limit
        self.deadline = time.monotonic() + time_limit

    def guarded_call(self, rules, args, record_warnings):
        left = self.deadline - time.monotonic()
        if left <= 0:
            self.worker.failure = f"the check took longer than the time limit of {self.time_limit:g} s"
            raise WorkerFailure(self.worker.failure)
        reply = self.worker.request({"op": "call", "name": self.__name__, "rules": rules, "args": args,
                                     "record_warnings": record_warnings}, left,
                                    f"the check took longer than the time limit of {self.time_limit:g} s")
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


#: CPython 3.11 can fail ("AST constructor recursion depth mismatch") when threads build ASTs at
#: once (its issue 106905): submissions are read before any thread starts (see prepare), and
#: under this lock besides.
_AST_LOCK = threading.Lock()


def _python(source):
    """The cell's source parsed, with IPython's magics and shell lines as ``pass``; None if not Python."""
    lines = ["pass" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    try:
        with _AST_LOCK:
            return ast.parse("\n".join(lines))
    except (SyntaxError, ValueError):
        return None


def _constant(node):
    """Whether an assignment only binds names to values computed without calls (``EPS = 1e-6``)."""
    return (isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None
            and all(isinstance(t, ast.Name) for t in (node.targets if isinstance(node, ast.Assign) else [node.target]))
            and not any(isinstance(n, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom, ast.Lambda))
                        for n in ast.walk(node.value)))


def definitions(nb):
    """What a student's functions need from their notebook, as ``[(where, source)]`` in order.

    From every code cell except the check cells: the functions and classes defined at top level
    (so a helper in another cell, or a new cell below an untouched stub, counts: the last
    definition wins, as when the notebook runs), assignments of constants, and the import
    statements that bind a name those use. Nothing else runs: no trial calls, loops or
    training, so code the student left around an answer cannot make it fail or hang.
    """
    chosen, imports = [], []
    for index, cell in enumerate(nb.cells, start=1):
        if cell.get("cell_type") != "code" or _role(cell)[1] == "check":
            continue
        tree = _python(cell.get("source", ""))
        for node in tree.body if tree else []:
            where = f"cell {index}, line {node.lineno}"
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                imports.append((where, node))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or _constant(node):
                chosen.append((where, node))
    used = {n.id for _, node in chosen for n in ast.walk(node) if isinstance(n, ast.Name)}
    used |= {n.value.id for _, node in chosen for n in ast.walk(node)
             if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
    needed = [(where, node) for where, node in imports
              if {(a.asname or a.name).split(".")[0] for a in node.names} & used]
    with _AST_LOCK:
        return [(where, ast.unparse(node)) for where, node in needed + chosen]


def defined_functions(nb):
    """The names of the functions that code cells (other than checks) define at top level."""
    names = set()
    for cell in nb.cells:
        if cell.get("cell_type") == "code" and _role(cell)[1] != "check":
            tree = _python(cell.get("source", ""))
            names |= {node.name for node in (tree.body if tree else [])
                      if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return frozenset(names)


def _marker(number):
    return f"**Your answer to Exercise {number}:**"


def written_answer(nb, exercise, number):
    """The student's written answer to ``exercise`` (None if not attempted).

    The answer is the text of the answer cell (found by its metadata, or, in a notebook whose
    cells were copied, by its first words) without the placeholder, plus any Markdown cells the
    student added right below it.
    """
    cells = nb.cells
    start = next((i for i, c in enumerate(cells) if c.get("cell_type") == "markdown"
                  and _role(c) == (exercise.label, "written")), None)
    if start is None:
        start = next((i for i, c in enumerate(cells) if c.get("cell_type") == "markdown"
                      and c.get("source", "").lstrip().startswith(_marker(number))), None)
    if start is None:
        return None
    parts = [cells[start].get("source", "").replace(written_stub(number), "").replace(_marker(number), "")]
    for cell in cells[start + 1:]:
        source = cell.get("source", "")
        if cell.get("cell_type") != "markdown" or _role(cell)[1] or source.lstrip().startswith(("### Exercise", "## ")) \
                or "**Your answer to Exercise" in source:
            break
        parts.append(source)
    text = "\n\n".join(part.strip() for part in parts if part.strip())
    return text or None


def chapter_of(nb, path, chapters):
    meta = nb.metadata.get("gradcourse", {})
    if isinstance(meta, dict) and meta.get("chapter") in chapters:
        return meta["chapter"]
    return next((c for c in chapters if c in path.stem), None)


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


def _row(student, exercise, numbers, status, message, points=0):
    return Row(student, exercise.label, numbers[exercise.label], "check", status, points, exercise.check.points,
               message)


def grade_checks(submission, numbers, time_limit):
    """Rows for the automatic checks of one submission."""
    rows, pending = [], [e for e in submission.exercises if e.check]
    student = submission.student
    while pending:
        worker = Worker()
        try:
            try:
                reply = worker.request({"op": "load", "statements": submission.statements}, LOAD_TIME_LIMIT,
                                       f"defining the functions took longer than {LOAD_TIME_LIMIT:g} s")
            except WorkerFailure as err:
                return rows + [_row(student, e, numbers, "error", f"defining the functions failed: {err}")
                               for e in pending]
            while pending:
                exercise = pending.pop(0)
                rows.append(_check_one(submission, worker, exercise, numbers, reply, time_limit))
                if worker.failure:
                    break  # the rest in a fresh process
        finally:
            worker.close()
    return rows


def _check_one(submission, worker, exercise, numbers, loaded, time_limit):
    student, name = submission.student, exercise.check.function_name
    if name not in submission.defined:
        return _row(student, exercise, numbers, "not attempted", f"no cell defines {name}")
    if not (loaded.get("functions") or {}).get(name):
        errors = "; ".join(f"{where}: {error}" for where, error in loaded.get("errors") or [])
        return _row(student, exercise, numbers, "error", f"{name} could not be defined ({errors[:300]})")
    checker = getattr(gradcourse.exercises, exercise.check.checker)
    feedback = checker(StudentFunction(worker, name, time_limit))
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
                            exercise.written.points, message, answer or ""))
    return rows


def read_submission(path):
    """``(notebook, None)``, or ``(None, why it cannot be graded)``."""
    if path.suffix.lower() != ".ipynb":
        return None, f"not a notebook (a {path.suffix or 'file without extension'}): hand in the .ipynb file"
    try:
        return nbformat.read(path, as_version=4), None
    except Exception as err:  # noqa: BLE001  (anything a file can be)
        return None, f"the notebook cannot be read ({type(err).__name__}: {str(err)[:200]})"


@dataclass
class Submission:
    """One hand-in, read: what the worker will run, and everything else that needs no worker."""

    student: str
    exercises: list
    problem: str = None  # why it cannot be graded, if it cannot
    statements: list = ()  # see definitions()
    defined: frozenset = frozenset()  # see defined_functions()
    written: list = ()  # the rows of its written parts


def prepare(path, registry, chapter=None, default_chapter=None):
    """Read one handed-back file; never raises on what the file holds.

    Its chapter is ``chapter`` if given, else the one the notebook names (its metadata, or its
    file name), else ``default_chapter`` (the folder's). Submissions are read one after the
    other, never in threads: CPython 3.11 can fail when threads build ASTs at once (its issue
    106905).
    """
    numbers = exercise_registry.numbers(registry)
    chapters = exercise_registry.by_chapter(registry)
    nb, problem = read_submission(path)
    chapter = chapter or (chapter_of(nb, path, chapters) if nb is not None else None) or default_chapter
    exercises = chapters[chapter]
    if nb is None:
        return Submission(path.name, exercises, problem)
    return Submission(path.name, exercises, None, definitions(nb), defined_functions(nb),
                      grade_written(path.name, nb, exercises, numbers))


def grade_prepared(submission, numbers, time_limit=20.0):
    """All rows for one read submission (this part may run in threads)."""
    if submission.problem:
        return _rows_for_failure(submission.student, submission.exercises, numbers, submission.problem)
    return grade_checks(submission, numbers, time_limit) + list(submission.written)


def grade_submission(path, registry, chapter=None, default_chapter=None, time_limit=20.0):
    """All rows for one handed-back file; never raises on what the file holds."""
    submission = prepare(path, registry, chapter, default_chapter)
    return grade_prepared(submission, exercise_registry.numbers(registry), time_limit)


def submissions_in(folder, outputs=()):
    """Every file a student handed in: all files of ``folder`` but hidden ones and the outputs."""
    skip = {Path(p).resolve() for p in outputs}
    return sorted(p for p in Path(folder).iterdir()
                  if p.is_file() and not p.name.startswith(".") and p.resolve() not in skip)


def chapter_of_folder(paths, chapters):
    """The chapter most of the readable notebooks in a folder belong to (None if none says)."""
    found = Counter()
    for path in paths:
        nb, _ = read_submission(path)
        if nb is not None:
            found[chapter_of(nb, path, chapters)] += 1
    found.pop(None, None)
    return found.most_common(1)[0][0] if found else None


def summarize(rows):
    """Per exercise part: how many submissions got each status, and the mean points (once all
    of the part's answers are marked)."""
    groups = {}
    for row in rows:
        groups.setdefault((row.number, row.exercise, row.part, row.max_points), []).append(row)
    summary = []
    for (number, label, part, max_points), group in sorted(groups.items(),
                                                           key=lambda kv: (tuple(map(int, kv[0][0].split("."))), kv[0][2])):
        counts = Counter(row.status for row in group)
        marked = all(row.points != "" for row in group)
        mean = f"{sum(row.points for row in group) / len(group):.2f}" if marked else ""
        summary.append({"exercise": label, "number": number, "part": part, "max_points": max_points,
                        "submissions": len(group), **{status: counts.get(status, 0) for status in STATUSES},
                        "mean_points": mean})
    return summary


def grade_folder(folder, *, chapter=None, jobs=2, time_limit=20.0, registry=None, outputs=()):
    """Rows for every file in ``folder``, graded ``jobs`` at a time."""
    registry = registry or exercise_registry.load()
    chapters = exercise_registry.by_chapter(registry)
    paths = submissions_in(folder, outputs)
    if not paths:
        raise ValueError(f"folder {folder} holds no hand-ins")
    default = chapter or chapter_of_folder(paths, chapters)
    if default is None:
        raise ValueError(f"no notebook in {folder} says which chapter it is: pass --chapter")
    submissions = [prepare(path, registry, chapter, default) for path in paths]
    numbers = exercise_registry.numbers(registry)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        per_file = list(pool.map(lambda sub: grade_prepared(sub, numbers, time_limit), submissions))
    return [row for rows in per_file for row in rows]


def write_csv(path, rows, columns):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("submissions", type=Path, help="folder of handed-back notebooks, one file per student")
    parser.add_argument("--chapter", help="the chapter graded, e.g. 01_bptt (default: the one the notebooks name)")
    parser.add_argument("--out", type=Path, help="the grades table (default: SUBMISSIONS/grades.csv)")
    parser.add_argument("--jobs", type=int, default=2, help="submissions graded at a time (default 2)")
    parser.add_argument("--time-limit", type=float, default=20.0,
                        help="seconds a student's function may take over one exercise's check (default 20)")
    parser.add_argument("--overwrite", action="store_true", help="replace existing grade tables")
    args = parser.parse_args(argv)
    registry = exercise_registry.load()
    if args.chapter and args.chapter not in exercise_registry.by_chapter(registry):
        parser.error(f"--chapter must be one of {', '.join(exercise_registry.by_chapter(registry))}, got {args.chapter!r}")
    if args.jobs < 1 or args.time_limit <= 0:
        parser.error("--jobs must be at least 1 and --time-limit positive")
    if not args.submissions.is_dir():
        parser.error(f"{args.submissions} is not a folder")
    out = args.out or args.submissions / "grades.csv"
    summary_path = out.with_name(out.stem + "-summary" + out.suffix)
    existing = [p for p in (out, summary_path) if p.exists()]
    if existing and not args.overwrite:
        parser.error(f"{existing[0]} exists (marks entered there would be lost): pass --overwrite or another --out")
    if not _isolation():
        print("warning: Linux's unshare is not available here, so each student's code runs in an ordinary process "
              "and could signal other processes of yours; grade in a container or a throwaway account.",
              file=sys.stderr)
    start = time.perf_counter()
    try:
        rows = grade_folder(args.submissions, chapter=args.chapter, jobs=args.jobs, time_limit=args.time_limit,
                            registry=registry, outputs=(out, summary_path))
    except ValueError as err:
        parser.exit(1, f"grade: {err}\n")
    write_csv(out, [asdict(row) for row in rows], COLUMNS)
    summary = summarize(rows)
    write_csv(summary_path, summary, list(summary[0]))
    n_students = len({row.student for row in rows})
    print(f"graded {n_students} hand-ins in {time.perf_counter() - start:.1f} s: {out}, {summary_path}")
    for line in summary:
        counts = ", ".join(f"{line[s]} {s}" for s in STATUSES if line[s])
        print(f"  Exercise {line['number']} {line['part']:7s} ({line['max_points']} pt): {counts}")


if __name__ == "__main__":
    main()
