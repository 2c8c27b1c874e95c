"""Write the student edition of the chapters: notebooks to fill in, for Jupyter and Colab.

    python tools/student_edition.py [--out student] [book/01_bptt.ipynb ...]

For every chapter (all of ``book/`` by default) it writes ``<out>/<chapter>.ipynb`` in which

- every cell tagged ``solution`` is gone (solution text, code, outputs and glued values);
- after each exercise of ``exercises.yml`` come the cells to fill in: for a numeric or code
  exercise, a stub (the function, raising NotImplementedError that names the exercise) and a
  check cell that calls its checker; for a written part, a Markdown answer cell. Each carries
  ``{"gradcourse": {"exercise": label, "role": "answer" | "check" | "written"}}`` in its
  metadata, which the grading command reads;
- the book's MyST markup becomes plain Markdown that Jupyter and Colab render: exercise boxes
  become numbered headings with kind, minutes and points, glued values are pasted in, citations
  read "Author (year)" with a reference list at the end, cross-references become links, the
  included source becomes a code block, and figure captions appear under their figures.

With the stubs unfilled, every notebook runs top to bottom, and every check says "Not
attempted". Nothing of the rubrics in ``exercises.yml`` is written.

``--keep-myst`` only removes the solutions and keeps the MyST markup: that is what the web
book without solutions (``tools/build_without_solutions.py``) is built from.
"""

import argparse
import ast
import codecs
import copy
import re
import sys
from pathlib import Path

import latexcodec  # noqa: F401  (registers the "ulatex" codec: accents in titles and names)
import nbformat
from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor
from pybtex.database import parse_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
import exercise_registry  # noqa: E402  (a sibling module of this script)

ROOT = exercise_registry.ROOT
sys.path.insert(0, str(ROOT / "_ext"))
from bibliography_style import author_year_label  # noqa: E402  (the book's own citation labels)

EXERCISE = re.compile(r"```\{exercise\}[ \t]*(?P<title>[^\n]*)\n(?P<options>(?::[\w-]+:[^\n]*\n)*)\n?(?P<body>.*?)\n```",
                      re.S)
GLUE = re.compile(r"\{glue:text\}`(?P<key>[^`]+)`")
CITE = re.compile(r"\{cite:(?P<kind>[tp])\}`(?P<keys>[^`]+)`")
DOC = re.compile(r"\{doc\}`(?:(?P<text>[^`<]*?)\s*<(?P<target>[^`>]+)>|(?P<bare>[^`]+))`")
REF = re.compile(r"\{ref\}`(?P<label>[^`]+)`")
TARGET = re.compile(r"^\((?P<label>[\w-]+)\)=[ \t]*$", re.M)
INCLUDE = re.compile(r"```\{literalinclude\}[ \t]*(?P<path>\S+)\n(?P<options>(?::[\w-]+:[^\n]*\n)*)```")
LEFTOVER = re.compile(r"\{[a-z][\w:-]*\}`|```\{[a-z][\w-]*\}")
MAGIC_QUOTES = re.compile(r"^'(.*)'$|^\"(.*)\"$", re.S)


class StudentEditionError(ValueError):
    """A chapter that cannot be turned into its student edition as it stands (names why)."""


def glued_values(nb):
    """``{key: text}`` of every value the notebook glues, as ``{glue:text}`` shows it."""
    values = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            text = output.get("data", {}).get("application/papermill.record/text/plain")
            if name is not None and text is not None:
                try:
                    value = ast.literal_eval(text)
                    values[name] = value if isinstance(value, str) else text
                except (ValueError, SyntaxError):
                    values[name] = text
    return values


def _cite(bibliography, cited, match):
    keys = [key.strip() for key in match["keys"].split(",")]
    labels = []
    for key in keys:
        if key not in bibliography.entries:
            raise StudentEditionError(f"citation of {key!r}, which references.bib does not hold")
        cited.setdefault(key, None)
        labels.append(author_year_label(bibliography.entries[key]))
    if match["kind"] == "p":
        return "(" + "; ".join(labels) + ")"
    return "; ".join(f"{who} ({year})" for who, year in (label.rsplit(", ", 1) for label in labels))


def reference_list(bibliography, keys):
    """A Markdown list of the works in ``keys``: authors, year, title, where, link."""
    lines = []
    for key in sorted(keys, key=lambda k: author_year_label(bibliography.entries[k])):
        entry = bibliography.entries[key]
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        authors = ", ".join(" ".join(p.first_names + p.middle_names + p.last_names) for p in people)
        fields = entry.fields
        where = next((fields[f] for f in ("journal", "booktitle", "school", "institution", "publisher", "howpublished") if f in fields), "")
        text = f"{authors} ({fields.get('year', 'n.d.')}). *{fields.get('title', key)}*."
        text += f" {where}." if where else ""
        text += f" <{fields['url']}>" if "url" in fields else ""
        lines.append("- " + codecs.decode(text, "ulatex").replace("{", "").replace("}", "").replace("--", "–"))
    return "\n".join(lines)


