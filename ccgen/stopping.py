"""Stopping cleanly: Ctrl-C and SIGTERM, and processes that never outlive ccgen.

A broadcast pipeline runs unattended and is stopped by signals (``timeout`` sends SIGTERM and
often a second one; a scheduler may send SIGINT twice within milliseconds). Whatever arrives,
and however often, the run stops, its manifest is written, and it exits 130 (SIGINT) or 143
(SIGTERM). So only the first signal counts: it raises :class:`Interrupted` (a
KeyboardInterrupt, so every ``except KeyboardInterrupt`` path of the run treats SIGTERM like
Ctrl-C); the ones after it are swallowed until the process exits, and cannot break the
writing of the record.

Children must die with ccgen even when ccgen itself is killed with SIGKILL and can run no
code: worker processes and ffmpeg children ask Linux for a parent-death signal
(``PR_SET_PDEATHSIG``), and workers also watch their parent, which covers the moment between
their start and that request.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator

_PR_SET_PDEATHSIG = 1
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):  # it is a KeyboardInterrupt, named as one
    """The run was stopped by a signal; `exit_code` is 128 + its number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.exit_code = 128 + signum


class _State:
    stopping: int | None = None  # the first signal's number, once one arrived
    held = False  # a stop is remembered, not raised (see hold)
    arrivals: int | None = None  # read end of the wakeup pipe: signal numbers in order
    early: dict[int, object] | None = None  # the handlers before early(), while it holds
    # the handlers a stopped run replaced with SIG_IGN, given back to the next run in-process
    after_stop: dict[int, object] | None = None


def _first_arrived(signum: int) -> int:
    """The signal that arrived first. Python runs pending handlers in signal-number order,
    so SIGTERM then SIGINT a few ms apart, during a long C call, would look like SIGINT
    first; the wakeup pipe has them in the order the kernel delivered them."""
    if _State.arrivals is None:
        return signum
    try:
        got = os.read(_State.arrivals, 64)
    except OSError:
        return signum
    return next((n for n in got if n in STOP_SIGNALS), signum)


def _on_signal(signum: int, _frame: object) -> None:
    if _State.stopping is not None:  # a second signal: the first one is being handled
        return
    signum = _first_arrived(signum)
    _State.stopping = signum
    if not _State.held:
        raise Interrupted(signum)


def hold() -> None:
    """Until :func:`release`, a stop signal is remembered, not raised: while a run starts
    (imports, finding the inputs) its record cannot be written yet, and a stop then must
    still end with one."""
    _State.held = True


def release() -> None:
    """Stop now (raise :class:`Interrupted`) if a signal came while held; else go on."""
    _State.held = False
    if _State.stopping is not None:
        raise Interrupted(_State.stopping)


def early() -> None:
    """From the first line of the ``ccgen`` program, before its imports (half a second):
    a stop signal is remembered, so Ctrl-C then is no Python traceback; the run raises it
    once :func:`signals_stop_the_run` takes over."""
    if threading.current_thread() is not threading.main_thread() or _State.early is not None:
        return
    _State.early = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS
                    if signal.getsignal(sig) is not signal.SIG_IGN}
    _State.stopping, _State.held = None, True
    for sig in _State.early:
        signal.signal(sig, _on_signal)


def stopped_by() -> int | None:
    """The signal that stopped this run, or None."""
    return _State.stopping


