"""The book's own Sphinx extensions: the exercise table and the build's version and date."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
sys.path[:0] = [str(ROOT / "_ext"), str(ROOT / "tools")]
import build_info  # noqa: E402
import exercise_registry  # noqa: E402
import exercise_table  # noqa: E402


def test_the_footer_names_the_packages_version_and_a_date(monkeypatch):
    version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14 22:13:20 UTC
    assert build_info.footer_text() == f"Course version {version}, built on 2023-11-14."


def test_the_exercise_table_has_a_row_per_exercise_and_the_totals():
    exercises = exercise_registry.load()
    lines = exercise_table.table_lines(exercises)
    rows = [line for line in lines if line.startswith("| {ref}")]
    assert len(rows) == len(exercises)
    assert rows[0].startswith("| {ref}`ex-bptt-immediate` | `ex-bptt-immediate` | conceptual |")
    assert rows[0].endswith("| 10 | 3 (0 + 3) |")
    minutes = sum(e.minutes for e in exercises)
    points = sum(e.points for e in exercises)
    assert lines[-1] == f"In all: {len(exercises)} exercises, {minutes} minutes, {points} points."
