"""The package as Colab and Binder get it: a wheel, installed normally (not editable).

Everything else runs against the editable install of requirements.txt, which maps the whole
gradcourse/ folder; a wheel holds only the packages pyproject.toml lists. Here the wheel is
built, installed into a fresh virtual environment, and used from outside the repository: every
module must import from that install, and a chapter must run top to bottom on it.

The fresh environment reaches the runtime dependencies (numpy, matplotlib, ipykernel) through a
.pth file naming this environment's site-packages. A .pth line only appends a directory to
sys.path; the .pth files inside that directory, among them the editable install's finder, are
not processed, so the repository's gradcourse cannot leak in.
"""

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from packaging.requirements import Requirement

ROOT = Path(__file__).parents[1]
CHAPTER = ROOT / "book" / "02_scalar.ipynb"  # the quickest chapter to run
KERNEL = "gradcourse-wheel"

IMPORT_EVERYTHING = """
import importlib, json, pkgutil, sys, traceback
import gradcourse
errors = {}
names = ["gradcourse"]
for info in pkgutil.walk_packages(gradcourse.__path__, "gradcourse.",
                                  onerror=lambda name: errors.setdefault(name, traceback.format_exc())):
    names.append(info.name)
for name in names:
    try:
        importlib.import_module(name)
    except Exception:
        errors[name] = traceback.format_exc()
with open(sys.argv[1], "w") as f:
    json.dump({"file": gradcourse.__file__, "modules": names, "errors": errors,
               "editable": sorted(name for name in sys.modules if name.startswith("__editable__"))}, f)
"""


def _clean_env(**extra):
    """This process's environment without anything that would put the repository on sys.path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    env.update(extra)
    return env


def _run(cmd, **kwargs):
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{done.stdout}\n{done.stderr}"
    return done


def _backend_is_installed_here():
    """Whether this environment satisfies pyproject.toml's build requirements, so that the wheel
    can be built offline without build isolation. Otherwise pip fetches them from the index."""
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    for requirement in map(Requirement, requires):
        try:
            version = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            return False
        if not requirement.specifier.contains(version, prereleases=True):
            return False
    return True


def _repository_modules():
    names = set()
    for path in (ROOT / "gradcourse").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if "__pycache__" in parts:
            continue
        names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh virtual environment with the wheel built from the repository installed in it."""
    tmp = tmp_path_factory.mktemp("wheel")

    # Build from a copy of what the build reads, so that no build/ folder lands in the repository.
    src = tmp / "src"
    src.mkdir()
    for pattern in ("pyproject.toml", "README.md", "LICEN[CS]E*", "MANIFEST.in"):
        for path in ROOT.glob(pattern):
            shutil.copy2(path, src)
    shutil.copytree(ROOT / "gradcourse", src / "gradcourse", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    offline = ["--no-build-isolation"] if _backend_is_installed_here() else []
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", *offline, "-w", str(tmp / "dist"), str(src)], cwd=tmp)
    (wheel,) = (tmp / "dist").glob("gradcourse-*.whl")

    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)])
    site_packages = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              env=_clean_env()).stdout.strip())
    ours = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    (site_packages / "_outer_dependencies.pth").write_text("".join(f"{path}\n" for path in ours))

    work = tmp / "work"  # the working directory of everything run from the install: not the repository
    work.mkdir()
    return {"python": python, "site_packages": site_packages, "work": work, "tmp": tmp}


def _assert_from_the_install(installed, module_file):
    path = Path(module_file).resolve()
    assert path.is_relative_to(installed["site_packages"].resolve()), (
        f"gradcourse was imported from {path}, not from the installed wheel in {installed['site_packages']}")
    assert not path.is_relative_to(ROOT.resolve())


def test_every_module_of_the_repository_is_in_the_wheel_and_imports(installed):
    report = installed["tmp"] / "imports.json"
    _run([str(installed["python"]), "-c", IMPORT_EVERYTHING, str(report)],
         cwd=installed["work"], env=_clean_env(MPLBACKEND="Agg"))
    found = json.loads(report.read_text())
    _assert_from_the_install(installed, found["file"])
    assert not found["editable"], f"the editable install leaked into the fresh environment: {found['editable']}"
    missing = sorted(_repository_modules() - set(found["modules"]))
    assert not missing, (f"in the repository but not in the wheel: {missing}; "
                         "is the subpackage found by [tool.setuptools.packages.find] in pyproject.toml?")
    assert set(found["modules"]) == _repository_modules()
    assert not found["errors"], "\n".join(f"{name}:\n{tb}" for name, tb in found["errors"].items())


def test_a_chapter_runs_top_to_bottom_on_the_wheel(installed):
    # A kernel whose interpreter is the fresh environment's python, declared in a private folder.
    kernels = installed["tmp"] / "kernels"
    (kernels / KERNEL).mkdir(parents=True)
    (kernels / KERNEL / "kernel.json").write_text(json.dumps({
        "argv": [str(installed["python"]), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "gradcourse from its wheel", "language": "python"}))
    km = AsyncKernelManager(kernel_name=KERNEL, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))

    shutil.copy2(CHAPTER, installed["work"])
    nb = nbformat.read(installed["work"] / CHAPTER.name, as_version=4)
    # The first cell (tagged nbval-skip) installs gradcourse from GitHub only if it is missing: it
    # must find the wheel and do nothing. One more cell at the end records where the code came from.
    where = "import sys, gradcourse\nprint(sys.executable)\nprint(gradcourse.__file__)"
    nb.cells.append(nbformat.v4.new_code_cell(where))
    client = NotebookClient(nb, km=km, timeout=300, startup_timeout=120,
                            resources={"metadata": {"path": str(installed["work"])}})
    try:
        client.execute(env=_clean_env())
    except CellExecutionError as error:
        pytest.fail(f"{CHAPTER.name} failed on the installed wheel:\n{error}", pytrace=False)

    errors = [out for cell in nb.cells for out in cell.get("outputs", []) if out["output_type"] == "error"]
    assert not errors, f"{CHAPTER.name}: {[(e['ename'], e['evalue']) for e in errors]}"
    executable, module_file = nb.cells[-1].outputs[0]["text"].splitlines()
    assert Path(executable) == installed["python"]
    _assert_from_the_install(installed, module_file)