@contextlib.contextmanager
def signals_stop_the_run(keep_held: bool = False) -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Interrupted` once; further ones are ignored.

    Only in the main thread (signal handlers can be set nowhere else), and not for a signal
    ccgen was started ignoring (``nohup``, a shell's background job); the previous handlers
    come back on exit, so a program that calls ccgen's ``main`` keeps its own. A signal
    remembered by :func:`early` stops the run at once, or with `keep_held` (a run that
    writes a record) stays held until :func:`release`.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if _State.early is not None:
        # early()'s handler stays in place and keeps holding while we take over: a signal
        # in between is remembered in _State.stopping, never overwritten here
        previous, _State.early = _State.early, None
    else:
        if _State.after_stop is not None:  # an earlier run in this process was stopped
            for sig, handler in _State.after_stop.items():
                signal.signal(sig, handler)
            _State.after_stop = None
        previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS
                    if signal.getsignal(sig) is not signal.SIG_IGN}
        _State.held, _State.stopping = True, None
    read, write = os.pipe()
    os.set_blocking(read, False)
    os.set_blocking(write, False)
    try:
        wakeup = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    except ValueError:  # not the main interpreter
        wakeup = None
    _State.arrivals = read if wakeup is not None else None
    for sig in previous:
        signal.signal(sig, _on_signal)
    try:
        if not (keep_held and _State.stopping is not None):
            _State.held = False  # first, then look: a signal just before is not lost
            if _State.stopping is not None:
                raise Interrupted(_State.stopping)
        yield
    finally:
        _State.held = True  # a signal now is remembered, never raised halfway through this
        if wakeup is not None:
            signal.set_wakeup_fd(wakeup)
        _State.arrivals = None
        os.close(read)
        os.close(write)
        stopped = _State.stopping is not None
        restore = {sig: handler if handler is not None else signal.SIG_DFL
                   for sig, handler in previous.items()}
        for sig, handler in restore.items():
            # after a stop, late signals are ignored until the process has exited (Python's
            # shutdown would otherwise put the default back, and a late SIGINT kill it)
            signal.signal(sig, signal.SIG_IGN if stopped else handler)
        # the stop belonged to this run: a program that calls main() again starts afresh,
        # with the handlers it had before this run
        _State.after_stop = restore if stopped else None
        _State.stopping, _State.held = None, False


def _find_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


# Looked up once, here: a child between fork and exec must not load libraries (dlopen in a
# forked copy of a threaded process can deadlock); it only calls this.
_PRCTL = _find_prctl()


def die_with_parent(sig: int = signal.SIGKILL) -> bool:
    """Ask Linux to send `sig` to this process when its parent dies; False where it cannot.

    Fit for a ``subprocess`` ``preexec_fn`` (it only calls prctl), so an ffmpeg child dies
    with the ccgen process that started it, even one killed with SIGKILL.
    """
    return _PRCTL is not None and _PRCTL(_PR_SET_PDEATHSIG, sig, 0, 0, 0) == 0


def _child_preexec() -> None:
    die_with_parent()


# ``preexec_fn`` for ffmpeg children (killed when ccgen dies); None where there is no prctl
# (and Windows, where subprocess refuses any preexec_fn).
child_preexec: Callable[[], None] | None = _child_preexec if _PRCTL is not None else None


def watch_parent(main: int, interval: float = 1.0) -> None:
    """Exit this process at once when ccgen's main process `main` is gone, or this process was
    adopted by another (its parent died): the fallback where no parent-death signal exists,
    and the cover for a parent that died before :func:`die_with_parent` was called."""
    parent = os.getppid()

    def orphaned() -> bool:
        return os.getppid() != parent or not pid_alive(main)

    def watch() -> None:
        while not orphaned():
            threading.Event().wait(interval)
        os._exit(1)

    if orphaned():
        os._exit(1)
    threading.Thread(target=watch, name="ccgen-parent-watch", daemon=True).start()


def pid_alive(pid: int) -> bool:
    """Whether a process `pid` exists on this machine (one we may not signal counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def started_after(pid: int, when: float) -> bool:
    """Whether process `pid` started after the wall-clock time `when` (so it cannot be the
    process that wrote a file last changed at `when`: its number was reused). False where
    this cannot be known."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        ticks = int(fields[19])  # field 22 (starttime), counted after the ")" of the name
        with open("/proc/stat", encoding="ascii") as fh:
            boot = next(int(line.split()[1]) for line in fh if line.startswith("btime "))
    except (OSError, ValueError, IndexError, StopIteration):
        return False
    return boot + ticks / os.sysconf("SC_CLK_TCK") > when + 1.0


def exit_now(code: int | str | None) -> None:
    """Leave the ``ccgen`` command once its work is done, without tearing the interpreter down.

    Why: with torch and pyannote.audio imported, Python's own shutdown (clearing every module
    of lightning, torchmetrics, sympy, scipy...) took 1.5-1.7 s on the 2-core EPYC, a sixth of
    captioning a one-minute meeting, and does nothing a finished run needs. So the outputs
    (already written atomically) and the standard streams are flushed, the atexit handlers
    run (temporary folders, a Ray session, the loader threads' joins), then the process ends.
    A non-daemon thread still running, or Ray imported, takes the ordinary exit instead:
    their shutdown is theirs to do. Only the console entry points call this, never the API.
    """
    import atexit
    import logging

    if isinstance(code, str):  # sys.exit("message"): printed, exit 1, as Python does
        print(code, file=sys.stderr)
        code = 1
    code = 0 if code is None else int(code)
    others = [t for t in threading.enumerate()
              if t is not threading.main_thread() and not t.daemon and t.is_alive()]
    if others or "ray" in sys.modules:
        sys.exit(code)
    atexit._run_exitfuncs()  # private, but the only way to run them before os._exit
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)
