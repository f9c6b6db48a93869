"""``ccgen.toml``: option defaults for a folder or a site, with a documented precedence.

Precedence: command line > config file > built-in defaults. The file is ``--config FILE`` or
``ccgen.toml`` in the working folder. Keys are the long option names of ``ccgen caption``
(``output-dir`` or ``output_dir`` both work); an unknown key is an error naming it, so a typo
never silently does nothing.

    # ccgen.toml
    format = "srt,vtt"
    style = "netflix"
    output-dir = "captions"
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from ccgen.errors import InputError

DEFAULT_NAME = "ccgen.toml"
FOLDER_KEYS = {"output_dir", "report", "manifest", "mux", "burn_in"}
PER_RUN = {"force", "output"}  # a site file must not make every run overwrite, or one path


def load_config(path: Path | None, allowed: dict[str, str]) -> dict[str, Any]:
    """Option defaults from `path` (or ./ccgen.toml when present); {} when there is none.

    `allowed` maps option names as written in the file (``output_dir``) to the command's
    parameter names.
    """
    if path is None:
        candidate = Path.cwd() / DEFAULT_NAME
        if not candidate.is_file():
            return {}
        path = candidate
    if path.is_dir():
        raise InputError(f"config file {path}: is a folder")
    if not path.is_file():
        raise InputError(f"config file {path}: no such file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"config file {path}: not valid TOML ({exc})") from None
    values: dict[str, Any] = {}
    for key, value in data.items():
        name = key.replace("-", "_")
        if name not in allowed:
            raise InputError(f"config file {path}: unknown key {key!r}")
        if name in PER_RUN:
            raise InputError(f"config file {path}: {key!r} is decided per run; give it on the "
                             "command line")
        if isinstance(value, list):
            value = ",".join(map(str, value))
        elif isinstance(value, dict):
            raise InputError(f"config file {path}: {key!r} must be a value, not a table")
        elif not isinstance(value, bool):
            value = str(value)  # the option's own type checks it, as on the command line
        if name in FOLDER_KEYS and not Path(value).expanduser().is_absolute():
            value = str(path.parent / value)  # a site file's paths are relative to the file
        values[allowed[name]] = value
    return values
