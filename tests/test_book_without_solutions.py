"""The web book built without solutions holds none of them: not in the pages and not in the
notebook sources it ships. (Sphinx builds its search index from the same pages.)"""

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


def _lines(cells, min_length=30):
    """Distinctive lines of the given cells' sources: long enough not to occur by chance."""
    found = set()
    for cell in cells:
        for line in "".join(cell["source"]).splitlines():
            line = line.strip()
            if len(line) >= min_length and not line.startswith(("```", ":", "#")):
                found.add(line)
    return found


def _cells(solution):
    for path in NOTEBOOKS:
        for cell in json.loads(path.read_text())["cells"]:
            if ("solution" in cell["metadata"].get("tags", [])) == solution:
                yield cell


def _normalise(text):
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("students") / "html"
    subprocess.run([sys.executable, str(ROOT / "tools" / "build_without_solutions.py"), "--out", str(out)],
                   check=True, capture_output=True, text=True, cwd=ROOT)
    pages = {path: _normalise(html.unescape(re.sub(r"<[^>]+>", "", path.read_text(errors="replace"))))
             for path in out.rglob("*.html")}
    shipped = {path: _normalise(path.read_text(errors="replace")) for path in out.rglob("*")
               if path.is_file() and path.suffix in {".ipynb", ".txt", ".md", ".js"}}
    return pages, shipped


def test_no_line_of_any_solution_is_in_the_pages_or_the_files_shipped(built):
    pages, shipped = built
    everything = list(pages.values()) + list(shipped.values())
    kept_text = " ".join(_normalise("".join(c["source"])) for c in _cells(solution=False))
    kept_text += " ".join(_normalise(path.read_text()) for path in (ROOT / "book").glob("*.md"))
    only_in_solutions = {line for line in _lines(_cells(solution=True)) if _normalise(line) not in kept_text}
    assert len(only_in_solutions) > 100, "too few solution lines to test with"
    leaked = sorted(line for line in only_in_solutions if any(_normalise(line) in text for text in everything))
    assert not leaked, f"{len(leaked)} solution lines in the built book, e.g. {leaked[:3]}"


def test_the_same_search_finds_the_code_that_is_kept(built):
    """The control: lines of ordinary code cells are found, so a leak would be too."""
    pages, _ = built
    kept = sorted(line for line in _lines(c for c in _cells(solution=False) if c["cell_type"] == "code"
                                          and "remove-cell" not in c["metadata"].get("tags", [])))
    found = [line for line in kept if any(_normalise(line) in text for text in pages.values())]
    assert len(found) > 0.9 * len(kept), f"only {len(found)} of {len(kept)} kept code lines found"


def test_no_page_leads_to_the_solutions_elsewhere(built):
    """No button to the repository (whose notebooks hold the solutions), no PDF link, no
    instructors' page with the rubrics' whereabouts."""
    pages, _ = built
    raw = {path.name: path.read_text(errors="replace") for path in pages}
    assert "intro.html" in raw and "01_bptt.html" in raw
    buttons = ("colab.research.google.com", "mybinder.org", "gradcourse/gradcourse/edit/",
               "gradcourse/gradcourse/blob/", "gradcourse/gradcourse/issues/new")
    assert not [(name, b) for name, text in raw.items() for b in buttons if b in text]
    assert not [name for name, text in raw.items() if "gradcourse.pdf" in text]
    assert not [name for name in raw if "instructors" in name]
