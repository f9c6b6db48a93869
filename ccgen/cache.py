"""A stage cache: finished stages are kept per input, so a rerun skips them.

The key of a stage result is the SHA-256 of the input's bytes plus the stage's settings (model,
language, thresholds...), so a rerun after a crash, or with another style or output format,
reuses transcription and sound events, while any change that could alter a stage's result
recomputes it. Entries are small JSON files written atomically; a damaged entry is ignored.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from typing import Any

from ccgen.speech.models import cache_dir
from ccgen.writers.atomic import replace_atomic

SCHEMA = 1


def file_digest(path: str | Path, block: int = 1 << 22) -> str:
    """SHA-256 of a file's content (the cache key's first half; names and dates don't matter)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(block), b""):
            digest.update(chunk)
    return digest.hexdigest()


class StageCache:
    """JSON results per (input digest, stage name, settings)."""

    def __init__(self, root: Path | None = None, enabled: bool = True) -> None:
        self.root = root or cache_dir() / "stages"
        self.enabled = enabled
        self.hits: list[str] = []

    def _path(self, digest: str, stage: str, settings: dict[str, Any]) -> Path:
        blob = json.dumps({"schema": SCHEMA, "settings": settings}, sort_keys=True, default=str)
        key = hashlib.sha256(blob.encode()).hexdigest()[:16]
        return self.root / digest[:2] / f"{digest}.{stage}.{key}.json"

    def has(self, digest: str, stage: str, settings: dict[str, Any]) -> bool:
        """Whether an entry is stored (read nothing: for deciding whether to load a model)."""
        return self.enabled and self._path(digest, stage, settings).is_file()

    def get(self, digest: str, stage: str, settings: dict[str, Any]) -> Any | None:
        if not self.enabled:
            return None
        path = self._path(digest, stage, settings)
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        self.hits.append(stage)
        return value

    def put(self, digest: str, stage: str, settings: dict[str, Any], value: Any) -> None:
        if not self.enabled:
            return
        path = self._path(digest, stage, settings)
        with contextlib.suppress(OSError):  # a cache that cannot be written only costs time
            replace_atomic(path, lambda fh: fh.write(json.dumps(value).encode("utf-8")))
