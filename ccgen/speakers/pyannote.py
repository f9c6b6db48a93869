"""``pyannote``: the pyannote.audio speaker-diarization pipeline (community-1 or a local copy).

The model is a Hugging Face id (gated: the token comes from ``token=`` or ``HF_TOKEN``) or a
local folder laid out like ``pyannote/speaker-diarization-community-1`` (``config.yaml`` with
``$model/segmentation``, ``$model/embedding``, ``$model/plda`` + those sub-folders), which is
how studios without hub access run it. Audio is passed in memory, so pyannote never re-decodes
the file. pyannote.audio sends usage telemetry unless ``PYANNOTE_METRICS_ENABLED`` is false:
we set it to false before the import unless the user chose a value (a broadcast pipeline must
not phone home).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ccgen import devices
from ccgen.errors import CcgenError, InputError, first_line
from ccgen.media.audio import SAMPLE_RATE  # what every model here was trained on
from ccgen.registry import needs
from ccgen.speakers.base import Turn, check_counts, normalize_turns, register

DEFAULT_MODEL = "pyannote/speaker-diarization-community-1"
INSTALL_HINT = "the pyannote diarizer needs pyannote.audio: pip install 'ccgen[pyannote]'"


def import_pipeline() -> Any:
    """``pyannote.audio.Pipeline``, imported with telemetry off (unless the user set it)."""
    os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")
    try:
        from pyannote.audio import Pipeline
    except ImportError as exc:
        raise InputError(INSTALL_HINT) from exc
    return Pipeline


def _check_obtainable(model: str) -> None:
    """A hub id must be in the local cache or the hub reachable: fail in one line, not after
    minutes of retries, on offline sites."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return
    if isinstance(try_to_load_from_cache(model, "config.yaml"), str):
        return
    from ccgen import hub

    endpoint = hub.endpoint()
    if not hub.answers(timeout=3.0):
        raise InputError(f"pyannote model {model!r} is not on this machine and {endpoint} "
                         "cannot be reached: `ccgen models fetch pyannote` on a connected "
                         "machine, or pass a local pipeline folder with --diarizer-model")


@register("pyannote", available=lambda: needs({"pyannote.audio": "pyannote.audio"},
                                              "pip install 'ccgen[pyannote]'"),
          help="pyannote.audio pipeline from the hub with HF_TOKEN or a local folder, "
               "see --diarizer-model")
class PyannoteDiarizer:
    """pyannote.audio's SpeakerDiarization pipeline; GPU when there is one."""

    name = "pyannote"
    label = f"pyannote ({DEFAULT_MODEL})"  # each instance names the model it runs

    def __init__(self, model: str | Path | None = None, device: str = "auto",
                 token: str | None = None, num_speakers: int | None = None,
                 min_speakers: int | None = None, max_speakers: int | None = None,
                 batch_size: int | None = None, exclusive: bool = True, **_: object) -> None:
        check_counts(num_speakers, min_speakers, max_speakers)
        pipeline_cls = import_pipeline()
        import torch

        self.model = str(model or DEFAULT_MODEL)
        self.label = f"pyannote ({self.model})"
        self.counts = {k: v for k, v in (("num_speakers", num_speakers),
                                         ("min_speakers", min_speakers),
                                         ("max_speakers", max_speakers)) if v is not None}
        # exclusive turns (no overlap) are the ones pyannote aligns with transcripts
        self.exclusive = exclusive
        local = Path(self.model).expanduser()
        try:
            if local.exists():
                if not (local / "config.yaml").is_file() and local.is_dir():
                    raise InputError(f"{local}: not a pyannote pipeline folder (no config.yaml)")
                pipeline = pipeline_cls.from_pretrained(str(local))
            else:
                _check_obtainable(self.model)
                pipeline = pipeline_cls.from_pretrained(
                    self.model, token=token or os.environ.get("HF_TOKEN") or None)
        except CcgenError:
            raise
        except Exception as exc:  # hub, yaml, checkpoint: one line for the user
            raise CcgenError(f"cannot load pyannote pipeline {self.model!r}: "
                             f"{first_line(exc, 200)}") from exc
        if pipeline is None:  # pyannote returns None when the hub refuses the download
            raise CcgenError(f"cannot load pyannote pipeline {self.model!r}: the download was "
                             "refused; set HF_TOKEN and accept the model's conditions on its "
                             "hub page, or pass a local folder")
        if batch_size is not None:  # 1 was fastest on 2 CPU cores; GPUs like 32
            pipeline.segmentation_batch_size = batch_size
            pipeline.embedding_batch_size = batch_size
        device = devices.resolve(device, "torch")
        try:
            pipeline.to(torch.device(device))
        except Exception as exc:
            raise CcgenError(f"cannot move pyannote pipeline to {device}: "
                             f"{first_line(exc, 200)}") from exc
        self.device = device
        self.pipeline = pipeline

    def diarize(self, audio: np.ndarray, speech: list[tuple[float, float]]) -> list[Turn]:
        """Run the pipeline on the whole soundtrack; `speech` only short-cuts silence.

        pyannote's own segmentation finds speech (and overlap) better than the VAD, so its
        turns are not clipped to the VAD's regions.
        """
        if not speech or audio.size < SAMPLE_RATE // 10:
            return []
        import torch

        waveform = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))[None]
        try:
            out = self.pipeline({"waveform": waveform, "sample_rate": SAMPLE_RATE},
                                **self.counts)
        except Exception as exc:
            raise CcgenError(f"pyannote diarization failed: {first_line(exc, 200)}") from exc
        # pyannote.audio 4 returns DiarizeOutput; 3.x returned the Annotation itself
        annotation = getattr(out, "exclusive_speaker_diarization" if self.exclusive
                             else "speaker_diarization", out)
        return normalize_turns(
            Turn(float(seg.start), float(seg.end), str(label))
            for seg, _, label in annotation.itertracks(yield_label=True))
