"""The fault list, end to end: what a hostile but realistic user does to an unattended run.

    python bench/faults.py [--out bench/RESULTS.md] [--only WORD]

Each case runs the real ccgen (its console entry point in a child process; the full-disk
cases also call the mux writer directly) and checks one promise: a full disk is an error
naming the file and leaves nothing behind; killed parents take their workers; a killed worker
costs no file; SIGKILL during --burn-in leaves no ffmpeg and the next run removes the
temporary file; SIGINT/SIGTERM at several moments (and twice, milliseconds apart) exit
130/143 with the manifest and no traceback; no output is ever the input; bad usage is exit 2
with one line and nothing written. It prints one line per case and "N cases, N held"; the
full-disk cases need root (a 64 KiB tmpfs) and are reported as skipped without it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))
from common import machine, write_section  # noqa: E402

DEMO = ROOT / "samples" / "demo.mp4"
FAST = ("--describer", "none", "--diarizer", "none")
CASES: list[tuple[str, Callable[[Path], tuple[bool | None, str]]]] = []


def case(name: str):
    def register(func):
        CASES.append((name, func))
        return func
    return register


# --- helpers ------------------------------------------------------------------------------

def ccgen(*args: object, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ccgen", *map(str, args)], text=True,
                          capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)


def start(*args: object) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ccgen", *map(str, args)], text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, start_new_session=True)


def state(pid: int) -> tuple[int, str] | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), fields[0]


def alive(pid: int) -> bool:
    found = state(pid)
    return found is not None and found[1] not in ("Z", "X")


def children(pid: int, word: bytes = b"") -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        child = int(stat.parent.name)
        got = state(child)
        if got and got[0] == pid and alive(child):
            with contextlib.suppress(OSError):
                if word in Path(f"/proc/{child}/cmdline").read_bytes():
                    found.append(child)
    return found


def wait_for(check: Callable[[], object], seconds: float) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.02)
    return check()


def end(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=timeout)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    return proc.returncode, err or ""


def tones(folder: Path, count: int, seconds: float = 4.0) -> Path:
    from ccgen.media import find_ffmpeg

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        subprocess.run([find_ffmpeg().ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i",
                        f"sine=frequency={300 + 100 * i}:duration={seconds}:sample_rate=16000",
                        str(folder / f"clip{i}.wav")], check=True)
    return folder


@contextlib.contextmanager
def small_disk(path: Path, size: int):
    path.mkdir(parents=True)
    run = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                         capture_output=True, text=True) if os.geteuid() == 0 else None
    if run is None or run.returncode != 0:
        yield None
        return
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def record(path: Path) -> list[str]:
    try:
        return [f["status"] for f in json.loads(path.read_text())["files"]]
    except (OSError, ValueError, KeyError):
        return []


# --- full disk ----------------------------------------------------------------------------

def _srt(work: Path) -> Path:
    path = work / "c.srt"
    path.write_text("1\n00:00:01,000 --> 00:00:03,000\nHello there.\n", encoding="utf-8")
    return path


def _full_disk(work: Path, suffix: str, short_by: int | None, burn: bool = False):
    from ccgen.errors import CcgenError
    from ccgen.writers.mux import burn_in, mux

    subs = _srt(work)
    size = 65536
    if short_by is not None:
        full = mux(DEMO, subs, work / f"full{suffix}", force=True)
        size = (full.stat().st_size - short_by) // 4096 * 4096
    with small_disk(work / "disk", size) as disk:
        if disk is None:
            return None, "needs root to mount a small tmpfs"
        out = disk / f"copy{suffix}"
        try:
            (burn_in if burn else mux)(DEMO, subs, out)
        except CcgenError as exc:
            left = os.listdir(disk)
            return out.name in str(exc) and not left, f"{exc} | left: {left or 'nothing'}"
        return False, f"exit normally, {out} is {out.stat().st_size} bytes"


for _suffix, _short in ((".mp4", None), (".mp4", 4096), (".mp4", 12288), (".mkv", 40960)):
    case(f"full disk: mux {_suffix}, "
         f"{'64 KiB' if _short is None else f'{_short // 1024} KiB short'}")(
        lambda work, s=_suffix, b=_short: _full_disk(work, s, b))
case("full disk: burn-in .mp4, 64 KiB")(lambda work: _full_disk(work, ".mp4", None, True))


@case("full disk: ccgen --mux end to end")
def _(work: Path):
    with small_disk(work / "disk", 65536) as disk:
        if disk is None:
            return None, "needs root"
        run = ccgen(DEMO, "-d", work, "--mux", disk / "copy.mp4", "--manifest",
                    work / "m.json", *FAST)
        left = os.listdir(disk)
        held = run.returncode == 1 and "copy.mp4" in run.stderr and not left and \
            record(work / "m.json") == ["failed"]
        return held, f"exit {run.returncode}, {run.stderr.strip().splitlines()[-1:]}, " \
                     f"left {left or 'nothing'}"


# --- killed processes ---------------------------------------------------------------------

def _batch(work: Path, *more: object) -> tuple[subprocess.Popen, list[int]]:
    proc = start(tones(work / "in", 6), "-d", work, "-j", "2", *FAST, *more)
    workers = wait_for(lambda: len(children(proc.pid, b"ccgen")) >= 2 and
                       children(proc.pid, b"ccgen"), 120) or []
    time.sleep(1.0)
    return proc, list(workers)


@case("killed parent: SIGKILL to the main process of -j 2")
def _(work: Path):
    proc, workers = _batch(work)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    gone = wait_for(lambda: not any(map(alive, workers)), 10)
    end(proc, 10)
    return bool(workers) and bool(gone), f"{len(workers)} workers, gone: {bool(gone)}"


@case("killed parent: SIGTERM to the main process of -j 2")
def _(work: Path):
    proc, workers = _batch(work, "--manifest", work / "m.json")
    os.kill(proc.pid, signal.SIGTERM)
    code, err = end(proc)
    gone = wait_for(lambda: not any(map(alive, workers)), 10)
    statuses = record(work / "m.json")
    held = code == 143 and "Traceback" not in err and len(statuses) == 6 and \
        "interrupted" in statuses and bool(gone)
    return held, f"exit {code}, manifest {statuses}, workers gone: {bool(gone)}"


@case("killed worker: SIGKILL to one -j 2 worker")
def _(work: Path):
    proc, workers = _batch(work, "--manifest", work / "m.json")
    if workers:
        os.kill(workers[0], signal.SIGKILL)
    code, err = end(proc, 300)
    statuses = record(work / "m.json")
    return code == 0 and statuses == ["done"] * 6, f"exit {code}, manifest {statuses}"


@case("SIGKILL during --burn-in, then the next run")
def _(work: Path):
    out = work / "out"
    out.mkdir()
    proc = start(DEMO, "-d", out, "--burn-in", out / "burned.mp4", *FAST)
    ffmpeg = wait_for(lambda: [c for c in children(proc.pid, b"subtitles=")], 240) or []
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    gone = wait_for(lambda: not any(map(alive, ffmpeg)), 10)
    end(proc, 10)
    temps = [p.name for p in out.iterdir() if p.name.startswith(".")]
    run = ccgen(DEMO, "-d", out, "-f", "vtt", *FAST)
    after = [p.name for p in out.iterdir() if p.name.startswith(".")]
    held = bool(ffmpeg) and bool(gone) and len(temps) == 1 and not after and \
        run.returncode == 0
    return held, f"ffmpeg {ffmpeg} gone: {bool(gone)}; temp left {temps}, after next run " \
                 f"{after or 'none'}"


# --- signals ------------------------------------------------------------------------------

def _signals(work: Path, at: float, sigs: tuple[int, ...], apart: float = 0.0):
    proc = start(DEMO, "-d", work, "--no-cache", "--manifest", work / "m.json", *FAST)
    time.sleep(at)
    for i, sig in enumerate(sigs):
        if i:
            time.sleep(apart)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
    code, err = end(proc)
    want = 128 + sigs[0]
    statuses = record(work / "m.json")
    held = code == want and "Traceback" not in err and statuses == ["interrupted"]
    return held, f"exit {code} (want {want}), manifest {statuses}, " \
                 f"traceback: {'Traceback' in err}"


for _at in (0.3, 1.0, 3.0, 6.0):  # 0.3 s: the program is still loading
    case(f"signal: SIGINT at {_at:g} s")(lambda work, a=_at: _signals(work, a, (signal.SIGINT,)))
case("signal: SIGTERM at 3 s")(lambda work: _signals(work, 3.0, (signal.SIGTERM,)))
for _apart in (0.002, 0.01, 0.03):
    case(f"signal: two SIGINT {_apart * 1000:g} ms apart")(
        lambda work, p=_apart: _signals(work, 3.0, (signal.SIGINT, signal.SIGINT), p))
case("signal: SIGTERM then SIGINT 5 ms apart")(
    lambda work: _signals(work, 3.0, (signal.SIGTERM, signal.SIGINT), 0.005))


# --- outputs that are inputs, odd inputs, bad usage ----------------------------------------

def _usage(args: Callable[[Path], list[object]], message: str):
    def run(work: Path):
        video = work / "show.mp4"
        video.write_bytes(DEMO.read_bytes())
        argv = args(work)
        before = sorted(os.listdir(work))
        result = ccgen(*argv, *FAST)
        lines = result.stderr.strip().splitlines()
        after = sorted(os.listdir(work))
        held = result.returncode == 2 and len(lines) == 1 and message in lines[0] and \
            after == before and video.read_bytes() == DEMO.read_bytes()
        return held, f"exit {result.returncode}: {lines[-1] if lines else ''}"
    return run


def _prepared(make: Callable[[Path], None], args: Callable[[Path], list[object]]):
    def build(work: Path) -> list[object]:
        make(work)
        return args(work)
    return build


def _style(work: Path) -> None:
    (work / "s.toml").write_text('sound_template = "{% for i in range(100000000) %}x'
                                 '{% endfor %}"\n')


def _audio(work: Path) -> None:
    tones(work / "a", 1, 1.0)


USAGE = [
    ("-o equal to the input, --force", lambda w: [w / "x.srt", "-o", w / "x.srt", "--force"],
     lambda w: (w / "x.srt").write_bytes(DEMO.read_bytes()), "replace the input"),
    ("-o a symlink to the input, --force", lambda w: [w / "show.mp4", "-o", w / "l.srt",
                                                      "--force"],
     lambda w: (w / "l.srt").symlink_to(w / "show.mp4"), "replace the input"),
    ("-o a hard link of the input, --force", lambda w: [w / "show.mp4", "-o", w / "h.srt",
                                                        "--force"],
     lambda w: os.link(w / "show.mp4", w / "h.srt"), "replace the input"),
    ("--mux equal to the input, --force", lambda w: [w / "show.mp4", "--mux", w / "show.mp4",
                                                     "--force"], None, "replace the input"),
    ("-l xx", lambda w: [w / "show.mp4", "-l", "xx"], None, "-l xx"),
    ("--frame-rate 1e308 -f ttml", lambda w: [w / "show.mp4", "--frame-rate", "1e308", "-f",
                                              "ttml"], None, "outside"),
    ("-o an existing folder, --force", lambda w: [w / "show.mp4", "-o", w / "d.srt",
                                                  "--force"],
     lambda w: (w / "d.srt").mkdir(), "is a folder"),
    ("style template range(100000000)", lambda w: [w / "show.mp4", "-s", w / "s.toml"],
     _style, "sound_template"),
    ("--burn-in on audio-only input", lambda w: [w / "a" / "clip0.wav", "--burn-in",
                                                 w / "b.mp4"], _audio, "no video"),
    ("--mux target exists, no --force", lambda w: [w / "show.mp4", "--mux", w / "t.mkv"],
     lambda w: (w / "t.mkv").write_bytes(b"keep"), "exists"),
    ("--mux into .avi", lambda w: [w / "show.mp4", "--mux", w / "t.avi"], None, ".avi"),
    ("--burn-in into .srt", lambda w: [w / "show.mp4", "--burn-in", w / "t.srt"], None,
     ".srt"),
    ("--asr-model folder not there", lambda w: [w / "show.mp4", "--asr-model", w / "nope"],
     None, "no such folder"),
    ("--adapter no describer uses", lambda w: [w / "show.mp4", "--adapter", w,
                                                     "--describer", "yamnet"], None,
     "applies to"),
    ("--audio-stream 3 of one stream", lambda w: [w / "show.mp4", "--audio-stream", "3"], None,
     "does not exist"),
    ("an input that is not media", lambda w: [w / "junk.mp4"],
     lambda w: (w / "junk.mp4").write_text("not media"), "not a readable media file"),
]
if not Path("/dev/nvidia0").exists():  # on a machine without a GPU
    USAGE.append(("--device cuda", lambda w: [w / "show.mp4", "--device", "cuda"], None,
                  "no CUDA GPU"))
for _name, _args, _make, _message in USAGE:
    case(f"usage: {_name}")(_usage(_prepared(_make, _args) if _make else _args, _message))


@case("a symlink loop among the inputs")
def _(work: Path):
    (work / "loop1").symlink_to(work / "loop2")
    (work / "loop2").symlink_to(work / "loop1")
    good = tones(work / "in", 1) / "clip0.wav"
    run = ccgen(work / "loop1", good, "-d", work, "--manifest", work / "m.json", *FAST)
    statuses = record(work / "m.json")
    return run.returncode == 1 and statuses == ["failed", "done"] and \
        "Traceback" not in run.stderr, f"exit {run.returncode}, manifest {statuses}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="write the table here")
    parser.add_argument("--only", default="", help="run the cases whose name holds this")
    args = parser.parse_args()
    rows, held, skipped = [], 0, 0
    with tempfile.TemporaryDirectory(prefix="ccgen-faults-") as tmp:
        os.environ["CCGEN_CACHE_DIR"] = str(Path(tmp) / "cache")
        for i, (name, func) in enumerate(c for c in CASES if args.only in c[0]):
            work = Path(tmp) / f"case{i}"
            work.mkdir()
            started = time.perf_counter()
            try:
                ok, detail = func(work)
            except Exception as exc:  # a case that breaks did not hold
                ok, detail = False, f"{type(exc).__name__}: {exc}"
            seconds = time.perf_counter() - started
            detail = detail.replace(str(work) + "/", "")
            mark = "skipped" if ok is None else "held" if ok else "NOT HELD"
            held += ok is True
            skipped += ok is None
            rows.append((name, mark, seconds, detail))
            print(f"{mark:8} {seconds:5.1f}s  {name}: {detail}", flush=True)
    total = len(rows) - skipped
    summary = f"{total} cases, {held} held" + (f", {skipped} skipped" if skipped else "")
    print(summary)
    if args.out:
        table = ["| case | result | s | detail |", "|---|---|---|---|"]
        table += [f"| {n} | {m} | {s:.1f} | {d.replace('|', '/')[:160]} |"
                  for n, m, s, d in rows]
        write_section(args.out, "faults", "\n".join([
            "<!-- faults:begin -->", "## Faults (`python bench/faults.py`)", "",
            f"Measured {date.today()} on {machine()}, "
            + ("as root (the full-disk cases mount a small tmpfs)" if os.geteuid() == 0 else
               "not as root (the full-disk cases are skipped)")
            + f". **{summary}.** Each case's promise is in bench/faults.py; the signal cases "
            "caption samples/demo.mp4 without the cache and signal the process group at the "
            "given moment.", "", *table, "<!-- faults:end -->"]))
    sys.exit(0 if held == total else 1)


if __name__ == "__main__":
    main()
