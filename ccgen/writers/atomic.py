"""Atomic, no-clobber file output: a crash or Ctrl-C never leaves half a subtitle file.

Content goes to a temporary file in the target folder, is flushed to disk, then appears under
its name in one step: ``os.replace`` with ``force``, otherwise ``os.link``, which fails if the
name exists, so even two ccgen runs racing for one name cannot overwrite each other.

A temporary name says whose it is: ``.<name>.ccgen~<host>-<pid>-XXXXXXXX.part`` (a video keeps
its suffix, which ffmpeg needs). A run killed with SIGKILL cannot remove its own, so the next
run that writes into the folder does: only names of exactly this pattern, made on this host,
whose process is gone (or whose number now belongs to a process started after the file was
last written). A live run's files, and anything else in the folder, are never touched.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from ccgen.errors import InputError, OutputExistsError
from ccgen.stopping import pid_alive, started_after

log = logging.getLogger("ccgen")


def _host_tag() -> str:
    """Where a temp file's pid means something: host name, boot and PID namespace. Two
    containers that share a host name but not their pids must not take each other's live
    temp files for a dead run's."""
    parts = [socket.gethostname()]
    with contextlib.suppress(OSError):
        parts.append(Path("/proc/sys/kernel/random/boot_id").read_text().strip())
    with contextlib.suppress(OSError):
        parts.append(str(os.stat("/proc/self/ns/pid").st_ino))
    return hashlib.sha1("\0".join(parts).encode()).hexdigest()[:6]


HOST = _host_tag()  # a tag
_TEMP = re.compile(r"^\..*\.ccgen~(?P<host>[0-9a-f]{6})-(?P<pid>\d{1,10})-[A-Za-z0-9_]{8}"
                   r"(?:\.part|\.[A-Za-z0-9]{1,8})$", re.DOTALL)
_CLEANED: set[tuple[int, str]] = set()


def stale_temps(folder: Path) -> list[Path]:
    """ccgen temporary files in `folder` left by a dead run on this host (see the module)."""
    stale = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for entry in entries:
        match = _TEMP.match(entry.name)
        if not match or match["host"] != HOST or not entry.is_file(follow_symlinks=False):
            continue
        pid = int(match["pid"])
        if pid == os.getpid():
            continue
        try:
            written = entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        if not pid_alive(pid) or started_after(pid, written):
            stale.append(Path(entry.path))
    return stale


def clean_stale(folder: Path) -> None:
    """Remove what :func:`stale_temps` finds, once per folder and process."""
    key = (os.getpid(), os.path.abspath(folder))
    if key in _CLEANED:
        return
    _CLEANED.add(key)
    for path in stale_temps(folder):
        with contextlib.suppress(OSError):
            path.unlink()
            log.info("removed %s, left by a ccgen run that was killed", path)


def make_temp(target: Path, suffix: str = ".part") -> tuple[int, Path]:
    """A new temporary file beside `target`, named as the module says: (fd, path)."""
    folder = target.parent if str(target.parent) else Path(".")
    clean_stale(folder)
    # a short prefix: the temporary name must fit wherever the final name fits
    fd, name = tempfile.mkstemp(prefix=f".{target.name[:24]}.ccgen~{HOST}-{os.getpid()}-",
                                suffix=suffix, dir=folder)
    return fd, Path(name)


def check_writable(folder: Path) -> None:
    """Raise InputError unless files can be created in `folder` (checked before any work)."""
    if not folder.exists():
        raise InputError(f"output folder {folder}: does not exist")
    if not folder.is_dir():
        raise InputError(f"output folder {folder}: is not a folder")
    try:  # named like any temp file, so a run killed right here leaves nothing for long
        fd, probe = make_temp(folder / ".ccgen-probe")
    except OSError as exc:
        raise InputError(f"output folder {folder}: cannot write there ({exc.strerror})") from None
    os.close(fd)
    os.unlink(probe)


def check_free(path: Path, force: bool) -> None:
    if os.path.isdir(path):
        raise InputError(f"{path}: is a folder; give a file name")
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
    try:
        fd, tmp = make_temp(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        publish(tmp, path, force)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return path


def replace_atomic(path: Path, write: Callable[[BinaryIO], object]) -> Path:
    """Write a file that may be replaced (a cache entry, a converted model) whole or not at
    all: `write` fills a temporary file beside `path`, named like every ccgen temp file (so
    the next run removes one a killed run left), which then takes the name in one step.
    Readers never see half a file; two runs racing both write the same content."""

    def fill(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            write(fh)

    return replace_made(path, fill)


def replace_made(path: Path, make: Callable[[Path], object]) -> Path:
    """:func:`replace_atomic` for a writer that needs a file name, not a file object (ffmpeg
    encoding a clip): `make` writes the temporary file named as it is given. Whatever `make`
    raises leaves `path` as it was and no temporary file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = make_temp(path)
    os.close(fd)
    try:
        make(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a cache is as readable as its folder
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return path


def publish(tmp: Path, path: Path, force: bool) -> None:
    """Give the finished temporary file `tmp` its name `path` in one step: ``os.replace`` with
    `force`, else ``os.link``, which fails if the name appeared meanwhile (another run), so a
    file is never overwritten without `force`. The caller removes `tmp` afterwards."""
    if force:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise OutputExistsError(f"{path}: exists; use --force to overwrite") from None
    except OSError:  # file systems without hard links: best effort
        if path.exists():
            raise OutputExistsError(f"{path}: exists; use --force to overwrite") from None
        os.replace(tmp, path)
