"""Usage checked before any model loads: a run that cannot succeed says so in a second.

Found one by one by a hostile user, each of these used to cost the whole start-up (4-30 s of
model loading, or the whole run) before failing, or passed in silence: an unknown ``-l`` code,
``--device cuda`` without a GPU, a local model folder that is not there, an ``--adapter`` that
nothing would use, a missing or audio-less input, an audio stream that does not exist. None
of these checks loads a model; the GPU ones import torch or CTranslate2 only when a GPU was
asked for.
"""

from __future__ import annotations

from pathlib import Path

from ccgen import devices
from ccgen.errors import InputError

# Options naming a model: a hub id (``owner/name``) or a local folder.
MODEL_OPTIONS = {"asr_model": "--asr-model", "describer_model": "--describer-model",
                 "diarizer_model": "--diarizer-model", "adapter": "--adapter"}


def check_language(language: str | None) -> None:
    """-l must be a language code the speech model knows."""
    if language is None:
        return
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    if language not in _LANGUAGE_CODES:
        raise InputError(f"-l {language}: not a language code the speech model knows; use a "
                         "two-letter code such as en, fr, de, es, ja, or leave -l out to detect")


def _local(value: str) -> bool:
    """A value that can only be a folder on this machine (a hub id never starts so)."""
    return value.startswith(("/", "./", "../", "~")) or Path(value).is_absolute()


def check_models(options: dict) -> None:
    """Model folders that are not there, a GPU that is not there, an adapter nothing uses."""
    for key, flag in MODEL_OPTIONS.items():
        value = options.get(key)
        if value and _local(value) and not Path(value).expanduser().exists():
            raise InputError(f"{flag} {value}: no such folder")
    describer, device = options.get("describer", "auto"), options.get("device", "auto")
    if options.get("adapter") and describer in ("yamnet", "none"):
        raise InputError(f"--adapter applies to --describer audsemthinker, not {describer}")
    if device == "cuda" and not devices.cuda_available("ctranslate2"):
        raise InputError("--device cuda: no CUDA GPU found; use --device cpu or auto")
    if describer == "audsemthinker":
        from ccgen.events.qwen_omni import resolve_device

        resolve_device(device)  # without a GPU only an explicit --device cpu runs it


def check_input(src: Path, audio_stream: int = 0) -> None:
    """One input, read before the models load: media with the audio stream asked for."""
    if audio_stream < 0:
        raise InputError(f"--audio-stream {audio_stream}: streams are numbered from 0")
    from ccgen.media.mediainfo import probe

    info = probe(src)
    if audio_stream >= len(info.audio):
        raise InputError(f"{src}: --audio-stream {audio_stream} does not exist (the file has "
                         f"{len(info.audio)} audio stream(s), numbered from 0)")
