"""Open the built book in headless Chromium with the network off, as readers would.

    python tools/check_book_in_browser.py [_build/html] [--chromium /usr/bin/chromium]
        [--baseline tools/browser_baseline.json] [--write-baseline]
        [--search Jacobian norm] [--file-pages index.html book/01_bptt.html]

The book is served from a local web server on 127.0.0.1; the browser can reach nothing
else, and every request for anything else counts as network use. Every page is opened in
light mode (a first visit: the theme's mode is "auto" and the browser prefers light) and
in dark mode (the theme's switch stored as "dark", and the browser prefers dark), and
measured at 1280 px and at 390 px wide (a phone). Closed dropdowns and hidden code cells
are opened before anything is measured, as a reader may open them. Each problem is
printed with the name of its rule:

network, console, script-error, untypeset-math, tex-error, broken-image, broken-font,
theme-mode
    the page asks the network for anything; the console logs an error, or a script
    throws one (but the known, harmless ones of KNOWN_CONSOLE_ERRORS, each with its
    reason); MathJax leaves TeX untypeset or reports an error; an image or a web font
    does not load; the page does not show the light or dark theme it was asked for;
page-wider-than-screen
    the page itself scrolls sideways, at either width;
wide-code, wide-output, wide-math, wide-table: rule (a)
    a code cell, a cell's output, a display formula or a table of the text is wider than
    its box, so that its content needs sideways scrolling (scrollWidth > clientWidth + 1;
    for a table, its width against the box that holds it);
small-figure-text: rule (b)
    the smallest text of a figure is under 9 px on screen. For a PNG that is (smallest
    font in points) * dpi / 72 * (shown width / natural width), with the dpi the PNG
    records (pHYs) and the smallest font from its text entry "gradcourse:smallest-font-pt".
    A Matplotlib PNG (tEXt "Software" starts with "Matplotlib") without that entry is
    taken to have Matplotlib's default tick labels, 10 pt, as its smallest text: the
    size found is then an upper bound (a 7 pt legend is smaller). Other images are skipped;
search-raw-tex: rule (c)
    search.html?q=TERM, for each TERM of --search, shows raw TeX (\\( \\lVert \\frac $$
    ...) in a result's summary; TeX that is the text of a code block of that page is
    code, shown as written, and allowed;
search-broken: rule (d)
    the search page logs an error, does not finish, finds nothing for a term that the
    book's text contains, or a term of --search is in no page at all;
file-url: rule (e)
    a page of --file-pages (by default index.html and the first page with both display
    math and a figure), opened as a file:// URL in light mode at 1280 px, with the network
    still off, breaks one of the rules of the first paragraph (the rule is named).

Rules (a) and (b) fail at 1280 px. At 390 px they are reported, not failed: on a phone,
code and long formulas scrolling sideways inside their own box is the normal way to show
them, and a reader zooms into a figure; what fails at 390 px is the page itself scrolling
sideways (page-wider-than-screen), which moves the text out of view.

Known violations of rules (a) and (b) at 1280 px and of page-wider-than-screen are listed
in the baseline file (page, rule, element), written by --write-baseline. A violation in
the baseline is counted per page and does not fail; one not in it fails; an entry that no
longer occurs fails too (stale-baseline), so that the baseline can only shrink: write it
again once an element is fixed. An element is named by its content, not its position:
the longest line of a code block, the first line of the cell whose output it is, the
equation's label or its TeX, the figure's id, or the width for page-wider-than-screen.

Failing pages are saved as screenshots in <book>/../browser-failures/. The last line
counts the checks (a page in one mode, a search, a file:// page, the baseline) that
passed and failed; the exit code is 1 if any failed.
"""

import argparse
import contextlib
import functools
import http.server
import json
import re
import struct
import sys
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [  # no background traffic, which this check would report as network use
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",  # no name resolves but 127.0.0.1
]
# Every request but those for 127.0.0.1 goes to a proxy on a closed port, and so fails; the
# check sees each request and reports those for anything but the book as network use.
NO_NETWORK = {"server": "http://127.0.0.1:9", "bypass": "127.0.0.1"}

