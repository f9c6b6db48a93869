"""Find ccgen's data files (templates/: styles, sound tables, prompts) in a checkout or a wheel.

The repository keeps them in a top-level ``templates/`` folder so people can read and edit them;
the wheel maps that folder to the ``ccgen.templates`` package (see pyproject.toml), so the same
names resolve from an installed package with no checkout around it.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path


@lru_cache(maxsize=1)
def templates_dir() -> Path:
    """Return the folder holding ccgen's templates and data tables."""
    try:
        root = resources.files("ccgen.templates")
        path = Path(str(root))
        if path.is_dir() and any(path.iterdir()):
            return path
    except (ModuleNotFoundError, TypeError):
        pass
    checkout = Path(__file__).resolve().parent.parent / "templates"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError("ccgen's templates folder is missing: reinstall ccgen")


def template_path(*parts: str) -> Path:
    """Path of one file under templates/, e.g. ``template_path("styles", "netflix.toml")``."""
    path = templates_dir().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"ccgen data file not found: templates/{'/'.join(parts)}")
    return path


def read_table(*parts: str) -> list[dict[str, str]]:
    """Read a tab-separated table with a header row; lines starting with '#' are comments."""
    lines = [
        ln for ln in template_path(*parts).read_text(encoding="utf-8").splitlines()
        if ln.strip() and not ln.lstrip().startswith("#")
    ]
    if not lines:
        return []
    header = lines[0].split("\t")
    return [dict(zip(header, ln.split("\t"), strict=False)) for ln in lines[1:]]
