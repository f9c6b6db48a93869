"""Faults lose nothing: full disks, killed runs, signals, hostile style files, bad usage.

Most cases fail fast on paths checked before any model loads; the few that need a real run
use the shipped samples/demo.mp4. bench/faults.py runs the whole list end to end.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ccgen.errors import CcgenError, InputError
from ccgen.writers import render

# Every test here runs ccgen, ffmpeg or a model: not in `make check`.
pytestmark = pytest.mark.slow


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


@pytest.fixture
def captions_srt(tmp_path, netflix, sample_timeline) -> Path:
    """The sample timeline as an SRT file in tmp_path."""
    path = tmp_path / "captions.srt"
    path.write_text(render(sample_timeline(), "srt", netflix), encoding="utf-8")
    return path


@pytest.mark.parametrize("short_by", [4096, 12288, None])
def test_full_disk_during_mux_is_an_error_naming_the_file(tmp_path, demo_video, captions_srt,
                                                          short_by: int | None) -> None:
    """ffmpeg 5 exits 0 when the disk fills while it writes the file's end (MP4's index):
    what it wrote is read back, and a short file never takes the output's name."""
    from ccgen.writers.mux import mux

    full = mux(demo_video, captions_srt, tmp_path / "full.mp4")  # how much room it takes
    size = 65536 if short_by is None else (full.stat().st_size - short_by) // 4096 * 4096
    with small_disk(tmp_path / "disk", size) as disk:
        out = disk / "copy.mp4"
        with pytest.raises(CcgenError, match="copy.mp4") as err:
            mux(demo_video, captions_srt, out)
        assert "\n" not in str(err.value)
        assert sorted(os.listdir(disk)) == []  # neither the copy nor its temporary file


def test_read_back_sees_a_truncated_copy(tmp_path, demo_video, captions_srt) -> None:
    from ccgen.writers.mux import mux, verify_copy

    full = mux(demo_video, captions_srt, tmp_path / "full.mkv")
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(CcgenError, match="out.mkv"):
        verify_copy(cut, demo_video, tmp_path / "out.mkv", subtitle_tracks=1)
    verify_copy(full, demo_video, tmp_path / "out.mkv", subtitle_tracks=1)  # a whole one passes
    # a source cut short itself (its header claims 33 s, it holds 16) is copied as it is
    assert mux(cut, captions_srt, tmp_path / "from-cut.mp4").exists()


def test_stale_temp_files_of_a_dead_run_are_removed_and_nothing_else(tmp_path) -> None:
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


def test_style_template_work_is_bounded_and_the_field_named(tmp_path) -> None:
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


# --- bad usage: exit 2 before any work ----------------------------------------------------

def _main(*args: object) -> tuple[int, str]:
    """ccgen's console entry point in this process (no model is loaded on these paths)."""
    import io
    from contextlib import redirect_stderr

    from ccgen.cli import main

    err = io.StringIO()
    with redirect_stderr(err), pytest.raises(SystemExit) as done:
        main([str(a) for a in args])
    return done.value.code, err.getvalue()


def test_bad_usage_is_exit_2_before_any_work(tmp_path, demo_video, make_media) -> None:
    video = tmp_path / "show.mp4"
    video.write_bytes(demo_video.read_bytes())
    audio = make_media.tone(tmp_path / "talk.wav", 0.5)
    (tmp_path / "folder.srt").mkdir()
    (tmp_path / "taken.mkv").write_bytes(b"keep")
    cases = [((video, "-l", "xx"), "-l xx"),
             ((video, "--frame-rate", "1e308", "-f", "ttml"), "outside 1..240"),
             ((video, "-o", tmp_path / "folder.srt", "--force"), "is a folder"),
             ((audio, "--burn-in", tmp_path / "b.mp4"), "no video"),
             ((video, "--mux", tmp_path / "m.avi"), ".avi"),
             ((video, "--burn-in", tmp_path / "b.srt"), ".srt"),
             ((video, "--mux", tmp_path / "taken.mkv"), "exists"),
             ((video, "--mux", video, "--force"), "replace the input")]
    for args, message in cases:
        code, err = _main(*args, "-d", tmp_path)
        assert code == 2, (args, err)
        assert message in err and len(err.strip().splitlines()) == 1, (args, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "folder.srt", "show.mp4", "taken.mkv", "talk.wav"]  # no SRT, nothing else left
    assert (tmp_path / "taken.mkv").read_bytes() == b"keep"