def chapter_title(name):
    nb = nbformat.read(ROOT / "book" / f"{name}.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    raise StudentEditionError(f"book/{name}.ipynb has no title")


def _include(match):
    """The lines of a ``literalinclude`` (with :pyobject:, :start-at:, :dedent: as the book uses them)."""
    options = dict(re.findall(r"^:([\w-]+):[ \t]*(.*)$", match["options"], re.M))
    path = (ROOT / "book" / match["path"]).resolve()
    source = path.read_text()
    if "pyobject" in options:
        tree = ast.parse(source)
        node = next((n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))
                     and n.name == options["pyobject"]), None)
        if node is None:
            raise StudentEditionError(f"{match['path']} has no {options['pyobject']}")
        source = "\n".join(source.splitlines()[node.lineno - 1 - len(node.decorator_list): node.end_lineno])
    lines = source.splitlines()
    if "start-at" in options:
        start = options["start-at"].strip().strip('"')
        index = next((i for i, line in enumerate(lines) if start in line), None)
        if index is None:
            raise StudentEditionError(f"{match['path']}: no line holds {start!r}")
        lines = lines[index:]
    if "dedent" in options:
        n = int(options["dedent"])
        lines = [line[n:] if line[:n].strip() == "" else line for line in lines]
    language = options.get("language", "")
    return f"```{language}\n" + "\n".join(lines) + "\n```"


class StudentEdition(Preprocessor):
    """Turns a chapter (solutions already removed) into its student edition."""

    def __init__(self, exercises, bibliography, book=ROOT / "book", **kwargs):
        super().__init__(**kwargs)
        self.exercises = {exercise.label: exercise for exercise in exercises}
        self.numbers = exercise_registry.numbers(exercises)
        self.bibliography = bibliography
        # targets of every chapter, for {ref} links from one chapter to another
        self.book_targets = {label: (path.stem, heading)
                             for path in sorted(book.glob("*.ipynb"))
                             for label, heading in self._targets(nbformat.read(path, as_version=4)).items()}

    def preprocess(self, nb, resources):
        chapter = resources["metadata"]["name"]
        self.values = glued_values(nb)
        self.cited = {}
        self.targets = self._targets(nb)
        self.n_figures = 0
        number = int(chapter.split("_")[0])
        cells = []
        for cell in nb.cells:
            cells.extend(self._cells_for(cell, chapter, number))
        expected = [label for label, ex in self.exercises.items() if ex.chapter == chapter]
        found = [cell.metadata["gradcourse"]["exercise"] for cell in cells
                 if cell.metadata.get("gradcourse", {}).get("role") == "exercise"]
        if found != expected:
            raise StudentEditionError(f"{chapter}: the chapter's exercises {found} are not those of exercises.yml "
                                      f"{expected}, in that order")
        if self.cited:
            cells.append(nbformat.v4.new_markdown_cell("## References\n\n" + reference_list(self.bibliography, self.cited)))
        nb.cells = cells
        nb.metadata["gradcourse"] = {"edition": "student", "chapter": chapter}
        return nb, resources

    @staticmethod
    def _targets(nb):
        """``{label: heading}`` of the ``(label)=`` targets, each taken from the heading after it."""
        targets = {}
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                for match in TARGET.finditer(cell.source):
                    heading = re.search(r"^#+\s+(.*)$", cell.source[match.end():], re.M)
                    targets[match["label"]] = heading.group(1).strip() if heading else match["label"]
        return targets

    def _cells_for(self, cell, chapter, number):
        if cell.cell_type == "markdown":
            match = EXERCISE.search(cell.source)
            if match:
                return self._exercise(cell, match, chapter)
            return [self._markdown(cell, chapter)]
        if cell.cell_type == "code":
            caption = cell.metadata.get("mystnb", {}).get("figure", {}).get("caption")
            if caption:
                self.n_figures += 1
                text = self.plain(f"**Figure {number}.{self.n_figures}.** {caption}", chapter)
                return [cell, nbformat.v4.new_markdown_cell(text)]
        return [cell]

    def _markdown(self, cell, chapter):
        new = copy.deepcopy(cell)
        new.source = self.plain(cell.source, chapter)
        return new

    def plain(self, text, chapter):
        """``text`` with the book's MyST markup turned into plain Markdown."""

        def glue(match):
            if match["key"] not in self.values:
                raise StudentEditionError(f"{chapter}: {{glue:text}}`{match['key']}` has no value outside the "
                                          "solutions (is it glued in a solution cell?)")
            return self.values[match["key"]]

        def doc(match):
            target = match["target"] or match["bare"]
            text = match["text"] or chapter_title(target)
            return f"[{text}]({target}.ipynb)"

        def ref(match):
            label = match["label"]
            if label in self.numbers:
                return f"Exercise {self.numbers[label]}"
            if label in self.targets:
                return f"[{self.targets[label]}](#{label})"
            if label in self.book_targets:
                other, heading = self.book_targets[label]
                return f"[{heading}]({other}.ipynb#{label})"
            raise StudentEditionError(f"{chapter}: {{ref}}`{label}` points at no target of the book")

        text = INCLUDE.sub(_include, text)
        text = TARGET.sub(lambda m: f'<a id="{m["label"]}"></a>', text)
        text = GLUE.sub(glue, text)
        text = CITE.sub(lambda m: _cite(self.bibliography, self.cited, m), text)
        text = DOC.sub(doc, text)
        text = REF.sub(ref, text)
        leftover = LEFTOVER.search(text)
        if leftover:
            raise StudentEditionError(f"{chapter}: MyST markup the student edition cannot convert: "
                                      f"{text[leftover.start(): leftover.start() + 60]!r}")
        return text

    def _exercise(self, cell, match, chapter):
        options = dict(re.findall(r"^:([\w-]+):[ \t]*(.*)$", match["options"], re.M))
        label = options.get("label")
        if label not in self.exercises:
            raise StudentEditionError(f"{chapter}: exercise {label!r} is not in exercises.yml")
        exercise = self.exercises[label]
        number = self.numbers[label]
        points = [f"{exercise.check.points} by the check" if exercise.check else "",
                  f"{exercise.written.points} for the written part" if exercise.written else ""]
        total = f"{exercise.points} point{'s' if exercise.points != 1 else ''}"
        detail = " + ".join(p for p in points if p)
        about = f"*{exercise.kind.capitalize()} · about {exercise.minutes} minutes · {total}" + \
                (f" ({detail})" if exercise.check and exercise.written else "") + "*"
        box = f"### Exercise {number}: {match['title'].strip()}\n\n{about}\n\n{match['body'].strip()}"
        before, after = cell.source[: match.start()], cell.source[match.end():]
        source = "\n\n".join(part for part in (before.strip(), box, after.strip()) if part)
        head = nbformat.v4.new_markdown_cell(self.plain(source, chapter))
        head.metadata["gradcourse"] = {"exercise": label, "role": "exercise"}
        cells = [head]
        if exercise.check:
            cells += self._code_cells(exercise, number)
        if exercise.written:
            answer = nbformat.v4.new_markdown_cell(written_stub(number))
            answer.metadata["gradcourse"] = {"exercise": label, "role": "written"}
            cells.append(answer)
        return cells

    def _code_cells(self, exercise, number):
        name = exercise.check.function_name
        stub = nbformat.v4.new_code_cell(
            f"# Exercise {number}: write {name}, run this cell, then run the check below.\n"
            f"def {exercise.check.function}:\n"
            f"    raise NotImplementedError(\"Exercise {number}: {name} is not written yet\")")
        stub.metadata["gradcourse"] = {"exercise": exercise.label, "role": "answer"}
        check = nbformat.v4.new_code_cell(
            f"from gradcourse.exercises import {exercise.check.checker}\n\n{exercise.check.checker}({name})")
        check.metadata["gradcourse"] = {"exercise": exercise.label, "role": "check"}
        return [stub, check]


