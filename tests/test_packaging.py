"""The wheel carries the templates and data tables: an installed ccgen needs no checkout."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

# Every test here runs ccgen, ffmpeg or a model: not in `make check`.
pytestmark = pytest.mark.slow


TABLES = ("ccgen/data/sounds/audioset.tsv", "ccgen/data/sounds/families.tsv",
          "ccgen/data/evaluation/synonyms.tsv")


@pytest.mark.slow
def test_wheel_finds_templates_and_tables_without_the_checkout(tmp_path: Path, repo_root) -> None:
    # Built from a copy of the sources alone: setuptools reuses the checkout's build/lib, whose
    # stale files would ship in the wheel and hide a package-data rule that misses a table.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "setup.cfg", "README.md"):
        shutil.copy2(repo_root / name, source / name)
    for name in ("ccgen", "templates"):
        shutil.copytree(repo_root / name, source / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(wheels), str(source)], check=True)
    (wheel,) = wheels.glob("ccgen-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "ccgen/templates/styles/netflix.toml" in names
    assert "ccgen/templates/prompts/audsemthinker_sdh.j2" in names
    assert set(TABLES) <= set(names)
    # templates/ holds templates only: no data table is shipped from it any more
    assert not [n for n in names if n.startswith("ccgen/templates/") and n.endswith(".tsv")]
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(site), str(wheel)], check=True)
    probe = (
        "import ccgen, ccgen.resources as r, ccgen.captions as c, ccgen.events.tagging as t;"
        "import ccgen.events.families as f, ccgen.evaluation.metrics as m;"
        "print(ccgen.__file__); print(r.templates_dir());"
        "print(r.data_file('sounds', 'audioset.tsv'));"
        "print(c.load_style('netflix').max_chars); print(len(t.sound_table()));"
        "print(f.family_table()['Bark']); print('barking' in m.load_synonyms()['dog'])"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True,
                         text=True, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    module, templates, table, max_chars, rows, family, barks = out.stdout.split()
    assert all(p.startswith(str(site)) for p in (module, templates, table))
    assert (max_chars, rows, family, barks) == ("42", "521", "Dog", "True")
