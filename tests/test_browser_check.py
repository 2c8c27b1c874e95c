"""tools/check_book_in_browser.py fails on each of its rules, naming it, and passes a clean book.

A tiny Sphinx book (a page of prose, code, a notebook-like cell and a figure; a page of
formulas; Sphinx's own search page) is built once. Each test checks a copy of it in which
one thing is broken, as a reader would meet it, in one headless Chromium (and one light and
one dark tab) shared by all the tests. They are skipped when playwright or Debian's
chromium package is missing.
"""

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
sync_api = pytest.importorskip("playwright.sync_api", reason="the browser check needs the playwright package")
if not Path(CHROMIUM).is_file():
    pytest.skip("the browser check needs Chromium (Debian's chromium package)", allow_module_level=True)
sys.path.insert(0, str(ROOT / "tools"))
import check_book_in_browser as check  # noqa: E402

MARK = "<!-- a test puts its element here -->"
TERM = "Jacobian"

PAGE = f"""A tiny book
===========

The {TERM} of one step is a matrix. This first paragraph holds the search term, and a
search for it shows a window of 240 characters around its first occurrence as the
result's summary: a clean page has no TeX in it.

.. code-block:: python

   norms = [1.0, 0.5]

.. raw:: html

   <div class="cell docutils container"><div class="cell_input docutils container">
   <div class="highlight"><pre>print("short")</pre></div></div>
   <div class="cell_output docutils container"><div class="output stream">
   <div class="highlight"><pre>short</pre></div></div></div></div>

.. figure:: legible.png
   :name: fig-legible

   A figure whose text is legible: 5 inches at 100 dpi, shown at its natural size.

.. raw:: html

   {MARK}

.. toctree::
   :hidden:

   math
"""

MATH = f"""Formulas
========

A formula in the text, :math:`\\lVert J \\rVert \\le 1`, and one on its own line:

.. math::

   \\lVert J_t J_{{t-1}} \\rVert \\le \\lVert J_t \\rVert \\, \\lVert J_{{t-1}} \\rVert

.. raw:: html

   {MARK}
"""

CONF = """project = "Tiny"
extensions = ["sphinx.ext.mathjax"]
mathjax_path = "mathjax/tex-chtml.js"
html_theme = "basic"
html_static_path = ["_static"]
html_css_files = ["tiny.css"]
html_favicon = "legible.png"  # else the browser asks for /favicon.ico, a 404 in the console
"""

CSS = """main, div.body { max-width: 700px; }
img { max-width: 100%; height: auto; }
pre { overflow-x: auto; }
mjx-container[display] { overflow-x: auto; overflow-y: hidden; }
"""


def _png(path, width_in, metadata=None):
    """A Matplotlib figure ``width_in`` inches wide at 100 dpi, with its default 10 pt ticks."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width_in, 3.0), dpi=100)
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("step")
    fig.savefig(path, dpi=100, metadata=metadata or {})
    plt.close(fig)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The tiny book, built once with Sphinx; MathJax is linked from sphinx-mathjax-offline."""
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None:
        pytest.skip("the browser check's tests need MathJax from the sphinx-mathjax-offline package")
    mathjax = Path(spec.origin).parent / "static" / "mathjax"
    src = tmp_path_factory.mktemp("tiny")
    (src / "_static").mkdir()
    (src / "_static" / "tiny.css").write_text(CSS)
    (src / "conf.py").write_text(CONF)
    (src / "index.rst").write_text(PAGE)
    (src / "math.rst").write_text(MATH)
    _png(src / "legible.png", 5.0)
    from sphinx.cmd.build import build_main

    out = src / "_build"
    assert build_main(["-q", "-b", "html", str(src), str(out)]) == 0
    (out / "_static" / "mathjax").symlink_to(mathjax, target_is_directory=True)
    return out


@pytest.fixture(scope="module")
def tabs():
    """One browser, and its light and dark tabs, for all the tests."""
    with sync_api.sync_playwright() as pw:
        chromium = check.launch(pw, CHROMIUM)
        tabs = check.Tabs(chromium)
        yield tabs
        tabs.close()
        chromium.close()


@pytest.fixture
def book(built, tmp_path):
    """A fresh copy of the tiny book, to break."""
    copy = tmp_path / "html"
    shutil.copytree(built, copy, symlinks=True)
    return copy


def _insert(book, html, page="index.html"):
    page = book / page
    text = page.read_text()
    assert text.count(MARK) == 1
    page.write_text(text.replace(MARK, html))


def _run(tabs, book, pages=("index.html",), terms=(), file_pages=(), baseline=None, write=False,
         modes=("light",)):
    """The check of ``book``; by default of its first page in light mode only, to be quick."""
    lines = []
    report = check.run(tabs.browser, book, baseline, write, terms, file_pages, pages=pages,
                       log=lines.append, modes=modes, tabs=tabs)
    return report, "\n".join(lines)


