"""Atomic, no-clobber file output: a crash or Ctrl-C never leaves half a subtitle file.

Content goes to a temporary file in the target folder, is flushed to disk, then appears under
its name in one step: ``os.replace`` with ``force``, otherwise ``os.link``, which fails if the
name exists, so even two ccgen runs racing for one name cannot overwrite each other.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from ccgen.errors import InputError, OutputExistsError


def check_writable(folder: Path) -> None:
    """Raise InputError unless files can be created in `folder` (checked before any work)."""
    if not folder.exists():
        raise InputError(f"output folder {folder}: does not exist")
    if not folder.is_dir():
        raise InputError(f"output folder {folder}: is not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".ccgen-probe-", dir=folder)
    except OSError as exc:
        raise InputError(f"output folder {folder}: cannot write there ({exc.strerror})") from None
    os.close(fd)
    os.unlink(probe)


def check_free(path: Path, force: bool) -> None:
    try:
        exists = os.path.lexists(path)
        if not exists:
            os.stat(path.parent if str(path.parent) else ".")  # the name is usable at all
            if len(os.fsencode(path.name)) > 255:
                raise OSError(36, "File name too long")
    except OSError as exc:
        raise InputError(f"{path}: cannot write there ({exc.strerror})") from None
    if exists and not force:
        raise OutputExistsError(f"{path}: exists; use --force to overwrite")


def write_atomic(path: Path, content: str | bytes, force: bool = False) -> Path:
    data = content.encode("utf-8") if isinstance(content, str) else content
    check_free(path, force)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        # a short prefix: the temporary name must fit wherever the final name fits
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:24]}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        if force:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise OutputExistsError(f"{path}: exists; use --force to overwrite") from None
            except OSError:  # file systems without hard links: best effort
                if path.exists():
                    raise OutputExistsError(
                        f"{path}: exists; use --force to overwrite") from None
                os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return path