# Console errors that are known, understood and harmless, each with its reason. Nothing else
# is ignored.
KNOWN_CONSOLE_ERRORS = {
    # jupyter-book 1.0.4 registers sphinx-thebe twice, so its inline configuration script,
    # which declares this constant, appears twice on every page. Thebe (live code cells) is
    # not used by the course; the launch buttons open Binder and Colab instead.
    "Identifier 'THEBE_JS_URL' has already been declared",
    # pydata-sphinx-theme 0.15.4 (pinned by sphinx-book-theme 1.1.4) reads the light/dark
    # mode from the browser's storage, finds nothing on a first visit, logs this and uses
    # "auto", which is what the book wants.
    "Got invalid theme mode: . Resetting to auto.",
}

# Only for pages opened as file:// URLs. The theme preloads its icon fonts with a CORS
# request, which Chromium refuses for a file:// page (its origin is "null"); the same fonts
# then load through the theme's style sheet, and the broken-font rule checks that they do.
KNOWN_FILE_URL_ERRORS = re.compile(r"/_static/vendor/fontawesome/[^/]+/webfonts/[\w-]+\.woff2")

DESKTOP, PHONE = 1280, 390
HEIGHTS = {DESKTOP: 900, PHONE: 844}
MODES = ("light", "dark")
MIN_TEXT_PX = 9.0
FONT_KEY = "gradcourse:smallest-font-pt"
DEFAULT_FONT_PT = 10.0  # Matplotlib's tick labels: font.size 10 pt, "medium"
DEFAULT_BASELINE = Path(__file__).with_name("browser_baseline.json")
DEFAULT_SEARCH = ("Jacobian", "norm")
SEARCH_SECONDS = 15  # for the results and their summaries to appear
RAW_TEX = re.compile(r"\\[()\[\]{}|,;!]|\\[A-Za-z]+|\$\$|[_^]\{")

