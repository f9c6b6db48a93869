"""The Hugging Face hub as ccgen sees it: which endpoint, whether it is switched off, whether it
answers. One home, because three backends ask (inventory's ``models fetch``, pyannote, the
Qwen2.5-Omni loader) and an offline site must fail the same way in each: at once, in one line,
instead of after minutes of retries."""

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


def reachable(url: str, timeout: float = 5.0) -> bool:
    """Whether a TCP connection to `url`'s host opens within `timeout` seconds (no request)."""
    parsed = urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False
