"""Open every page of the built book in headless Chromium with the network off, as a reader would.

    python tools/check_book_in_browser.py [_build/html] [--chromium /usr/bin/chromium]

The book is served from a local web server on 127.0.0.1, and every request for anything
else is refused. A page fails when it asks the network for anything (a script, a font, a
style), when the browser console logs an error, when an image does not load, or when
MathJax leaves TeX untypeset or reports a TeX error. Failing pages are saved as
screenshots in <book>/../browser-failures/. Exits 1 if any page fails.
"""

import argparse
import functools
import http.server
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [  # no background traffic, which this check would report as network use
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

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

# Evaluated in the page once MathJax has finished: what a reader would see as broken.
PAGE_CHECKS = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const untypeset = [...document.querySelectorAll('.math')].filter(e => !e.querySelector('mjx-container'));
  const rawTex = /\\\\\\(|\\\\\\[|\\$\\$/.test(document.querySelector('main') ? document.querySelector('main').innerText : '');
  const images = [...document.images].filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.src);
  return {
    mathjax: Boolean(window.MathJax),
    nMath: document.querySelectorAll('.math').length,
    untypeset: untypeset.length,
    rawTex: rawTex,
    texErrors: document.querySelectorAll('mjx-merror').length,
    brokenImages: images,
  };
}"""


def known(message):
    return any(k in message for k in KNOWN_CONSOLE_ERRORS)


def check_page(page, url, local_origin):
    problems, network = [], []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
            if msg.type == "error" and not known(msg.text) else None)
    page.on("pageerror", lambda err: None if known(str(err)) else problems.append(f"script error: {err}"))

    def route(r):
        parsed = urlparse(r.request.url)
        if parsed.scheme in ("data", "blob") or f"{parsed.scheme}://{parsed.netloc}" == local_origin:
            r.continue_()
        else:
            network.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(url, wait_until="load")
    result = page.evaluate(PAGE_CHECKS)
    if network:
        problems.append(f"asked the network for {len(network)} resources, first {network[0]}")
    if result["nMath"] and not result["mathjax"]:
        problems.append("the page has math but MathJax did not load")
    if result["untypeset"] or result["rawTex"]:
        problems.append(f"{result['untypeset']} math elements left untypeset (raw TeX in the text: {result['rawTex']})")
    if result["texErrors"]:
        problems.append(f"{result['texErrors']} TeX errors")
    if result["brokenImages"]:
        problems.append(f"{len(result['brokenImages'])} images did not load, first {result['brokenImages'][0]}")
    return problems, result["nMath"]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # one line per page is printed instead
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("book", nargs="?", default="_build/html", type=Path)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    root = args.book.resolve()
    pages = sorted(p for p in root.rglob("*.html") if "_static" not in p.parts and p.name not in ("genindex.html", "search.html"))
    if not pages:
        sys.exit(f"no HTML pages under {root}: build the book first")
    failures_dir = root.parent / "browser-failures"
    failed = 0
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        for path in pages:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            name = path.relative_to(root)
            if 'http-equiv="Refresh"' in path.read_text()[:2000]:  # a redirect, e.g. index.html
                print(f"ok   {name}: redirect")
                page.close()
                continue
            problems, n_math = check_page(page, f"{origin}/{name.as_posix()}", origin)
            if problems:
                failed += 1
                failures_dir.mkdir(exist_ok=True)
                shot = failures_dir / (str(name).replace("/", "_") + ".png")
                page.screenshot(path=str(shot), full_page=True)
                print(f"FAIL {name}: " + "; ".join(problems) + f" (screenshot {shot})")
            else:
                print(f"ok   {name}: {n_math} formulas typeset, no network, no console error")
            page.close()
        browser.close()
    server.shutdown()
    print(f"{len(pages) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
