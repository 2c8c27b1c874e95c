"""Every page's footer says which version of the course it shows and when it was built.

The version is the package's, from ``pyproject.toml`` (the same version the Colab cells
install); the date is the build's, in UTC, or the one ``SOURCE_DATE_EPOCH`` gives for a
reproducible build.
"""

import datetime
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def course_version():
    """The ``version`` of ``[project]`` in pyproject.toml (read without tomllib, for Python 3.10)."""
    text = (ROOT / "pyproject.toml").read_text()
    project = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
    match = project and re.search(r'^version\s*=\s*"([^"]+)"', project.group(1), re.M)
    if not match:
        raise ValueError("pyproject.toml has no version in its [project] table")
    return match.group(1)


def build_date():
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    now = (datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) if epoch
           else datetime.datetime.now(datetime.timezone.utc))
    return now.strftime("%Y-%m-%d")


def footer_text():
    return f"Course version {course_version()}, built on {build_date()}."


def _set(app, config):
    config.version = config.release = course_version()
    options = dict(config.html_theme_options or {})
    extra = options.get("extra_footer") or ""
    options["extra_footer"] = f"{extra} <p>{footer_text()}</p>".strip()
    config.html_theme_options = options


def setup(app):
    app.connect("config-inited", _set)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
