"""The first cell of every chapter, which installs gradcourse on Colab (anywhere it is missing).

The cell installs the release the book was written for, from the tag v<version>, and is built
from two places only: the repository address (`repository: url:` in _config.yml) and the package
version (`version` in pyproject.toml). After changing either, rewrite the chapters:

    python tools/colab_cell.py            # print the cell
    python tools/colab_cell.py --check    # list the chapters whose first cell differs (exit status 1)
    python tools/colab_cell.py --write    # rewrite the first cell of every notebook in book/

--write changes that one cell's source and drops any output stored with it; its id, tags and
execution count stay as they are, so each notebook still reads as one run top to bottom.
The tag must exist on GitHub before the chapters that name it work on Colab.
"""

import argparse
import json
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TAGS = {"remove-cell", "nbval-skip"}  # hidden in the book, not compared by nbval
TEMPLATE = (
    "# On Colab (or anywhere the course package is missing), install it; elsewhere this does nothing.\n"
    "try:\n"
    "    import gradcourse\n"
    "except ImportError:\n"
    '    %pip install --quiet "{requirement}"'
)


def requirement(root=ROOT):
    """The pip requirement for the release, e.g. 'gradcourse @ git+https://github.com/o/r@v1.0.0'."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    url = str(yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))["repository"]["url"])
    url = url.rstrip("/")
    if not url.startswith("https://"):
        raise ValueError(f"_config.yml: repository.url should be an https:// address, not {url!r}")
    return f"{project['name']} @ git+{url}@v{project['version']}"


def cell_source(root=ROOT):
    return TEMPLATE.format(requirement=requirement(root))


def _first_cell(nb, path):
    cell = nb["cells"][0] if nb["cells"] else None
    if cell is None or cell["cell_type"] != "code" or not TAGS <= set(cell["metadata"].get("tags", [])):
        raise ValueError(f"{path}: the first cell is not the install cell (a code cell tagged "
                         f"{' and '.join(sorted(TAGS))}); add one by hand first")
    return cell


def _read(path):
    return json.loads(path.read_text(encoding="utf-8"))


def _dumps(nb):
    """The notebook as Jupyter writes it, so that a rewrite changes only the lines it must."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def differs(path, source):
    """Whether the first cell of the notebook at `path` is not `source` with no output."""
    cell = _first_cell(_read(path), path)
    return "".join(cell["source"]) != source or bool(cell["outputs"])


def write(path, source):
    """Set the first cell's source to `source` and drop its outputs; return whether the file changed."""
    nb = _read(path)
    cell = _first_cell(nb, path)
    cell["source"] = source.splitlines(keepends=True)
    cell["outputs"] = []
    text = _dumps(nb)
    if text == path.read_text(encoding="utf-8"):
        return False
    path.write_text(text, encoding="utf-8")
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="rewrite the first cell of every notebook")
    action.add_argument("--check", action="store_true", help="exit with status 1 if a first cell differs")
    parser.add_argument("--book", type=Path, default=ROOT / "book", help="folder of the notebooks (default: book/)")
    args = parser.parse_args(argv)

    source = cell_source()
    if not (args.write or args.check):
        print(source)
        return 0
    notebooks = sorted(args.book.glob("*.ipynb"))
    if not notebooks:
        parser.error(f"no notebook in {args.book}")
    try:
        if args.write:
            for path in notebooks:
                if write(path, source):
                    print(f"rewrote the first cell of {path.name}")
            return 0
        stale = [path.name for path in notebooks if differs(path, source)]
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    for name in stale:
        print(f"{name}: the first cell differs; run `python tools/colab_cell.py --write`")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
