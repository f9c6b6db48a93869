"""The Hugging Face hub as ccgen sees it: which endpoint, whether it is switched off, whether it
answers. One home, because three backends ask (inventory's ``models fetch``, pyannote, the
Qwen2.5-Omni loader) and an offline site must fail the same way in each: at once, in one line,
instead of after minutes of retries. The TCP probe under it also checks a Ray address."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

DEFAULT_ENDPOINT = "https://huggingface.co"


def endpoint() -> str:
    """``$HF_ENDPOINT`` or the public hub."""
    return os.environ.get("HF_ENDPOINT", DEFAULT_ENDPOINT)


def offline() -> bool:
    """The user switched the hub off (``HF_HUB_OFFLINE=1``)."""
    return os.environ.get("HF_HUB_OFFLINE") == "1"


def connect_error(host: str, port: int, timeout: float) -> str | None:
    """Why a TCP connection to `host`:`port` does not open within `timeout` seconds (the
    system's reason, one line), or None when it does. No request is sent: a service that is
    up answers the handshake, and a dead address fails here in seconds, not after a client's
    retries."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def reachable(url: str, timeout: float = 5.0) -> bool:
    """Whether a TCP connection to `url`'s host opens within `timeout` seconds (no request)."""
    parsed = urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return connect_error(parsed.hostname or "", port, timeout) is None


def answers(timeout: float = 5.0) -> bool:
    """Whether the hub may be asked now: not switched off and its endpoint reachable within
    `timeout` seconds."""
    return not offline() and reachable(endpoint(), timeout)