def _failed_rules(report):
    return {f.rule for f in report.failures}


def test_a_clean_book_passes_every_rule(tabs, book):
    report, log = _run(tabs, book, pages=None, terms=(TERM,), file_pages=("index.html", "math.html"),
                       modes=check.MODES)
    assert report.failed == 0, log
    # two pages in light and dark mode, the search, two pages as files: all ran and passed
    assert report.passed == 7, log
    assert "ok   math.html [dark]: 2 formulas typeset" in log, log


WIDE = {
    "wide-code": '<div class="highlight"><pre>total = ' + " + ".join(["norms[0]"] * 40) + "</pre></div>",
    "wide-output": ('<div class="cell docutils container"><div class="cell_input docutils container">'
                    '<div class="highlight"><pre>print(norms * 40)</pre></div></div>'
                    '<div class="cell_output docutils container"><div class="output stream"><div class="highlight">'
                    "<pre>" + "0.5, " * 150 + "</pre></div></div></div></div>"),
    # in a box that scrolls, as the book's theme puts tables
    "wide-table": ('<div style="overflow-x: auto"><table><tr><th>remedy</th>'
                   + "".join(f"<th>property_number_{i}</th>" for i in range(30)) + "</tr></table></div>"),
    "wide-math": ('<div class="math notranslate nohighlight">\\[ L = '
                  + " + ".join(f"\\lVert \\partial L_{{{t}}} / \\partial h_{{{t}}} \\rVert" for t in range(30))
                  + " \\]</div>"),
}


@pytest.mark.parametrize("rule", sorted(WIDE))
def test_too_wide_at_1280_px_fails(tabs, book, rule):
    page = "math.html" if rule == "wide-math" else "index.html"
    _insert(book, WIDE[rule], page)
    report, log = _run(tabs, book, pages=(page,))
    assert _failed_rules(report) == {rule}, log
    finding = next(f for f in report.failures if f.rule == rule)
    scroll, client = (int(w) for w in finding.detail.split("needs ")[1].split(" px box")[0].split(" px in a "))
    assert scroll > client + 1, finding
    assert f"FAIL {page} [light]" in log and f"       {rule}: " in log, log


def test_too_wide_only_on_a_phone_is_reported_not_failed(tabs, book):
    # about 560 px of code: it fits the 700 px column at 1280 px, not the 390 px screen
    _insert(book, '<div class="highlight"><pre>' + "x" * 70 + "</pre></div>")
    report, log = _run(tabs, book)
    assert report.failed == 0, log
    assert f"at {check.PHONE} px, reported only: 1 wide-code" in log, log


def test_figure_text_too_small_fails(tabs, book):
    # 14 inches at 100 dpi is 1400 px, shown at most 700 px wide: 10 pt becomes under 7 px
    _png(book / "_images" / "wide.png", 14.0)
    _insert(book, '<figure id="fig-wide"><img src="_images/wide.png" alt="a wide figure"></figure>')
    report, log = _run(tabs, book)
    assert _failed_rules(report) == {"small-figure-text"}, log
    finding = next(f for f in report.failures if f.rule == "small-figure-text")
    assert finding.element == "figure fig-wide", finding
    px = float(finding.detail.split("smallest text ")[1].split(" px")[0])
    shown = float(finding.detail.split("shown at ")[1].split(" px")[0])
    assert px == pytest.approx(10 * 100 / 72 * shown / 1400, abs=0.06), finding
    assert "assumed" in finding.detail, finding


def test_figure_font_size_is_read_from_the_png(tabs, book):
    # natural size (500 px shown as 500 px), but its smallest text is 6 pt: 6 * 100 / 72 = 8.3 px
    _png(book / "_images" / "tiny_text.png", 5.0, {check.FONT_KEY: "6"})
    _insert(book, '<figure id="fig-tiny-text"><img src="_images/tiny_text.png"></figure>')
    report, log = _run(tabs, book)
    assert _failed_rules(report) == {"small-figure-text"}, log
    finding = report.failures[0]
    assert "smallest text 8.3 px" in finding.detail and "6 pt (from the PNG)" in finding.detail, finding


def test_png_info_reads_dpi_and_text(tmp_path):
    _png(tmp_path / "f.png", 2.0, {check.FONT_KEY: "7.5"})
    text, dpi = check.png_info(str(tmp_path / "f.png"))
    assert dpi == pytest.approx(100, abs=0.01)
    assert text[check.FONT_KEY] == "7.5" and text["Software"].startswith("Matplotlib")
    assert check.png_info(str(tmp_path / "missing.png")) is None


