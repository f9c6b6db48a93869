"""Faults lose nothing: full disks, killed runs, signals, hostile style files, bad usage.

Most cases fail fast on paths checked before any model loads; the few that need a real run
use the shipped samples/demo.mp4. bench/faults.py runs the whole list end to end.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import make_tone, run_cli
from test_broadcast import NETFLIX, timeline

from ccgen.errors import CcgenError, InputError
from ccgen.writers import render


@contextlib.contextmanager
def small_disk(path: Path, size: int):
    """A tmpfs of `size` bytes mounted at `path`, or skip saying why there is none."""
    path.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    run = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                         capture_output=True, text=True)
    if run.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {run.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _srt(folder: Path) -> Path:
    path = folder / "captions.srt"
    path.write_text(render(timeline(), "srt", NETFLIX), encoding="utf-8")
    return path


@pytest.mark.parametrize("short_by", [4096, 12288, None])
def test_full_disk_during_mux_is_an_error_naming_the_file(tmp_path, demo_video,  # noqa: ANN001
                                                          short_by: int | None) -> None:
    """ffmpeg 5 exits 0 when the disk fills while it writes the file's end (MP4's index):
    what it wrote is read back, and a short file never takes the output's name."""
    from ccgen.writers.mux import mux

    full = mux(demo_video, _srt(tmp_path), tmp_path / "full.mp4")  # how much room it takes
    size = 65536 if short_by is None else (full.stat().st_size - short_by) // 4096 * 4096
    with small_disk(tmp_path / "disk", size) as disk:
        out = disk / "copy.mp4"
        with pytest.raises(CcgenError, match="copy.mp4") as err:
            mux(demo_video, _srt(tmp_path), out)
        assert "\n" not in str(err.value)
        assert sorted(os.listdir(disk)) == []  # neither the copy nor its temporary file


def test_read_back_sees_a_truncated_copy(tmp_path, demo_video) -> None:  # noqa: ANN001
    from ccgen.writers.mux import _verify, mux

    full = mux(demo_video, _srt(tmp_path), tmp_path / "full.mkv")
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(CcgenError, match="out.mkv"):
        _verify(cut, demo_video, tmp_path / "out.mkv", subtitle_tracks=1)
    _verify(full, demo_video, tmp_path / "out.mkv", subtitle_tracks=1)  # a whole one passes


def test_stale_temp_files_of_a_dead_run_are_removed_and_nothing_else(tmp_path) -> None:  # noqa: ANN001
    from ccgen.writers import atomic

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    host = atomic.HOST
    stale = tmp_path / f".show.mp4.ccgen~{host}-{dead}-abcd_123.mp4"
    live = tmp_path / f".show.mp4.ccgen~{host}-{os.getppid()}-abcd_123.mp4"
    other_host = tmp_path / f".show.mp4.ccgen~{'0' * 6 if host != '0' * 6 else '1' * 6}-" \
                            f"{dead}-abcd_123.mp4"
    lookalike = tmp_path / f".show.burn.{dead}.mp4"
    for path in (stale, live, other_host, lookalike):
        path.write_bytes(b"x")
    atomic.write_atomic(tmp_path / "a.srt", "1\n")
    assert not stale.exists()
    assert live.exists() and other_host.exists() and lookalike.exists()
    assert [p.name for p in tmp_path.iterdir() if "ccgen~" in p.name and str(os.getpid())
            in p.name] == []  # its own temporary file is gone too


def test_style_template_work_is_bounded_and_the_field_named(tmp_path) -> None:  # noqa: ANN001
    from ccgen.captions import load_style

    hostile = ["{% for i in range(100000000) %}x{% endfor %}", "{{ 'x' * 1000000000 }}",
               "{{ '{:>999999999}'.format(1) }}", "{{ 'x'|center(999999999) }}",
               "{% set a = 'x' * 900 %}{{ a ~ a ~ a ~ a ~ a ~ a ~ a ~ a ~ a ~ a ~ a ~ a }}",
               "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000)"
               " %}{% endfor %}{% endfor %}{% endfor %}", "{{ 1 / 0 }}"]
    for source in hostile:
        style = tmp_path / "bad.toml"
        style.write_text(f'music_template = """{source}"""\n', encoding="utf-8")
        started = time.monotonic()
        with pytest.raises(InputError, match="'music_template'"):
            load_style(style)
        assert time.monotonic() - started < 30, source  # bounded (the bound itself is 1 s)
    style.write_text('music_template = "[{{ text | upper }}]"\n', encoding="utf-8")
    assert load_style(style).render("music", "piano") == "[PIANO]"


def test_frame_rate_out_of_range_is_usage_error() -> None:
    from ccgen.writers.timecode import frame_rate

    for bad in (1e308, 0, -5, 1e6):
        with pytest.raises(InputError, match="outside"):
            frame_rate(bad)
    assert float(frame_rate(25).rate) == 25.0
