"""Reaching Ray: is it installed, which cluster, and a connection that fails in one line.

Why each step is here:
- ``ray`` is an optional extra (``ccgen[cluster]``, 79 MB); without it ``--engine ray`` is bad
  usage, said in one line that names what to install, before any model loads.
- The address comes from ``--ray-address``, else ``RAY_ADDRESS`` (what ``ray start --head``
  and KubeRay jobs set), else a new local instance is started explicitly: a plain
  ``ray.init()`` would silently join whatever cluster runs on the machine.
- A wrong address makes ``ray.init`` retry for a long time; a 5 s TCP check first turns it
  into a one-line error (exit 2).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from collections.abc import Iterator

from ccgen import hub
from ccgen.errors import InputError, first_line

INSTALL_HINT = "pip install 'ccgen[cluster]'"
CONNECT_SECONDS = 5.0


def require_ray() -> None:
    """InputError (exit 2) when Ray cannot be imported: say what to install."""
    try:
        import ray  # noqa: F401
    except ImportError as exc:
        raise InputError(f"--engine ray needs Ray, which is not installed ({exc}); "
                         f"install it with: {INSTALL_HINT}") from None


def resolve_address(given: str | None, env: dict[str, str] | None = None) -> str | None:
    """The cluster to join: the option, else $RAY_ADDRESS, else None (start one here)."""
    env = os.environ if env is None else env
    value = (given or env.get("RAY_ADDRESS") or "").strip()
    return value or None


def host_port(address: str) -> tuple[str, int] | None:
    """The TCP endpoint behind an address (``host:port`` or ``ray://host:port``); None for
    ``auto``/``local``, which Ray resolves on this machine itself."""
    if address in ("auto", "local"):
        return None
    rest = address.split("://", 1)[1] if "://" in address else address
    host, sep, port = rest.rstrip("/").rpartition(":")
    if not sep or not host or not port.isdigit():
        raise InputError(f"--ray-address {address}: expected HOST:PORT (or ray://HOST:PORT, "
                         "auto)")
    return host.strip("[]"), int(port)


def check_reachable(address: str, seconds: float = CONNECT_SECONDS) -> None:
    """InputError naming the address when nothing answers there within `seconds`."""
    endpoint = host_port(address)
    if endpoint is None:
        return
    reason = hub.connect_error(*endpoint, seconds)
    if reason is not None:
        raise InputError(f"--ray-address {address}: no Ray cluster answers there ({reason}); "
                         "start one with `ray start --head` or leave the address out to run "
                         "on this machine")


@contextlib.contextmanager
def connected(address: str | None, local_cpus: int) -> Iterator[None]:
    """Ray initialised for this run (joined, or a local instance of `local_cpus` CPUs),
    and shut down after it (a local instance stops with it; a cluster keeps running)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report from archives
    import ray

    if address is not None:
        check_reachable(address)
    # Ray's own notices (token auth, start-up) only with -v; a lost worker is ccgen's to say
    verbose = logging.getLogger("ccgen").isEnabledFor(logging.INFO)
    kwargs: dict = {"address": address or "local", "include_dashboard": False,
                    "logging_level": logging.WARNING if verbose else logging.ERROR,
                    "log_to_driver": True,
                    "configure_logging": True, "namespace": "ccgen"}
    if address is None:
        kwargs["num_cpus"] = local_cpus
    # ray.init makes SIGTERM a plain sys.exit: ccgen's own handlers (stop, write the
    # manifest, exit 130/143; ccgen.stopping) are given back as they were
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        ray.init(**kwargs)
    except ConnectionError as exc:
        raise InputError(f"--ray-address {address}: {first_line(exc)}") from None
    finally:
        for sig, handler in handlers.items():
            if handler is not None:
                signal.signal(sig, handler)
    try:
        yield
    finally:
        ray.shutdown()
