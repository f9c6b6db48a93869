"""The wheel carries the templates and data tables: an installed ccgen needs no checkout."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

# Every test here runs ccgen, ffmpeg or a model: not in `make check`.
pytestmark = pytest.mark.slow


@pytest.mark.slow
def test_wheel_finds_templates_without_the_checkout(tmp_path: Path, repo_root) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(wheels), str(repo_root)], check=True)
    (wheel,) = wheels.glob("ccgen-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "ccgen/templates/styles/netflix.toml" in names
    assert "ccgen/templates/sounds/audioset.tsv" in names
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(site), str(wheel)], check=True)
    probe = (
        "import ccgen, ccgen.resources as r, ccgen.captions as c, ccgen.events.tagging as t;"
        "print(ccgen.__file__); print(r.templates_dir());"
        "print(c.load_style('netflix').max_chars); print(len(t.sound_table()))"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True,
                         text=True, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    module, templates, max_chars, rows = out.stdout.split()
    assert module.startswith(str(site)) and templates.startswith(str(site))
    assert (max_chars, rows) == ("42", "521")