def test_no_output_may_be_the_input(tmp_path, demo_video) -> None:
    """By path, through a symlink, or as a hard link: the source is never replaced."""
    source = tmp_path / "x.srt"  # a media file with a subtitle's name
    source.write_bytes(demo_video.read_bytes())
    (tmp_path / "link.srt").symlink_to(source)
    os.link(source, tmp_path / "hard.srt")
    (tmp_path / "sub").mkdir()
    for output in (source, tmp_path / "link.srt", tmp_path / "hard.srt",
                   tmp_path / "sub" / ".." / "x.srt"):
        code, err = _main(source, "-o", output, "--force")
        assert code == 2 and "replace the input" in err, (output, err)
    code, err = _main(tmp_path / "link.srt", "-o", source, "--force")
    assert code == 2 and "replace the input" in err
    assert source.read_bytes() == demo_video.read_bytes()
    # a name whose language is still to be detected is matched with any language code
    clip = tmp_path / "ep.fr.sdh.srt"
    clip.write_bytes(demo_video.read_bytes())
    from ccgen.batch import Job

    with pytest.raises(InputError, match="replace the input"):
        Job(["srt"], force=True).check_not_inputs([tmp_path / "ep.mp4", clip], None)


def test_a_symlink_loop_is_one_failed_input(tmp_path, make_media) -> None:
    from ccgen.batch import Job, check_manifest, expand_inputs

    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    good = make_media.tone(tmp_path / "good.wav", 0.5)
    files = expand_inputs([tmp_path / "loop1", good, tmp_path])
    assert files[:2] == [tmp_path / "loop1", good] and len(files) == 2
    job = Job(["srt"], output_dir=tmp_path / "out")
    job.check_collisions(files, None)
    job.check_not_inputs(files, None)
    check_manifest(tmp_path / "m.json", files, job)
    missing = tmp_path / "missing.wav"
    code, err = _main(tmp_path / "loop1", missing, "--manifest", tmp_path / "m.json",
                      "--describer", "none", "--diarizer", "none")
    assert code == 1 and "Traceback" not in err
    import json

    record = json.loads((tmp_path / "m.json").read_text())["files"]
    assert [f["status"] for f in record] == ["failed", "failed"]


# --- signals and killed processes ---------------------------------------------------------

LINUX = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
FAST = ("--describer", "none", "--diarizer", "none", "-q")


def _ppid_state(pid: int) -> tuple[int, str] | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), fields[0]


def _alive(pid: int) -> bool:
    found = _ppid_state(pid)
    return found is not None and found[1] not in ("Z", "X")


