"""Build the web book with the exercise solutions absent, not folded away.

    python tools/build_without_solutions.py [--out _build_students]

sphinx-exercise's own switch (``hide_solutions``) fails on solutions written in the
start/end form, which the chapters use for solutions with code. So this builds the book
from a copy whose notebooks have every cell tagged "solution" removed (by
``tools/student_edition.py --keep-myst``, which keeps the book's markup), and with those
cells the solutions' text, code, outputs and glued values. The pages, the API page and the
search index are built from that copy alone. Writes the HTML to ``--out``.
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: What the book is built from. The package's source is copied because chapters include
#: parts of it (the API page imports the installed package); the extensions read
#: pyproject.toml (the version), exercises.yml and tools/exercise_registry.py.
BOOK_SOURCES = ("_config.yml", "_toc.yml", "references.bib", "pyproject.toml", "exercises.yml", "_ext", "tools",
                "book", "gradcourse")


def copy_sources(target):
    for name in BOOK_SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        else:
            shutil.copy2(source, target / name)
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
