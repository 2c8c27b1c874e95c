"""The ``exercise-table`` directive: the table of all exercises, from ``exercises.yml``.

The instructors' page shows it, so the table and the registry that the student edition and
the grading command read can never disagree. Each row links to its exercise::

    ```{exercise-table}
    ```
"""

import sys
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import exercise_registry  # noqa: E402


def _points(exercise):
    """``"4 (2 + 2)"``: the total, then check + written where there are both."""
    check = exercise.check.points if exercise.check else 0
    written = exercise.written.points if exercise.written else 0
    return f"{exercise.points} ({check} + {written})"


def table_lines(exercises):
    """The table in MyST Markdown: one section per chapter, one row per exercise."""
    lines = []
    for chapter, group in exercise_registry.by_chapter(exercises).items():
        lines += [f"**Chapter {int(chapter.split('_')[0])}**, {{doc}}`{chapter}`", "",
                  "| Exercise | Label | Kind | Learning goal | Min. | Points (check + written) |",
                  "|---|---|---|---|---|---|"]
        for e in group:
            goal = e.goal.replace("|", "\\|")
            lines.append(f"| {{ref}}`{e.label}` | `{e.label}` | {e.kind} | {goal} | {e.minutes} | {_points(e)} |")
        lines.append("")
    lines.append(f"In all: {len(exercises)} exercises, {sum(e.minutes for e in exercises)} minutes, "
                 f"{sum(e.points for e in exercises)} points.")
    return lines


class ExerciseTable(SphinxDirective):
    has_content = False

    def run(self):
        self.env.note_dependency(str(exercise_registry.REGISTRY))
        node = nodes.container(classes=["exercise-table"])
        self.state.nested_parse(StringList(table_lines(exercise_registry.load())), self.content_offset, node)
        return [node]


def setup(app):
    app.add_directive("exercise-table", ExerciseTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
