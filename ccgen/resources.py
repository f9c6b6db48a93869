"""Find ccgen's files: jinja2 templates (templates/) and data tables (ccgen/data/).

They are two kinds of file and have two homes. ``templates/`` holds what a person edits to
change wording or house style: the describer's prompts, the report page, the model card and
the style presets (whose ``*_template`` fields are jinja2). It stays a top-level folder, where
people look for it; the wheel maps it to the ``ccgen.templates`` package (pyproject.toml), so
:func:`templates_dir` tries that package first and the checkout second.

``ccgen/data/`` holds the tables the code looks things up in (AudioSet class -> caption phrase,
class -> family, sound concept -> synonyms). They decide how the tagger and the metrics behave,
so they are versioned and shipped with the code that reads them: a folder inside the package,
package data in the wheel, found through :mod:`importlib.resources` the same way in a checkout,
an editable install or a wheel (no fallback needed), even from a zip import.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path


@lru_cache(maxsize=1)
def templates_dir() -> Path:
    """Return the folder holding ccgen's jinja2 templates and style presets."""
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


def data_file(*parts: str) -> Traversable:
    """One file under ccgen/data/, e.g. ``data_file("sounds", "audioset.tsv")``.

    A Traversable rather than a Path so it also reads from a zipped install.
    """
    node = resources.files("ccgen.data")
    for part in parts:
        node = node.joinpath(part)
    if not node.is_file():
        raise FileNotFoundError(f"ccgen data table not found: ccgen/data/{'/'.join(parts)}: "
                                "reinstall ccgen")
    return node


def read_table(*parts: str) -> list[dict[str, str]]:
    """Read a tab-separated table of ccgen/data/ with a header row; '#' lines are comments."""
    lines = [
        ln for ln in data_file(*parts).read_text(encoding="utf-8").splitlines()
        if ln.strip() and not ln.lstrip().startswith("#")
    ]
    if not lines:
        return []
    header = lines[0].split("\t")
    return [dict(zip(header, ln.split("\t"), strict=False)) for ln in lines[1:]]
