"""Build the whole book as one PDF, solutions included.

    python tools/build_pdf.py [--copy-to _build/html]

Jupyter Book's LaTeX builder writes _build/latex/<name>.tex (the name and the LaTeX settings
are in _config.yml), then latexmk typesets it with xelatex, as ``jupyter-book build .
--builder pdflatex`` does. In between, the references to exercises from another page are
repaired (sphinx-exercise 1.2.1 labels an exercise ``exercise:<label>`` in LaTeX, while
Sphinx refers to ``<page>:<label>``, which would print "Exercise ??").

Fails when a step fails, when LaTeX leaves a reference undefined, or when the font lacks a
character of the text (xelatex only logs those). With --copy-to, the PDF is copied into that
folder, e.g. the built web book, whose introduction links to it.

Needs xelatex and latexmk from TeX Live, and make: on Debian, the packages latexmk,
texlive-xetex (which brings texlive-latex-extra), texlive-fonts-recommended (hyperref's
xetex driver loads a font metric from it), fonts-freefont-otf (Sphinx's fonts for xelatex)
and make.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
LATEX_DIR = ROOT / "_build" / "latex"


def document_name(config_path=ROOT / "_config.yml"):
    """The PDF's name without extension, from ``latex: latex_documents: targetname``."""
    config = yaml.safe_load(config_path.read_text())
    return Path(config["latex"]["latex_documents"]["targetname"]).stem


def link_exercise_references(tex):
    """Point references to exercises at the labels sphinx-exercise writes, with the number.

    Parameters
    ----------
    tex : str
        The LaTeX source written by Sphinx.

    Returns
    -------
    tex : str
        The source with every ``\\hyperref[<page>:<label>]{Exercise \\ref{<page>:<label>}}``
        to a numbered exercise replaced by ``\\hyperref[exercise:<label>]{Exercise 1.1}``,
        the number the exercise's own title shows.
    count : int
        How many references were replaced.

    Examples
    --------
    >>> tex = (r"\\phantomsection \\label{exercise:ex-a}" "\\n\\n"
    ...        r"\\begin{sphinxadmonition}{note}{Exercise 2.3 (A title)}" "\\n"
    ...        r"See \\hyperref[\\detokenize{book/ch:ex-a}]{Exercise \\ref{\\detokenize{book/ch:ex-a}}}.")
    >>> fixed, count = link_exercise_references(tex)
    >>> count, fixed.splitlines()[-1]
    (1, 'See \\\\hyperref[exercise:ex-a]{Exercise 2.3}.')
    """
    titles = re.findall(r"\\label\{exercise:([^{}]+)\}\s*\\begin\{sphinxadmonition\}\{note\}\{\S+ ([0-9.]+)[ }]", tex)
    count = 0
    for label, number in titles:
        target = r"\\detokenize\{[^{}]*:" + re.escape(label) + r"\}"
        reference = re.compile(r"\\hyperref\[" + target + r"\]\{([^{}]*)\\ref\{" + target + r"\}\}")
        tex, n = reference.subn(lambda m: rf"\hyperref[exercise:{label}]{{{m.group(1)}{number}}}", tex)
        count += n
    return tex, count


def run(command, cwd=ROOT, env=None):
    """Run a command, showing its output only when it fails."""
    result = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        print(result.stdout[-20000:])
        sys.exit(f"failed ({result.returncode}): {' '.join(map(str, command))}")
    return result.stdout


def problems_in_log(log):
    """What the last LaTeX run reports that a reader would see as broken: a reference
    printed as "??" or a link to nowhere, a character left out for want of a glyph."""
    return [line for line in log.splitlines()
            if re.search(r"[Rr]eference `.*' on page \S+ undefined", line)
            or "There were undefined references" in line
            or line.startswith("Missing character")]


def build(copy_to=None):
    name = document_name()
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    run([str(jupyter_book), "build", str(ROOT), "--builder", "latex"])
    tex_path = LATEX_DIR / f"{name}.tex"
    tex, count = link_exercise_references(tex_path.read_text())
    tex_path.write_text(tex)
    print(f"{count} references to exercises linked")
    # Unwrapped log lines (TeX wraps them at 79 characters by default), for problems_in_log.
    run(["make", "all-pdf"], cwd=LATEX_DIR, env={**os.environ, "max_print_line": "100000"})
    pdf = LATEX_DIR / f"{name}.pdf"
    log = (LATEX_DIR / f"{name}.log").read_text(errors="replace")
    problems = problems_in_log(log)
    if problems:
        sys.exit("the PDF has problems:\n" + "\n".join(problems[:20]))
    if not pdf.is_file() or pdf.stat().st_size == 0:
        sys.exit(f"no PDF at {pdf}")
    pages = re.findall(r"Output written on .* \((\d+) pages?", log)
    print(f"{pdf.relative_to(ROOT)}: {pages[-1] if pages else '?'} pages, {pdf.stat().st_size / 1e6:.1f} MB")
    if copy_to is not None:
        copy_to.mkdir(parents=True, exist_ok=True)
        shutil.copy2(pdf, copy_to / pdf.name)
        print(f"copied to {copy_to / pdf.name}")
    return pdf


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copy-to", type=Path, help="a folder to copy the PDF into, e.g. _build/html")
    args = parser.parse_args()
    build(args.copy_to)


if __name__ == "__main__":
    main()
