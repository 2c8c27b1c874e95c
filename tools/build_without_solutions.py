"""Build the web book with the exercise solutions absent, not folded away.

    python tools/build_without_solutions.py [--out _build_students]

sphinx-exercise's own switch (``hide_solutions``) fails on solutions written in the
start/end form, which the chapters use for solutions with code. So this builds the book
from a copy whose notebooks have every cell tagged "solution" removed (by
``tools/student_edition.py --keep-myst``, which keeps the book's markup), and with those
cells the solutions' text, code, outputs and glued values. The pages, the API page and the
search index are built from that copy alone. The copy leaves out the instructors' page and
every button that leads to the repository (launch on Binder or Colab, edit, issues), since the
repository's notebooks hold the solutions, and the link to the PDF of the whole book, which
holds them too. Writes the HTML to ``--out``.
"""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
#: What the book is built from. The package's source is copied because chapters include
#: parts of it (the API page imports the installed package); the extensions read
#: pyproject.toml (the version), exercises.yml and tools/exercise_registry.py.
BOOK_SOURCES = ("_config.yml", "_toc.yml", "references.bib", "pyproject.toml", "exercises.yml", "_ext", "tools",
                "book", "gradcourse")


def for_students(target):
    """Make the copied book a students' book: no page for instructors, and no button that leads to
    the repository, whose notebooks hold the solutions (launch on Binder or Colab, edit, issues),
    and no link to the PDF, which holds them too."""
    config = yaml.safe_load((target / "_config.yml").read_text())
    config.pop("launch_buttons", None)
    config["html"].update(use_repository_button=False, use_edit_page_button=False, use_issues_button=False)
    (target / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    toc = yaml.safe_load((target / "_toc.yml").read_text())
    for part in toc["parts"]:
        part["chapters"] = [c for c in part["chapters"] if c["file"] != "book/instructors"]
    (target / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    (target / "book" / "instructors.md").unlink()
    intro = target / "book" / "intro.md"  # the PDF it links to has the solutions: no link
    intro.write_text(re.sub(r"```\{raw\} html\n[^`]*gradcourse\.pdf[^`]*```\n\n", "", intro.read_text()))


def copy_sources(target):
    for name in BOOK_SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        else:
            shutil.copy2(source, target / name)
    for_students(target)
    notebooks = sorted(str(path) for path in (ROOT / "book").glob("*.ipynb"))
    subprocess.run([sys.executable, str(ROOT / "tools" / "student_edition.py"), "--keep-myst",
                    "--out", str(target / "book"), *notebooks], check=True, capture_output=True, cwd=ROOT)


def build(out):
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp)
        copy_sources(copy)
        result = subprocess.run([str(Path(sys.executable).parent / "jupyter-book"), "build", str(copy), "-W", "-n",
                                 "--keep-going"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if result.returncode != 0:
            warnings = [line for line in result.stdout.splitlines() if "WARNING" in line or "ERROR" in line]
            shown = warnings or result.stdout.splitlines()[-20:]
            raise SystemExit("the build without solutions failed:\n" + "\n".join(shown))
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(copy / "_build" / "html", out)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_build_students", help="where to write the HTML")
    args = parser.parse_args()
    print(f"book without solutions written to {build(args.out)}")


if __name__ == "__main__":
    main()
