"""Bundled offline speech models: the split base model is joined once and checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccgen.errors import CcgenError, InputError
from ccgen.speech import models


def test_default_is_the_bundled_multilingual_base(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCGEN_CACHE_DIR", str(tmp_path))
    path, label = models.resolve_model(None)
    assert label == "whisper-base (bundled)"
    assert Path(path) == tmp_path / "models" / "faster-whisper-base"
    assert {p.name for p in Path(path).iterdir()} >= {"model.bin", "config.json",
                                                      "tokenizer.json", "vocabulary.txt"}
    # Joined once: a second call reuses the verified copy.
    stamp = (Path(path) / "model.bin").stat().st_mtime_ns
    assert models.resolve_model("base")[0] == path
    assert (Path(path) / "model.bin").stat().st_mtime_ns == stamp


def test_damaged_parts_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCGEN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(models, "BASE_SHA256", "0" * 64)
    with pytest.raises(CcgenError, match="checksum mismatch"):
        models.bundled_base()
    assert not (tmp_path / "models" / "faster-whisper-base" / "model.bin").exists()


def test_tiny_en_and_local_folders(tmp_path: Path) -> None:
    path, label = models.resolve_model("tiny.en")
    assert label == "whisper-tiny.en (bundled)" and (Path(path) / "model.bin").is_file()
    assert models.resolve_model(path) == (path, path)
    with pytest.raises(InputError, match="no model.bin"):
        models.resolve_model(str(tmp_path))
    assert models.resolve_model("large-v3") == ("large-v3", "large-v3")


def test_cache_files_are_replaced_whole_or_not_at_all(tmp_path: Path) -> None:
    """The one home of "temp beside it, then rename" for cache files (the joined model, the
    stage cache, the voice encoder's arrays): a writer that fails leaves the old file and no
    temp; one that finishes replaces it, readable by others as the folder is."""
    from ccgen.writers.atomic import replace_atomic

    target = tmp_path / "models" / "model.bin"
    assert replace_atomic(target, lambda fh: fh.write(b"first")) == target
    assert target.read_bytes() == b"first" and target.stat().st_mode & 0o777 == 0o644

    def broken(fh) -> None:
        fh.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        replace_atomic(target, broken)
    assert target.read_bytes() == b"first"
    assert [p.name for p in target.parent.iterdir()] == ["model.bin"]