def _children(pid: int, word: bytes = b"") -> list[int]:
    """Live processes whose parent is `pid` and whose command line holds `word`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        child = int(stat.parent.name)
        state = _ppid_state(child)
        if state and state[0] == pid and _alive(child):
            with contextlib.suppress(OSError):
                if word in Path(f"/proc/{child}/cmdline").read_bytes():
                    found.append(child)
    return found


def _wait_for(check, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    return check()


def _batch(tmp_path: Path, count: int, *more: str,
           make_media) -> tuple[subprocess.Popen, Path, list[int]]:
    """A -j 2 batch of `count` tones, started, with its two workers running."""
    media, out = tmp_path / "in", tmp_path / "out"
    media.mkdir()
    out.mkdir()
    for i in range(count):
        make_media.tone(media / f"clip{i}.wav", 4.0, freq=300 + 100 * i)
    proc = subprocess.Popen([sys.executable, "-m", "ccgen", str(media), "-d", str(out), "-j",
                             "2", *FAST, *more], start_new_session=True,
                            stderr=subprocess.PIPE, text=True)
    workers = _wait_for(lambda: len(_children(proc.pid, b"ccgen")) >= 2 and
                        _children(proc.pid, b"ccgen"), 120)
    assert workers, "the batch started no workers"
    time.sleep(1.0)  # at work: decoding, loading models
    return proc, out, workers


@pytest.fixture(scope="session")
def start_batch(make_media):
    """:func:`_batch` with the `make_media` fixture."""
    return functools.partial(_batch, make_media=make_media)


@LINUX
def test_killing_the_main_process_takes_its_workers(tmp_path, start_batch) -> None:
    proc, out, workers = start_batch(tmp_path, 6)
    try:
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
        _wait_for(lambda: not any(map(_alive, workers)), 10)
        assert not any(map(_alive, workers)), "workers outlived the killed main process"
        written = sorted(out.iterdir())
        time.sleep(1.0)
        assert sorted(out.iterdir()) == written  # nothing goes on writing
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


@LINUX
def test_sigterm_stops_a_batch_like_ctrl_c(tmp_path, start_batch) -> None:
    import json

    manifest = tmp_path / "run.json"
    # --no-cache: tones an earlier test cached would finish the batch before the signal
    proc, _out, workers = start_batch(tmp_path, 12, "--manifest", str(manifest), "--no-cache")
    try:
        assert proc.poll() is None, "the batch ended before it could be stopped"
        os.kill(proc.pid, signal.SIGTERM)  # the main process only, as a supervisor does
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 143, stderr
        assert "Traceback" not in stderr
        files = json.loads(manifest.read_text())["files"]
        assert len(files) == 12 and any(f["status"] == "interrupted" for f in files)
        assert {f["exit_code"] for f in files if f["status"] == "interrupted"} == {143}
        assert _wait_for(lambda: not any(map(_alive, workers)), 10)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


@LINUX
@pytest.mark.parametrize("apart", [0.002, 0.01, 0.03])
def test_two_quick_ctrl_c_keep_the_record(tmp_path, demo_video, apart: float) -> None:
    """As `timeout` and some schedulers do: a second signal milliseconds after the first
    cannot lose the manifest or print a traceback."""
    import json

    # demo.mp4 with --no-cache: 33 s of speech, still being transcribed at 2 s (from the stage
    # cache an earlier test filled, the run could finish before the signal)
    manifest = tmp_path / "run.json"
    proc = subprocess.Popen([sys.executable, "-m", "ccgen", str(demo_video), "-d", str(tmp_path),
                             "--manifest", str(manifest), "--no-cache", *FAST],
                            start_new_session=True,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(2.0)
    os.killpg(proc.pid, signal.SIGINT)
    time.sleep(apart)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert json.loads(manifest.read_text())["files"][0]["status"] == "interrupted"


def test_later_signals_cannot_break_the_writing_of_the_record(tmp_path) -> None:
    """The mechanism alone: signals during a slow write of the record are swallowed."""
    record = tmp_path / "record"
    script = ("import sys, time\nfrom ccgen.stopping import signals_stop_the_run\n"
              "try:\n    with signals_stop_the_run():\n        try:\n"
              "            print('ready', flush=True)\n            time.sleep(60)\n"
              "        finally:\n            time.sleep(0.5)\n"
              f"            open({str(record)!r}, 'w').write('kept')\n"
              "except KeyboardInterrupt as exc:\n    sys.exit(exc.exit_code)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGINT):
        time.sleep(0.005)
        proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 143 and "Traceback" not in stderr, stderr
    assert record.read_text() == "kept"


@LINUX
def test_sigkill_during_burn_in_leaves_no_ffmpeg_and_the_next_run_cleans_up(
        tmp_path, demo_video, netflix, sample_timeline) -> None:
    from ccgen.writers.atomic import write_atomic

    ass = tmp_path / "captions.ass"
    ass.write_text(render(sample_timeline(), "ass", netflix), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    script = "import sys\nfrom ccgen.writers.mux import burn_in\nburn_in(*sys.argv[1:])\n"
    proc = subprocess.Popen([sys.executable, "-c", script, str(demo_video), str(ass),
                             str(out / "burned.mp4")])
    try:
        ffmpeg = _wait_for(lambda: _children(proc.pid, b"subtitles="), 60)
        assert ffmpeg, "ffmpeg did not start"
        time.sleep(0.5)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert _wait_for(lambda: not any(map(_alive, ffmpeg)), 10), "ffmpeg outlived ccgen"
        left = [p.name for p in out.iterdir()]
        assert len(left) == 1 and left[0].startswith(".burned.mp4.ccgen~"), left
        write_atomic(out / "next.srt", "1\n")  # the next run writing into the folder
        assert [p.name for p in out.iterdir()] == ["next.srt"]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)


def test_a_stop_while_starting_waits_for_the_record(tmp_path) -> None:
    """With --manifest, a signal before the inputs are known is held until the run can end
    with its record (the first second of a run: imports, finding the inputs)."""
    record = tmp_path / "record"
    script = ("import sys, time\nfrom ccgen import stopping\n"
              "try:\n    with stopping.signals_stop_the_run():\n        stopping.hold()\n"
              "        print('ready', flush=True)\n        time.sleep(0.5)\n"
              "        print('started', flush=True)\n        try:\n"
              "            stopping.release()\n            time.sleep(60)\n        finally:\n"
              f"            open({str(record)!r}, 'w').write('kept')\n"
              "except KeyboardInterrupt as exc:\n    sys.exit(exc.exit_code)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGINT)
    out, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "Traceback" not in stderr, stderr
    assert out.strip() == "started" and record.read_text() == "kept"


def test_in_a_batch_a_file_whose_copy_cannot_be_made_fails_alone_before_captioning(
        tmp_path, make_media) -> None:
    """--burn-in into a folder, one input audio-only: that file fails at once (no SRT left
    behind, nothing captioned); the check costs a probe, not a pipeline run."""
    from ccgen.batch import Job, caption_file
    from ccgen.pipeline import Captioner, Options

    audio = make_media.tone(tmp_path / "talk.wav", 0.5)
    out = tmp_path / "out"
    out.mkdir()
    job = Job(["srt"], output_dir=out, burn_in=out)
    captioner = Captioner(Options(describer="none", diarizer="none"))
    result = caption_file(captioner, audio, job)
    assert result.status == "failed" and result.exit_code == 2
    assert "no video" in result.error and list(out.iterdir()) == []
    with pytest.raises(InputError, match="cannot write .wav"):  # a folder target keeps the
        Job(["srt"], output_dir=out, mux=out).precheck(audio)  # input's container: no video


@pytest.mark.parametrize("keep_held", [False, True])
def test_a_signal_while_ccgen_loads_is_no_traceback(tmp_path, keep_held: bool) -> None:
    """The program's first half second is imports: early() holds a signal there, and the
    run raises it once it can (at once, or after its record when it writes one)."""
    record = tmp_path / "record"
    script = ("import sys, time\nfrom ccgen import stopping\nstopping.early()\n"
              "print('ready', flush=True)\ntime.sleep(0.5)\n"
              "try:\n"
              f"    with stopping.signals_stop_the_run(keep_held={keep_held}):\n"
              "        try:\n            print('started', flush=True)\n"
              "            stopping.release()\n        finally:\n"
              f"            open({str(record)!r}, 'w').write('kept')\n"
              "except KeyboardInterrupt as exc:\n    sys.exit(exc.exit_code)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    out, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 143 and "Traceback" not in stderr, stderr
    assert (out.strip() == "started") == keep_held and record.exists() == keep_held


def test_model_device_and_input_options_are_usage_errors(tmp_path, make_media) -> None:
    """Each of these cost the whole model start-up (or passed silently) before it failed."""
    clip = make_media.tone(tmp_path / "tone.wav", 0.5)
    junk = tmp_path / "junk.mp4"
    junk.write_text("not media")
    cases = [((clip, "--audio-stream", "-1"), "numbered from 0"),
             ((clip, "--asr-model", tmp_path / "nope"), "--asr-model"),
             ((clip, "--adapter", tmp_path / "nope"), "no such folder"),
             ((clip, "--adapter", tmp_path, "--describer", "yamnet"), "applies to"),
             ((junk,), "not a readable media file")]
    try:
        import ctranslate2

        if ctranslate2.get_cuda_device_count() == 0:
            cases.append(((clip, "--device", "cuda"), "no CUDA GPU"))
    except ImportError:
        pass
    for args, message in cases:
        code, err = _main(*args, "-d", tmp_path)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, (args, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.mp4", "tone.wav"]


def test_ctrl_c_that_kills_the_probe_is_an_interruption_not_bad_input(
        tmp_path, monkeypatch, make_media) -> None:
    """Ctrl-C reaches the whole process group: the ffprobe of the up-front input check dies
    with it and reports an unreadable file. With --manifest the signal is held then; the
    run must end as interrupted (130, record written), not as bad input (2)."""
    import json

    from ccgen import usage
    from ccgen.errors import InputError as Bad

    def probe_killed(src, stream=0) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # the terminal's Ctrl-C ...
        raise Bad(f"{src}: not a readable media file (no details)")  # ... and the probe's end

    clip = make_media.tone(tmp_path / "tone.wav", 0.5)
    monkeypatch.setattr(usage, "check_input", probe_killed)
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        code, err = _main(clip, "-d", tmp_path, "--manifest", tmp_path / "m.json")
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert code == 130 and "interrupted" in err, err
    files = json.loads((tmp_path / "m.json").read_text())["files"]
    assert [f["status"] for f in files] == ["interrupted"]


def test_a_program_can_stop_a_second_run_after_a_stopped_one(tmp_path) -> None:
    """main() called again in one process: the first run's stop leaves signals ignored only
    until the next run starts, which can be stopped as usual (SIGTERM -> 143)."""
    script = ("import os, signal, sys, time\nfrom ccgen import stopping\n"
              "for sig in (signal.SIGINT, signal.SIGTERM):\n"
              "    try:\n        with stopping.signals_stop_the_run():\n"
              "            os.kill(os.getpid(), sig)\n            time.sleep(2)\n"
              "            print('went on', flush=True)\n"
              "    except KeyboardInterrupt as exc:\n        print(exc.exit_code, flush=True)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.split() == ["130", "143"], done.stdout + done.stderr