def test_a_page_wider_than_the_screen_fails(tabs, book):
    # about 600 px of text that cannot wrap: it fits the 700 px column, not a phone's screen
    _insert(book, '<p style="white-space: nowrap">' + "a long unbreakable line " * 4 + "</p>")
    report, log = _run(tabs, book)
    assert _failed_rules(report) == {"page-wider-than-screen"}, log
    assert {f.element for f in report.failures} == {f"at {check.PHONE} px"}, log
    assert 'first p "a long unbreakable line' in report.failures[0].detail, log


def test_raw_tex_in_a_search_summary_fails(tabs, book):
    page = book / "index.html"
    text = page.read_text()
    raw = '<span class="math notranslate nohighlight">\\(\\lVert \\frac{\\partial h_t}{\\partial h_k} \\rVert\\)</span>'
    assert text.count(f"The {TERM} of one step") == 1
    page.write_text(text.replace(f"The {TERM} of one step", f"The {TERM} {raw} of one step"))
    report, log = _run(tabs, book, pages=(), terms=(TERM,))
    assert _failed_rules(report) == {"search-raw-tex"}, log
    assert "\\lVert" in report.failures[0].detail and "index.html" in report.failures[0].element, log


def test_code_in_a_search_summary_is_not_raw_tex():
    code = 'ax.set_ylabel(r"$\\|\\partial L / \\partial W\\|$")'
    summary = f"...the figure: {code} draws it; and in the text \\(\\lVert W \\rVert\\) too..."
    found = check.raw_tex(summary, code)
    assert len(found) == 4 and not any("partial" in f for f in found), found  # the formula, not the code


@pytest.mark.parametrize("breakage", ["syntax error", "term missing"])
def test_a_broken_search_page_fails(tabs, book, breakage, monkeypatch):
    index = book / "searchindex.js"
    if breakage == "syntax error":
        monkeypatch.setattr(check, "SEARCH_SECONDS", 1)  # this search never finishes: no need to wait
        index.write_text("Search.setIndex({")
    else:
        text = index.read_text()
        assert '"jacobian"' in text
        index.write_text(text.replace('"jacobian"', '"jacobia"'))
    report, log = _run(tabs, book, pages=(), terms=(TERM,))
    assert _failed_rules(report) == {"search-broken"}, log
    if breakage == "syntax error":
        assert any(f.element == "script-error" for f in report.failures), log
    else:
        assert any(f"no result, though '{TERM}' is in the text of 1 page " in f.detail for f in report.failures), log


def test_a_search_term_that_is_not_in_the_book_fails(tabs, book):
    report, log = _run(tabs, book, pages=(), terms=("Hochreiter",))
    assert _failed_rules(report) == {"search-broken"}, log
    assert "is in no page of the book" in report.failures[0].detail


def test_a_page_that_errors_as_a_file_fails(tabs, book):
    # a module script loads over http but not from a file:// page, whose origin is "null"
    (book / "_static" / "tiny.mjs").write_text("document.body.dataset.loaded = 'yes';\n")
    _insert(book, '<script type="module" src="_static/tiny.mjs"></script>')
    report, log = _run(tabs, book, file_pages=("index.html",))
    assert _failed_rules(report) == {"file-url"}, log
    assert all(f.page == "index.html" for f in report.failures)
    assert any(f.element == "console" and "tiny.mjs" in f.detail for f in report.failures), log
    assert "ok   index.html [light]" in log, log  # the same page over http passes


def test_baseline_counts_known_violations_and_can_only_shrink(tabs, book, tmp_path):
    baseline = tmp_path / "baseline.json"
    _insert(book, WIDE["wide-code"] + WIDE["wide-output"])
    report, log = _run(tabs, book, baseline=baseline, write=True)
    assert report.failed == 0, log
    entries = json.loads(baseline.read_text())["violations"]
    assert [(e["page"], e["rule"]) for e in entries] == [("index.html", "wide-code"), ("index.html", "wide-output")]

    report, log = _run(tabs, book, baseline=baseline)
    assert report.failed == 0, log
    assert "known (baseline): 1 wide-code, 1 wide-output" in log, log

    # the output is fixed: its entry no longer occurs, which fails until the baseline shrinks
    page = book / "index.html"
    page.write_text(page.read_text().replace(WIDE["wide-output"], ""))
    report, log = _run(tabs, book, baseline=baseline)
    assert _failed_rules(report) == {"stale-baseline"}, log
    assert report.failures[0].element == 'wide-output output of "print(norms * 40)"', log

    # a violation that is not in the baseline fails, even beside a known one
    longer = WIDE["wide-code"].replace("total =", "grand_total =")
    page.write_text(page.read_text().replace(WIDE["wide-code"], WIDE["wide-code"] + longer))
    report, log = _run(tabs, book, baseline=baseline)
    assert _failed_rules(report) == {"stale-baseline", "wide-code"}, log
    new = [f.element for f in report.failures if f.rule == "wide-code"]
    assert len(new) == 1 and new[0].startswith('line "grand_total = norms[0] + '), log