def written_stub(number):
    """The text of an unanswered written part (the grader compares answers with it)."""
    return f"**Your answer to Exercise {number}:** *write it here, in place of this line.*"


def notebooks_in(paths):
    return [Path(p) for p in paths] if paths else sorted((ROOT / "book").glob("*.ipynb"))


def write(paths, out, *, keep_myst=False):
    """Write the student edition of the notebooks ``paths`` into ``out``; return the written paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    remove = TagRemovePreprocessor(remove_cell_tags={"solution"}, enabled=True)
    edition = None if keep_myst else StudentEdition(exercise_registry.load(), parse_file(ROOT / "references.bib"))
    written = []
    for path in notebooks_in(paths):
        nb = nbformat.read(path, as_version=4)
        resources = {"metadata": {"name": path.stem}}
        nb, resources = remove.preprocess(nb, resources)
        if edition is not None:
            nb, resources = edition.preprocess(nb, resources)
        target = out / path.name
        nbformat.write(nb, target)
        written.append(target)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="chapters to convert (default: every notebook in book/)")
    parser.add_argument("--out", type=Path, default=ROOT / "student", help="where to write (default: student/)")
    parser.add_argument("--keep-myst", action="store_true",
                        help="only remove the solutions (for the web book without solutions)")
    args = parser.parse_args(argv)
    try:
        written = write(args.notebooks, args.out, keep_myst=args.keep_myst)
    except StudentEditionError as err:
        parser.exit(1, f"student edition: {err}\n")
    print(f"wrote {len(written)} notebook{'s' if len(written) != 1 else ''} to {args.out}")


if __name__ == "__main__":
    main()
