"""The first cell of every chapter installs, on Colab, the release the book was written for: the
cell tools/colab_cell.py builds from the repository address in _config.yml and the version in
pyproject.toml. The tool itself is tried on copies of the chapters."""

import importlib.util
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[1]
TOOL = ROOT / "tools" / "colab_cell.py"
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))

_spec = importlib.util.spec_from_file_location("colab_cell", TOOL)
colab_cell = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(colab_cell)


def _tool(*args):
    return subprocess.run([sys.executable, str(TOOL), *args], capture_output=True, text=True, cwd=ROOT)


def test_every_chapter_starts_with_the_cell_the_tool_writes():
    source = colab_cell.cell_source()
    stale = [path.name for path in NOTEBOOKS if colab_cell.differs(path, source)]
    assert not stale, (f"the first cell of {', '.join(stale)} is not the Colab install cell for this version "
                       f"and repository; run `python tools/colab_cell.py --write`. It should read:\n{source}")


def test_the_cell_installs_the_release_tag_of_this_version_from_the_configured_repository():
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"].rstrip("/")
    source = colab_cell.cell_source()
    assert f'%pip install --quiet "gradcourse @ git+{url}@v{version}"' in source
    # what tests/test_notebooks.py asks of the cell: it installs only where the package is missing
    assert "import gradcourse" in source and "except ImportError" in source


def test_write_changes_only_the_first_cells_source(tmp_path):
    for path in NOTEBOOKS:
        shutil.copy2(path, tmp_path)
    copies = sorted(tmp_path.glob("*.ipynb"))
    original = {path.name: json.loads(path.read_text(encoding="utf-8")) for path in copies}
    # A stale cell with an output stored, as if run once where the package was missing.
    for path in copies:
        nb = json.loads(path.read_text(encoding="utf-8"))
        nb["cells"][0]["source"] = ["try:\n", "    import gradcourse\n", "except ImportError:\n",
                                    '    %pip install "gradcourse @ git+https://example.org/old"']
        nb["cells"][0]["outputs"] = [{"name": "stdout", "output_type": "stream", "text": ["installed\n"]}]
        path.write_text(json.dumps(nb, indent=1), encoding="utf-8")

    assert _tool("--check", "--book", str(tmp_path)).returncode == 1
    done = _tool("--write", "--book", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("rewrote the first cell of") == len(copies)

    source = colab_cell.cell_source()
    for path in copies:
        written = json.loads(path.read_text(encoding="utf-8"))
        cell = written["cells"][0]
        assert "".join(cell["source"]) == source
        assert cell["outputs"] == []
        # id, tags, execution count and every other cell as they were
        expected = original[path.name]
        expected["cells"][0]["source"] = cell["source"]
        expected["cells"][0]["outputs"] = []
        assert written == expected, f"{path.name}: more than the first cell's source changed"

    done = _tool("--check", "--book", str(tmp_path))
    assert done.returncode == 0, done.stdout
    before = {path: path.read_bytes() for path in copies}
    assert _tool("--write", "--book", str(tmp_path)).stdout == ""
    assert {path: path.read_bytes() for path in copies} == before


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_write_keeps_the_notebook_format(tmp_path, path):
    """Writing back the source a notebook already has leaves the file byte for byte as it was, so a
    rewrite shows in a diff as the changed line only."""
    copy = tmp_path / path.name
    shutil.copy2(path, copy)
    first = json.loads(copy.read_text(encoding="utf-8"))["cells"][0]
    assert not colab_cell.write(copy, "".join(first["source"]))
    assert copy.read_bytes() == path.read_bytes()


def test_write_refuses_a_notebook_without_the_install_cell(tmp_path):
    nb = json.loads(NOTEBOOKS[0].read_text(encoding="utf-8"))
    nb["cells"][0]["metadata"]["tags"] = []
    (tmp_path / "chapter.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    done = _tool("--write", "--book", str(tmp_path))
    assert done.returncode == 2
    assert "not the install cell" in done.stderr
    assert json.loads((tmp_path / "chapter.ipynb").read_text(encoding="utf-8")) == nb


def test_the_package_reports_the_version_of_pyproject():
    import gradcourse

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert gradcourse.__version__ == version, "bump gradcourse.__version__ together with pyproject.toml"