# Evaluated in the page once MathJax and the web fonts have finished: what a reader would
# see as broken.
PAGE_CHECKS = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  await document.fonts.ready;
  const main = document.querySelector('main');
  const untypeset = [...document.querySelectorAll('.math')].filter(e => !e.querySelector('mjx-container'));
  const rawTex = /\\\\\\(|\\\\\\[|\\$\\$/.test(main ? main.innerText : '');
  const images = [...document.images].filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.src);
  const fonts = [...document.fonts].filter(f => f.status === 'error').map(f => f.family);
  return {
    mathjax: Boolean(window.MathJax),
    nMath: document.querySelectorAll('.math').length,
    untypeset: untypeset.length,
    rawTex: rawTex,
    texErrors: document.querySelectorAll('mjx-merror').length,
    brokenImages: images,
    brokenFonts: fonts,
    theme: document.documentElement.dataset.theme,
  };
}"""

# Opens what a reader may open: <details> (hidden code cells) and toggled admonitions.
OPEN_HIDDEN = """() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  document.querySelectorAll('.toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
}"""

# Everything rules (a) and (b) and page-wider-than-screen measure, once the layout and the
# fonts of what OPEN_HIDDEN showed have settled.
GEOMETRY = """async () => {
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  await document.fonts.ready;
  const main = document.querySelector('main') || document.body;
  const wide = e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1;
  const lines = t => t.split('\\n').map(l => l.trim()).filter(l => l);
  const longest = t => lines(t).reduce((a, b) => b.length > a.length ? b : a, '');
  const box = e => ({scroll: e.scrollWidth, client: e.clientWidth});
  const boxes = [];
  for (const pre of main.querySelectorAll('div.highlight pre')) {
    if (!pre.closest('.cell_output') && wide(pre))
      boxes.push({rule: 'wide-code', what: 'line', text: longest(pre.textContent), ...box(pre)});
  }
  for (const out of main.querySelectorAll('.cell_output')) {
    const over = [out, ...out.querySelectorAll('pre, div.output, table')].filter(wide);
    if (!over.length) continue;
    const worst = over.reduce((a, b) => b.scrollWidth - b.clientWidth > a.scrollWidth - a.clientWidth ? b : a);
    const input = out.closest('.cell') && out.closest('.cell').querySelector('.cell_input pre');
    boxes.push({rule: 'wide-output', what: input ? 'output of' : 'output',
                text: input ? (lines(input.textContent)[0] || '') : longest(out.textContent), ...box(worst)});
  }
  for (const c of main.querySelectorAll('mjx-container[display]')) {
    if (!wide(c)) continue;
    const label = c.closest('.math[id]');
    let tex = '';
    try { tex = MathJax.startup.document.getMathItemsWithin(c.parentElement).map(m => m.math).join(' '); } catch (e) {}
    boxes.push({rule: 'wide-math', what: label ? 'equation' : 'formula',
                text: label ? label.id : (tex || c.textContent), ...box(c)});
  }
  for (const t of main.querySelectorAll('table')) {
    const holder = t.parentElement;
    if (t.closest('.cell_output') || !holder.clientWidth || t.scrollWidth <= holder.clientWidth + 1) continue;
    const head = t.querySelector('tr');
    const text = head ? [...head.children].map(c => c.textContent.trim()).join(' | ') : t.textContent;
    boxes.push({rule: 'wide-table', what: 'table', text: text,
                scroll: t.scrollWidth, client: holder.clientWidth});
  }
  const images = [];
  for (const img of main.querySelectorAll('img')) {
    if (!img.naturalWidth || !img.clientWidth) continue;
    const s = getComputedStyle(img);
    const edges = ['paddingLeft', 'paddingRight', 'borderLeftWidth', 'borderRightWidth'];
    const shown = img.getBoundingClientRect().width - edges.reduce((a, k) => a + (parseFloat(s[k]) || 0), 0);
    const fig = img.closest('figure[id]');
    images.push({src: img.currentSrc || img.src, natural: img.naturalWidth, shown: shown,
                 name: fig ? 'figure ' + fig.id : 'image ' + (img.alt || img.src.split('/').pop())});
  }
  const doc = document.scrollingElement;
  let page = null;
  if (doc.scrollWidth > doc.clientWidth + 1) {
    // What sticks out past the window's right edge without a scrolling box around it.
    const free = e => { for (let a = e.parentElement; a && a !== document.body; a = a.parentElement)
                          if (getComputedStyle(a).overflowX !== 'visible') return false;
                        return true; };
    const edge = doc.clientWidth + 1;
    const past = e => { const r = e.getBoundingClientRect();
                        return r.right > edge
                          || (getComputedStyle(e).overflowX === 'visible' && r.left + e.scrollWidth > edge); };
    const out = [...document.body.querySelectorAll('*')].filter(e => past(e) && free(e));
    const inner = out.filter(e => !out.some(o => o !== e && e.contains(o)));
    const blocks = [...new Set(inner.map(e => e.closest('dt, dd, p, li, pre, table, div, section') || e))];
    page = {scroll: doc.scrollWidth, client: doc.clientWidth, n: blocks.length,
            first: blocks.length ? blocks[0].tagName.toLowerCase() + ' "' + blocks[0].textContent + '"' : ''};
  }
  return {boxes, images, page};
}"""

SEARCH_STATE = """() => {
  const status = [...document.querySelectorAll('#search-results .search-summary')]
    .map(p => p.textContent.trim()).join(' ');
  const items = [...document.querySelectorAll('#search-results ul.search > li')];
  return {
    finished: Boolean(status),
    status: status,
    results: items.length,
    waiting: items.filter(li => !li.querySelector('p.context') && !li.querySelector(':scope > span')).length,
    summaries: items.filter(li => li.querySelector('p.context')).map(li => ({
      href: li.querySelector('a').getAttribute('href'),
      text: li.querySelector('p.context').textContent})),
  };
}"""

# The text of pages of the book as Sphinx's search reads it (the [role=main] element of the
# fetched page), and the text of their code blocks; run in a page of the book.
PAGE_TEXTS = """async (pages) => Promise.all(pages.map(async page => {
  const doc = new DOMParser().parseFromString(await (await fetch(page)).text(), 'text/html');
  const main = doc.querySelector('[role="main"]');
  return {page: page, text: main ? main.textContent : '',
          code: [...doc.querySelectorAll('pre')].map(p => p.textContent.split(/\\s+/).join(' ')).join(' | ')};
}))"""


@dataclass(frozen=True)
class Finding:
    """One problem: the page (relative to the book), its rule, the element and what was seen."""

    page: str
    rule: str
    element: str = ""
    detail: str = ""

    @property
    def key(self):
        return (self.page, self.rule, self.element)

    def __str__(self):
        return ": ".join(part for part in (self.rule, self.element, self.detail) if part)


def short(text, n=70):
    """``text`` on one line, cut to ``n`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


# ---------------------------------------------------------------- PNG metadata, rule (b)

@functools.lru_cache(maxsize=None)
def png_info(path):
    """The text entries and the dpi (from pHYs, or None) of a PNG file; None if not a PNG."""
    data = Path(path).read_bytes() if Path(path).is_file() else b""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    text, dpi, pos = {}, None, 8
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + size]
        pos += 12 + size
        key, _, value = body.partition(b"\0")
        if kind == b"tEXt":
            text[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"zTXt":
            text[key.decode("latin-1")] = zlib.decompress(value[1:]).decode("latin-1")
        elif kind == b"iTXt":
            compressed, rest = value[0], value[2:]
            value = rest.split(b"\0", 2)[2]
            text[key.decode("latin-1")] = (zlib.decompress(value) if compressed else value).decode("utf-8")
        elif kind == b"pHYs" and len(body) == 9:
            per_metre, _, unit = struct.unpack(">IIB", body)
            dpi = round(per_metre * 0.0254, 2) if unit == 1 else None
        elif kind == b"IEND":
            break
    return text, dpi


def figure_text_px(path, natural, shown):
    """Size on screen, in px, of a figure's smallest text, and how it was found; None if unknown."""
    info = png_info(str(path))
    if info is None:
        return None
    text, dpi = info
    if FONT_KEY in text:
        pt, source = float(text[FONT_KEY]), "from the PNG"
    elif text.get("Software", "").startswith("Matplotlib"):
        pt, source = DEFAULT_FONT_PT, "assumed: Matplotlib's tick labels; the PNG does not say"
    else:
        return None
    if dpi is None:
        dpi, source = 100.0, source + "; dpi assumed 100, the PNG does not say"
    scale = shown / natural
    how = f"{pt:g} pt ({source}) at {dpi:g} dpi, image {natural} px shown at {shown:.0f} px"
    return pt * dpi / 72 * scale, how


# ---------------------------------------------------------------- serving and the browser

class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # one line per page is printed instead
        pass


@contextlib.contextmanager
def serve(root):
    """Serve ``root`` on 127.0.0.1 on a free port; yields the origin, http://127.0.0.1:PORT."""
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def known(message, location="", file_url=False):
    """Whether a console or script error is one of the known, harmless ones."""
    if any(k in message for k in KNOWN_CONSOLE_ERRORS):
        return True
    return file_url and bool(KNOWN_FILE_URL_ERRORS.search(message) or KNOWN_FILE_URL_ERRORS.search(location))


class Tab:
    """One browser context and one page in a light or dark mode, reused from page to page.

    Requests for anything but ``origin``, file:, data: and blob: URLs are kept in ``network``
    (the browser, from launch(), cannot reach them); console errors and uncaught script errors
    (but the known ones) in ``errors``.
    """

    def __init__(self, browser, mode="light", origin=None):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.mode, self.origin = mode, origin
        self.errors, self.network, self.file_url = [], [], False
        self.context = browser.new_context(viewport={"width": DESKTOP, "height": HEIGHTS[DESKTOP]},
                                           color_scheme=mode)
        if mode == "dark":  # the theme's switch, as the theme stores it once a reader chose dark
            self.context.add_init_script("localStorage.setItem('mode', 'dark');"
                                         "localStorage.setItem('theme', 'dark');")
        self.context.on("request", self._request)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", self._script_error)

    def _request(self, request):
        parsed = urlparse(request.url)
        if parsed.scheme not in ("data", "blob", "file") and f"{parsed.scheme}://{parsed.netloc}" != self.origin:
            self.network.append(request.url)

    def _console(self, msg):
        if msg.type == "error" and not known(msg.text, msg.location.get("url", ""), self.file_url):
            self.errors.append(("console", short(msg.text, 200)))

    def _script_error(self, err):
        if not known(str(err), file_url=self.file_url):
            self.errors.append(("script-error", short(err, 200)))

    def start(self, url, width=DESKTOP):
        """Start loading ``url`` at ``width`` px, without waiting for it."""
        self.errors.clear()
        self.network.clear()
        self.file_url = url.startswith("file:")
        self.resize(width)
        self.page.goto(url, wait_until="commit")

    def wait(self, redirect_to=None):
        """Wait until the page (and the page it redirects to, if any) has loaded."""
        if redirect_to:
            self.page.wait_for_url(redirect_to, timeout=15_000)
        self.page.wait_for_load_state("load")

    def open(self, url, width=DESKTOP, redirect_to=None):
        self.start(url, width)
        self.wait(redirect_to)

    def resize(self, width):
        self.page.set_viewport_size({"width": width, "height": HEIGHTS.get(width, 900)})

    def close(self):
        self.context.close()


class Tabs:
    """One Tab per mode for ``browser``, made when first asked for; reusable from run to run."""

    def __init__(self, browser):
        self.browser, self.tabs = browser, {}

    def get(self, mode, origin):
        if mode not in self.tabs:
            self.tabs[mode] = Tab(self.browser, mode, origin)
        self.tabs[mode].origin = origin
        return self.tabs[mode]

    def close(self):
        for tab in self.tabs.values():
            tab.close()
        self.tabs.clear()


def launch(playwright, chromium="/usr/bin/chromium"):
    """Headless Chromium at ``chromium``, with no way out of the machine but to 127.0.0.1."""
    return playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, proxy=NO_NETWORK)


def redirect_target(path):
    """The page a meta-refresh page (as index.html) sends the reader to, or None."""
    head = path.read_text(errors="replace")[:2000]
    match = re.search(r'http-equiv="Refresh"\s+content="\d+;\s*url=([^"]+)"', head, re.I)
    return (path.parent / match.group(1)).resolve() if match else None


# ---------------------------------------------------------------- checks of one page

def loading_findings(tab, name, result):
    """What the loaded page shows: network use, console errors, math, images, fonts, theme.

    For a file:// page every rule is reported as file-url, rule (e), naming the rule broken.
    """
    found = [(rule, text) for rule, text in tab.errors]
    if tab.network:
        found.append(("network", f"asked the network for {len(tab.network)} resources, first {tab.network[0]}"))
    if result["nMath"] and not result["mathjax"]:
        found.append(("untypeset-math", "the page has math but MathJax did not load"))
    if result["untypeset"] or result["rawTex"]:
        found.append(("untypeset-math", f"{result['untypeset']} math elements left untypeset "
                      f"(raw TeX in the text: {result['rawTex']})"))
    if result["texErrors"]:
        found.append(("tex-error", f"{result['texErrors']} TeX errors"))
    if result["brokenImages"]:
        found.append(("broken-image", f"{len(result['brokenImages'])} images did not load, first "
                      f"{result['brokenImages'][0]}"))
    if result["brokenFonts"]:
        found.append(("broken-font", "web fonts did not load: " + ", ".join(sorted(set(result["brokenFonts"])))))
    if result["theme"] not in (None, tab.mode):
        found.append(("theme-mode", f"asked for {tab.mode} mode, the page shows the "
                      f"{result['theme'] or 'default'} theme"))
    if tab.file_url:
        return [Finding(name, "file-url", rule, text) for rule, text in found]
    return [Finding(name, rule, detail=text) for rule, text in found]


def url_to_path(root, origin, url):
    """The file of the book that ``url`` (served from ``origin``, or a file:// URL) is."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if origin and url.startswith(origin):
        return root / unquote(parsed.path).lstrip("/")
    return None


def geometry_findings(tab, root, name):
    """Findings of rules (a), (b) and page-wider-than-screen at the tab's current width."""
    width = tab.page.viewport_size["width"]
    geometry = tab.page.evaluate(GEOMETRY)
    found, seen = [], {}
    for b in geometry["boxes"]:
        element = f'{b["what"]} "{short(b["text"], 60)}"'
        seen[(b["rule"], element)] = n = seen.get((b["rule"], element), 0) + 1
        element += f" ({n})" if n > 1 else ""
        found.append(Finding(name, b["rule"], element,
                             f"needs {b['scroll']} px in a {b['client']} px box at {width} px"))
    for img in geometry["images"]:
        path = url_to_path(root, tab.origin, img["src"])
        size = figure_text_px(path, img["natural"], img["shown"]) if path else None
        if size and size[0] < MIN_TEXT_PX:
            found.append(Finding(name, "small-figure-text", img["name"], f"smallest text {size[0]:.1f} px at "
                                 f"{width} px (under {MIN_TEXT_PX:g}): {size[1]}"))
    if geometry["page"]:
        p = geometry["page"]
        found.append(Finding(name, "page-wider-than-screen", f"at {width} px",
                             f"the page is {p['scroll']} px wide in a {p['client']} px window; {p['n']} blocks "
                             f"stick out past its edge, first {short(p['first'], 80)}"))
    return found


def check_page(tab, root, name):
    """The checks of the page ``name``, loaded in ``tab`` at 1280 px (see Tab.start).

    Returns (failures, known, reported, n_math): failures fail outright; ``known`` may be
    in the baseline (rules (a) and (b) at 1280 px, page-wider-than-screen at both widths);
    ``reported`` are rules (a) and (b) at 390 px.
    """
    result = tab.page.evaluate(PAGE_CHECKS)
    failures = loading_findings(tab, name, result)
    tab.page.evaluate(OPEN_HIDDEN)
    desktop = geometry_findings(tab, root, name)
    tab.resize(PHONE)
    phone = geometry_findings(tab, root, name)
    reported = [f for f in phone if f.rule != "page-wider-than-screen"]
    return failures, desktop + [f for f in phone if f not in reported], reported, result["nMath"]


# ---------------------------------------------------------------- search, rules (c) and (d)

def _largest(fits, hi):
    """The largest k in 0..hi with fits(k), for fits true at 0 and true up to some k only."""
    lo = 0
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid - 1)
    return lo


def raw_tex(summary, code, context=8):
    """The pieces of raw TeX in a search summary that are not text of the page's code blocks.

    A match is code when the longest piece of the summary around it that is in ``code``
    holds at least ``context`` characters besides the match.
    """
    summary = " ".join(summary.split())
    found = []
    for match in RAW_TEX.finditer(summary):
        start, end = match.span()
        if summary[start:end] in code:
            a = start - _largest(lambda k: summary[start - k:end] in code, start)
            b = end + _largest(lambda k: summary[a:end + k] in code, len(summary) - end)
            if b - a - (end - start) >= context:
                continue
        found.append(summary[max(0, start - 25):end + 25])
    return found


def check_search(tab, root, terms):
    """Rules (c) and (d): search.html?q=TERM for each term. Returns {term: findings}."""
    if not (root / "search.html").is_file():
        return {term: [Finding("search.html", "search-broken", detail="there is no search.html")] for term in terms}
    tab.open(f"{tab.origin}/search.html")
    texts = tab.page.evaluate(PAGE_TEXTS, [quote(p) for p in book_pages(root)])
    found = {}
    for term in terms:
        in_book = [t for t in texts if term.lower() in " ".join(t["text"].split()).lower()]
        if not in_book:
            found[term] = [Finding("search.html", "search-broken", detail=f"{term!r} is in no page of the book: "
                                   "choose another term for --search")]
        else:
            found[term] = search_term(tab, root, term, len(in_book), {t["page"]: t["code"] for t in texts})
    return found


def search_term(tab, root, term, n_pages, code):
    """search.html?q=``term``; ``code`` is the text of the code blocks of each page."""
    name = f"search.html?q={term}"
    tab.open(f"{tab.origin}/search.html?q={quote(term)}")
    try:
        tab.page.wait_for_function(f"() => ({SEARCH_STATE})().finished && !({SEARCH_STATE})().waiting",
                                   timeout=SEARCH_SECONDS * 1000)
    except PlaywrightTimeout:  # reported below from the page's state
        pass
    state = tab.page.evaluate(SEARCH_STATE)
    found = [Finding(name, "search-broken", rule, text) for rule, text in tab.errors]
    found += [Finding(name, "search-broken", detail=f"asked the network for {u}") for u in tab.network[:1]]
    if not state["finished"]:
        found.append(Finding(name, "search-broken", detail=f"the search did not finish within {SEARCH_SECONDS} s"))
    elif not state["results"]:
        pages = f"{n_pages} page{'s' if n_pages != 1 else ''}"
        found.append(Finding(name, "search-broken", detail=f"no result, though {term!r} is in the text of {pages} "
                             f"(the page says: {short(state['status'], 90)})"))
    elif state["waiting"]:
        found.append(Finding(name, "search-broken", detail=f"{state['waiting']} results never got their summary"))
    for s in state["summaries"]:
        tex = raw_tex(s["text"], code.get(quote(unquote(urlparse(s["href"]).path)), ""))
        if tex:
            found.append(Finding(name, "search-raw-tex", f"result {urlparse(s['href']).path}",
                                 f"{len(tex)} pieces of raw TeX in its summary, first …{tex[0]}…"))
    return found


# ---------------------------------------------------------------- file:// pages, rule (e)

def default_file_pages(root, pages):
    """index.html and the first page with both display math and a figure."""
    chosen = ["index.html"] if (root / "index.html").is_file() else []
    for name in pages:
        text = (root / name).read_text(errors="replace")
        if '<div class="math' in text and "_images/" in text:
            return chosen + [name]
    return chosen


def check_file_page(tab, root, name):
    """Rule (e): ``name`` opened as a file:// URL, with the loading checks of every page."""
    path = root / name
    if not path.is_file():
        return [Finding(name, "file-url", detail="no such page")]
    target = redirect_target(path)
    tab.open(path.as_uri(), redirect_to=target.as_uri() if target else None)
    return loading_findings(tab, name, tab.page.evaluate(PAGE_CHECKS))


# ---------------------------------------------------------------- the baseline

def read_baseline(path):
    """The set of (page, rule, element) keys in the baseline file; empty if there is none."""
    if path is None or not Path(path).is_file():
        return set()
    entries = json.loads(Path(path).read_text())["violations"]
    return {(e["page"], e["rule"], e["element"]) for e in entries}


def write_baseline(path, keys):
    """Write ``keys`` as the baseline, one entry a line, sorted."""
    lines = [json.dumps({"page": p, "rule": r, "element": e}, ensure_ascii=False) for p, r, e in sorted(keys)]
    about = ("Known violations of wide-code, wide-output, wide-math, wide-table and small-figure-text at "
             "1280 px and of page-wider-than-screen, found by tools/check_book_in_browser.py and written by its "
             "--write-baseline option. Fix an element, then write this file again: it may only shrink.")
    body = ",\n  ".join(lines)
    Path(path).write_text('{\n "about": ' + json.dumps(about) + ',\n "violations": [\n  ' + body + "\n ]\n}\n")


# ---------------------------------------------------------------- the whole book

def book_pages(root):
    """The pages to check, relative to ``root``: all but the search page and the index."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.html")
                  if "_static" not in p.parts and p.name not in ("genindex.html", "search.html"))


def count_rules(findings):
    counts = {}
    for f in findings:
        counts[f.rule] = counts.get(f.rule, 0) + 1
    return ", ".join(f"{n} {r}" for r, n in sorted(counts.items()))


class Report:
    """Counts of checks passed and failed, the lines printed, the findings that may be baselined."""

    def __init__(self, log=print, failures_dir=None):
        self.log, self.failures_dir = log, failures_dir
        self.passed = self.failed = 0
        self.known, self.failures = [], []
        self.screenshots = 10  # at most, each a few seconds for a long page

    def result(self, label, failures, note="", tab=None, fail_note=None):
        """One check: ok with ``note``, or FAIL with ``fail_note`` (default ``note``), one line per
        finding and a screenshot of ``tab``."""
        note = note if not failures or fail_note is None else fail_note
        self.failures += failures
        if not failures:
            self.passed += 1
            self.log(f"ok   {label}: {note}" if note else f"ok   {label}")
            return
        self.failed += 1
        shot = ""
        if tab is not None and self.failures_dir is not None and self.screenshots > 0:
            self.screenshots -= 1
            self.failures_dir.mkdir(parents=True, exist_ok=True)
            path = self.failures_dir / (re.sub(r"[^\w.-]+", "_", label).strip("_") + ".png")
            tab.page.screenshot(path=str(path), full_page=True)
            shot = f" (screenshot {path})"
        self.log(f"FAIL {label}: {note}{shot}")
        for f in failures:
            self.log(f"       {f}")


def check_pages(tabs, root, pages, baseline, report):
    """Every page in each tab's mode, the tabs loading side by side (one renderer each).

    A finding that may be baselined fails unless it is in ``baseline``; with ``baseline``
    None, none of them fails (the baseline is being written).
    """
    origin = tabs[0].origin
    for name in pages:
        if redirect_target(root / name):
            report.result(name, [], "a redirect")
            continue
        for tab in tabs:
            tab.start(f"{origin}/{quote(name)}", DESKTOP)
        for tab in tabs:
            tab.wait()
            failures, known, reported, n_math = check_page(tab, root, name)
            report.known += known
            failures += [f for f in known if baseline is not None and f.key not in baseline]
            known = [f for f in known if baseline is None or f.key in baseline]
            note = f"{n_math} formulas typeset"
            note += f"; known (baseline): {count_rules(known)}" if known else ""
            note += f"; at {PHONE} px, reported only: {count_rules(reported)}" if reported else ""
            if any(f.element != f"at {PHONE} px" for f in failures):
                tab.resize(DESKTOP)  # for the screenshot
            report.result(f"{name} [{tab.mode}]", failures, note, tab)


def run(browser, root, baseline_path=None, write=False, terms=DEFAULT_SEARCH, file_pages=None,
        failures_dir=None, pages=None, log=print, modes=MODES, tabs=None):
    """The whole check of the book built in ``root``; returns its Report.

    ``pages`` (default: every page) and ``file_pages`` (default: see default_file_pages)
    are paths relative to ``root``; ``terms`` are searched for with search.html; ``modes``
    are the theme's modes the pages are checked in. ``tabs`` (Tabs of ``browser``) are
    reused and left open; by default new ones are made and closed.
    """
    root = Path(root).resolve()
    pages = book_pages(root) if pages is None else list(pages)
    baseline = None if write else read_baseline(baseline_path)
    report = Report(log, failures_dir)
    files = default_file_pages(root, pages) if file_pages is None else list(file_pages)
    own, tabs = tabs is None, tabs or Tabs(browser)
    with serve(root) as origin:
        if pages:
            check_pages([tabs.get(mode, origin) for mode in modes], root, pages, baseline, report)
        if terms:
            tab = tabs.get("light", origin)
            for term, found in check_search(tab, root, terms).items():
                report.result(f"search.html?q={term}", found, "results found, no raw TeX in their summaries",
                              tab, "")
        for name in files:
            tab = tabs.get("light", origin)
            report.result(f"{name} [file://]", check_file_page(tab, root, name),
                          "no console error, no broken image or font, math typeset", tab, "")
    if own:
        tabs.close()
    found = {f.key for f in report.known}
    if write:
        old = read_baseline(baseline_path)
        write_baseline(baseline_path, found)
        log(f"wrote {baseline_path}: {len(found)} entries, {len(found - old)} new, {len(old - found)} gone")
    elif baseline:  # entries of pages not checked now are left alone
        stale = [Finding(p, "stale-baseline", f"{r} {e}", "no longer occurs: write the baseline again "
                         "(--write-baseline)") for p, r, e in sorted(baseline - found) if p in pages]
        report.result("baseline", stale, f"{len(baseline)} known violations, all still there", None,
                      f"{len(stale)} of the {len(baseline)} known violations no longer occur")
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("book", nargs="?", default="_build/html", type=Path)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--baseline", type=Path, default=DEFAULT_BASELINE,
                        help="known violations (default: %(default)s)")
    parser.add_argument("--write-baseline", action="store_true",
                        help="write the known-violation rules' findings of now as the baseline")
    parser.add_argument("--search", nargs="*", default=list(DEFAULT_SEARCH), metavar="TERM",
                        help="terms to search for, rules (c) and (d) (default: %(default)s)")
    parser.add_argument("--file-pages", nargs="*", metavar="PAGE",
                        help="pages to open as file:// URLs, rule (e) (default: index.html and the first "
                             "page with display math and a figure)")
    args = parser.parse_args(argv)
    root = args.book.resolve()
    if not book_pages(root):
        sys.exit(f"no HTML pages under {root}: build the book first")
    start = time.monotonic()
    with sync_playwright() as pw:
        browser = launch(pw, args.chromium)
        report = run(browser, root, args.baseline, args.write_baseline, args.search, args.file_pages,
                     root.parent / "browser-failures")
        browser.close()
    print(f"checked in {time.monotonic() - start:.0f} s")
    print(f"{report.passed} passed, {report.failed} failed")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
