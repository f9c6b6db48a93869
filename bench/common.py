"""Helpers shared by the benchmarks: the machine's description, measured child processes,
and sections of bench/RESULTS.md that each benchmark rewrites without touching the others."""

from __future__ import annotations

import contextlib
import os
import platform
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def measured(cmd: list[str], log: Path, timeout: float,
             watch: Callable[[int], None] | None = None) -> tuple[int, float, int, str]:
    """Run ``cmd``; return (exit code, wall s, peak RSS KiB of its process tree, stderr tail).

    os.wait4 gives this child's own rusage (ru_maxrss: KiB on Linux, bytes on macOS), which
    covers the descendants it waited for, so parallel runs elsewhere do not leak in.
    `watch(pid)`, when given, runs in a daemon thread while the child runs (RSS sampling).
    """
    start = time.perf_counter()
    with log.open("wb") as err:
        proc = subprocess.Popen(cmd, stdout=err, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        if watch is not None:
            threading.Thread(target=watch, args=(proc.pid,), daemon=True).start()
        timer = threading.Timer(timeout, _kill_group, (proc.pid,))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
    wall = time.perf_counter() - start
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    rss = usage.ru_maxrss // (1024 if sys.platform == "darwin" else 1)
    tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
    if code == -signal.SIGKILL and wall >= timeout:
        tail = [f"timed out after {timeout:.0f} s"]
    return code, wall, rss, " | ".join(tail)


def machine() -> str:
    """CPU model, cores, RAM (and GPU when nvidia-smi answers)."""
    cpu, ram = platform.processor() or "unknown CPU", "?"
    try:
        info = Path("/proc/cpuinfo").read_text()
        cpu = next((ln.split(":", 1)[1].strip() for ln in info.splitlines()
                    if ln.startswith("model name")), cpu)
        mem = Path("/proc/meminfo").read_text().split("\n", 1)[0]
        ram = f"{int(mem.split()[1]) / 1024 ** 2:.0f} GiB"
    except OSError:
        pass
    text = f"{cpu}, {os.cpu_count()} cores, {ram} RAM"
    try:
        gpu = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20).stdout.strip()
        text += f", GPU: {gpu}" if gpu else ""
    except (OSError, subprocess.SubprocessError):
        pass
    return text


def write_section(out: Path, name: str, block: str) -> None:
    """Replace the ``<!-- NAME:begin -->``..``<!-- NAME:end -->`` block of ``out`` (or append
    it), keeping the rest of the file: each benchmark owns one section."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    if not block.startswith(begin):
        block = f"{begin}\n{block.strip()}\n{end}"
    old = out.read_text(encoding="utf-8") if out.exists() else "# ccgen benchmark results\n\n"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(old):
        new = pattern.sub(lambda _: block, old)
    else:
        new = old.rstrip() + "\n\n" + block
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(new.rstrip() + "\n", encoding="utf-8")
