"""The course's exercises as ``exercises.yml`` lists them, read and validated.

One convention for every exercise: a stable label, a kind from one vocabulary
(:data:`KINDS`), a learning goal, minutes, and points, which come from an automatic check
(numeric and code exercises) and from a written part marked with a rubric. The student
edition, the grading command and the instructors' page all read this module, so that the
three never disagree.

>>> exercises = load()
>>> exercises[1].label, exercises[1].kind, exercises[1].check.function_name
('ex-bptt-step-jacobian', 'code', 'step_jacobian')
"""

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = ROOT / "exercises.yml"

#: The kinds of exercise, and what each asks of the student.
KINDS = {
    "conceptual": "a written answer, marked by hand with the rubric",
    "numeric": "a number, computed by a small function that a checker tests on the question's "
               "inputs and on random ones; often with a written part",
    "code": "a function the course builds on, tested by a checker; often with a written part",
}
FIELDS = {"label", "chapter", "kind", "goal", "minutes", "check", "written"}
SIGNATURE = re.compile(r"^([A-Za-z_]\w*)\(([\w, ]*)\)$")


@dataclass(frozen=True)
class Check:
    """The automatic part: the function the student writes and the checker that tests it."""

    function: str  # its signature, e.g. "step_jacobian(W_hh, a_t, f_prime)"
    checker: str  # a name in gradcourse.exercises
    points: int

    @property
    def function_name(self):
        return SIGNATURE.match(self.function).group(1)


@dataclass(frozen=True)
class Written:
    """The part answered in words, and the rubric that marks it (one line per point)."""

    points: int
    rubric: tuple


@dataclass(frozen=True)
class Exercise:
    label: str
    chapter: str
    kind: str
    goal: str
    minutes: int
    check: Check = None
    written: Written = None

    @property
    def points(self):
        return (self.check.points if self.check else 0) + (self.written.points if self.written else 0)


def _positive_int(entry, name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"exercises.yml, {entry}: {name} must be a positive whole number, got {value!r}")
    return value


def _text(entry, name, value):
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"exercises.yml, {entry}: {name} must be a non-empty text, got {value!r}")
    return value.strip()


def _check(entry, raw):
    if not isinstance(raw, dict) or set(raw) != {"function", "checker", "points"}:
        raise ValueError(f"exercises.yml, {entry}: check needs exactly function, checker and points, got {raw!r}")
    function = _text(entry, "check.function", raw["function"])
    if not SIGNATURE.match(function):
        raise ValueError(f"exercises.yml, {entry}: check.function must read like name(arg, ...), got {function!r}")
    checker = _text(entry, "check.checker", raw["checker"])
    if not checker.startswith("check_"):
        raise ValueError(f"exercises.yml, {entry}: check.checker must name a check_... function, got {checker!r}")
    return Check(function, checker, _positive_int(entry, "check.points", raw["points"]))


def _written(entry, raw):
    if not isinstance(raw, dict) or set(raw) != {"points", "rubric"}:
        raise ValueError(f"exercises.yml, {entry}: written needs exactly points and rubric, got {raw!r}")
    points = _positive_int(entry, "written.points", raw["points"])
    rubric = raw["rubric"]
    if not isinstance(rubric, list) or not all(isinstance(line, str) and line.strip() for line in rubric):
        raise ValueError(f"exercises.yml, {entry}: written.rubric must be a list of texts, got {rubric!r}")
    if len(rubric) != points:
        raise ValueError(f"exercises.yml, {entry}: the rubric has {len(rubric)} lines for {points} points; "
                         "write one line per point")
    return Written(points, tuple(line.strip() for line in rubric))


def parse(raw):
    """The list of :class:`Exercise` from the YAML data ``raw``; ValueError names what is wrong."""
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"exercises.yml must hold a non-empty list of exercises, got {type(raw).__name__}")
    exercises, seen = [], set()
    for i, item in enumerate(raw, start=1):
        entry = f"entry {i}" + (f" ({item.get('label')})" if isinstance(item, dict) and "label" in item else "")
        if not isinstance(item, dict) or not FIELDS >= set(item) or not {"label", "chapter", "kind", "goal", "minutes"} <= set(item):
            raise ValueError(f"exercises.yml, {entry}: fields must be label, chapter, kind, goal, minutes and "
                             f"check and/or written, got {sorted(item) if isinstance(item, dict) else item!r}")
        label = _text(entry, "label", item["label"])
        if label in seen:
            raise ValueError(f"exercises.yml, {entry}: the label {label!r} is used twice")
        seen.add(label)
        kind = item["kind"]
        if kind not in KINDS:
            raise ValueError(f"exercises.yml, {entry}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
        check = _check(entry, item["check"]) if "check" in item else None
        written = _written(entry, item["written"]) if "written" in item else None
        if (kind == "conceptual") != (check is None):
            raise ValueError(f"exercises.yml, {entry}: a {kind} exercise "
                             f"{'has no' if kind == 'conceptual' else 'needs an automatic'} check")
        if kind == "conceptual" and written is None:
            raise ValueError(f"exercises.yml, {entry}: a conceptual exercise needs a written part with a rubric")
        exercises.append(Exercise(label, _text(entry, "chapter", item["chapter"]), kind,
                                  _text(entry, "goal", item["goal"]),
                                  _positive_int(entry, "minutes", item["minutes"]), check, written))
    return exercises


def load(path=REGISTRY):
    """The exercises of ``path`` (the course's ``exercises.yml`` by default), validated."""
    return parse(yaml.safe_load(Path(path).read_text(encoding="utf-8")))


def by_chapter(exercises):
    """``{chapter: [exercises in book order]}``, chapters in book order."""
    chapters = {}
    for exercise in exercises:
        chapters.setdefault(exercise.chapter, []).append(exercise)
    return chapters


def numbers(exercises):
    """``{label: "3.2"}``: the number the book gives each exercise (chapter . position)."""
    return {exercise.label: f"{int(name.split('_')[0])}.{i}"
            for name, chapter in by_chapter(exercises).items()
            for i, exercise in enumerate(chapter, start=1)}
