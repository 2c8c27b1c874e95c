"""Sentences that check themselves: gradcourse.claims, and proof that a broken experiment fails
the test command instead of leaving a false sentence on the page."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gradcourse.claims import ClaimError, check

ROOT = Path(__file__).parents[1]


def test_a_supported_claim_is_printed(capsys):
    check("three is more than two", 3 > 2)
    assert capsys.readouterr().out == "checked: three is more than two\n"


def test_a_long_claim_is_wrapped_under_its_first_word(capsys):
    words = ["word"] * 40  # 199 characters: three lines of at most 79
    check(" ".join(words), True)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and max(map(len, lines)) <= 79
    assert lines[0].startswith("checked: word") and all(line.startswith(" " * 9 + "word") for line in lines[1:])
    assert " ".join(line.strip() for line in lines) == "checked: " + " ".join(words)


def test_a_claim_of_exactly_79_columns_stays_on_one_line_and_line_breaks_are_kept(capsys):
    claim = "x" * 70  # with "checked: ", 79 columns
    check(claim, True)
    check("first part\n         second part", True)
    assert capsys.readouterr().out == f"checked: {claim}\nchecked: first part\n         second part\n"


def test_an_unsupported_claim_raises_with_its_words_and_numbers():
    with pytest.raises(ClaimError, match=r"no longer support the claim: the loss fell \(final 0.3\)"):
        check("the loss fell", False, detail="final 0.3")
    assert issubclass(ClaimError, AssertionError)


@pytest.mark.parametrize("holds", [np.array([True, False]), 1, "yes", None])
def test_holds_must_be_one_truth_value(holds):
    with pytest.raises(TypeError, match="holds must be a single truth value"):
        check("something", holds)


@pytest.mark.parametrize("claim", ["", "   ", None, 3])
def test_claim_must_be_a_sentence(claim):
    with pytest.raises(TypeError, match="claim must be a non-empty string"):
        check(claim, True)


def _chapter_up_to(path, marker, change=None):
    """The chapter's cells up to the first code cell containing ``marker``, that cell's source
    optionally changed by ``change``."""
    nb = json.loads(path.read_text())
    for i, cell in enumerate(nb["cells"]):
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and marker in source:
            if change is not None:
                old, new = change
                assert old in source, "the experiment to break is no longer in the chapter"
                cell["source"] = source.replace(old, new).splitlines(keepends=True)
            nb["cells"] = nb["cells"][: i + 1]
            return nb
    raise AssertionError(f"no code cell with {marker!r} in {path.name}")


def _run_test_command(nb, tmp_path):
    """The README's test command (pytest with nbval), on one notebook."""
    target = tmp_path / "chapter.ipynb"
    target.write_text(json.dumps(nb))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "--nbval",
         "--nbval-current-env", f"--nbval-sanitize-with={ROOT / 'tests' / 'nbval_sanitize.cfg'}", str(target)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )


CHAPTER_3 = ROOT / "book" / "03_matrix.ipynb"
MARKER = "check(\"the norm exceeds the radius by a factor between 1.5 and 2\""
# A symmetric matrix is normal: its norm equals its radius, so the sentence
# "a random Gaussian matrix's norm exceeds its radius" no longer describes the experiment.
SYMMETRIC = ("W0 = np.random.default_rng(2).normal(size=(64, 64))",
             "W0 = np.random.default_rng(2).normal(size=(64, 64)); W0 = W0 + W0.T")


def test_the_chapter_as_stored_passes(tmp_path):
    result = _run_test_command(_chapter_up_to(CHAPTER_3, MARKER), tmp_path)
    assert result.returncode == 0, result.stdout[-2000:]


def test_breaking_the_experiment_fails_the_test_command(tmp_path):
    result = _run_test_command(_chapter_up_to(CHAPTER_3, MARKER, change=SYMMETRIC), tmp_path)
    assert result.returncode != 0
    assert "ClaimError" in result.stdout and "the norm exceeds the radius" in result.stdout
