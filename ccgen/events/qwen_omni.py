"""Loading the Qwen2.5-Omni thinker for AudSemThinker: device, weights, model, processor, LoRA.

Shared by describing (:mod:`ccgen.events.audsemthinker`) and fine-tuning (:mod:`ccgen.finetune`)
so both load a checkpoint the same way: the thinker-only class (the full Omni class would build
a random 7B model from a thinker checkpoint), ``trust_remote_code`` off, bf16 and flash or SDPA
attention on CUDA, and an adapter folder accepted in place of a model.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ccgen.errors import CcgenError, InputError, first_line

log = logging.getLogger("ccgen")

DEFAULT_MODEL = "gijs/audsemthinker"
BASE_PROCESSOR = "Qwen/Qwen2.5-Omni-7B"  # where the processor comes from if a checkpoint has none
GET_WEIGHTS = ("on a connected machine run `hf download gijs/audsemthinker --local-dir DIR` "
               "(older huggingface_hub: `huggingface-cli download ...`), then pass "
               "--describer-model DIR")
TOKENIZER_FILES = ("tokenizer.json", "vocab.json")
OMNI_TOKENS = {"audio_token": "<|AUDIO|>", "audio_bos_token": "<|audio_bos|>",
               "audio_eos_token": "<|audio_eos|>", "image_token": "<|IMAGE|>",
               "video_token": "<|VIDEO|>", "vision_bos_token": "<|vision_bos|>",
               "vision_eos_token": "<|vision_eos|>"}  # the names Qwen2_5OmniProcessor reads




def resolve_device(device: str = "auto", what: str = "--describer audsemthinker",
                   fallback: str = "use --describer yamnet (or auto), or force the slow CPU "
                                   "path with --device cpu") -> str:
    """'cuda' or 'cpu'; without CUDA only an explicit 'cpu' runs (a 7B model on a CPU is slow).
    `what` and `fallback` word the refusal for the command that asks."""
    from ccgen import devices

    devices.check(device, indexed=True)
    if device == "cpu":
        return "cpu"
    if devices.cuda_available("torch"):
        return "cuda" if device == "auto" else device
    raise InputError(f"{what} needs a CUDA GPU and none was found: {fallback}")


def out_of_memory(exc: BaseException) -> bool:
    """CUDA out of memory: torch's own error, or cuBLAS / flash attention's RuntimeError."""
    import torch

    return isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in str(exc).lower()


def weights_status(model: str = DEFAULT_MODEL) -> tuple[bool, str]:
    """(available offline, where or why not), without loading anything: the model's config
    and a tokenizer (the processor is built from it when the checkpoint ships none)."""
    path = Path(model).expanduser()
    base = adapter_base(path)
    if base is not None:  # an adapter folder: its base must be here too
        found, where = weights_status(base)
        return found, str(path) if found else f"the adapter's base model: {where}"
    if path.is_dir():
        if not (path / "config.json").is_file():
            return False, f"{path} has no config.json"
        if not _has_tokenizer(lambda name: (path / name).is_file()):
            return False, f"{path} has no tokenizer (tokenizer.json or vocab.json)"
        return True, str(path)
    if path.suffix or model.count("/") != 1:
        return False, f"{model} is neither a folder nor a model id"
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False, "huggingface_hub is not installed"

    def cached(repo: str, name: str) -> str | None:
        found = try_to_load_from_cache(repo, name)
        return found if isinstance(found, str) else None

    config = cached(model, "config.json")
    if config is None:
        return False, f"{model} is not in the Hugging Face cache"
    if not (_has_tokenizer(lambda name: cached(model, name) is not None)
            or cached(BASE_PROCESSOR, "preprocessor_config.json")):
        return False, f"{model} is cached without a tokenizer, and {BASE_PROCESSOR} is not cached"
    return True, str(Path(config).parent)


def _has_tokenizer(exists: Callable[[str], bool]) -> bool:
    return any(exists(name) for name in TOKENIZER_FILES)


def adapter_base(path: str | Path) -> str | None:
    """The base model a LoRA adapter folder names, or None when `path` is not one (a folder
    with adapter_config.json and no config.json): ``ccgen finetune`` writes adapters, and a
    user may pass one where a model is expected."""
    folder = Path(path).expanduser()
    config = folder / "adapter_config.json"
    if not folder.is_dir() or (folder / "config.json").exists() or not config.is_file():
        return None
    try:  # a broken one is named in one line, not a JSONDecodeError or KeyError traceback
        base = json.loads(config.read_text(encoding="utf-8")).get("base_model_name_or_path")
    except (OSError, ValueError, AttributeError) as exc:
        raise InputError(f"{config}: not a LoRA adapter config ({first_line(exc)})") from None
    if not isinstance(base, str) or not base:
        raise InputError(f"{config}: names no base model (base_model_name_or_path)")
    return base


def _local_only(model: str) -> bool:
    """Load from disk only when the hub cannot answer: an offline site then fails in one line
    instead of waiting on network timeouts for every file."""
    from ccgen import hub

    return Path(model).expanduser().is_dir() or not hub.answers(timeout=3.0)


def omni_processor(tokenizer: Any, chunk_length: int = 30) -> Any:
    """Qwen2.5-Omni's processor around `tokenizer`, with Qwen2.5-Omni-7B's audio front end
    (Whisper features, 128 mel bins at 16 kHz, hop 160, n_fft 400). The AudSemThinker
    checkpoints ship the tokenizer but no preprocessor_config.json, and the image and video
    processors are never fed here, so nothing else needs downloading. The window
    (`chunk_length`, 300 s in the real config) is sized per batch when describing anyway."""
    from transformers import (
        Qwen2_5OmniProcessor,
        Qwen2VLImageProcessor,
        Qwen2VLVideoProcessor,
        WhisperFeatureExtractor,
    )

    return Qwen2_5OmniProcessor(
        image_processor=Qwen2VLImageProcessor(), video_processor=Qwen2VLVideoProcessor(),
        feature_extractor=WhisperFeatureExtractor(feature_size=128, chunk_length=chunk_length),
        tokenizer=tokenizer)


def load_processor(model: str, local_only: bool = True) -> Any:
    """The checkpoint's processor; else one built from its tokenizer; else the base model's."""
    from transformers import AutoTokenizer, Qwen2_5OmniProcessor

    try:
        processor = Qwen2_5OmniProcessor.from_pretrained(model, local_files_only=local_only)
        if processor.audio_token is not None:
            return processor
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        log.info("audsemthinker: no processor in %s (%s)", model, exc)
    try:
        tokenizer = AutoTokenizer.from_pretrained(model, local_files_only=local_only)
        if any(getattr(tokenizer, name, None) is None for name in OMNI_TOKENS):
            # saved by an older transformers: name the Omni tokens the processor looks up
            tokenizer = AutoTokenizer.from_pretrained(model, local_files_only=local_only,
                                                      extra_special_tokens=OMNI_TOKENS)
        log.info("audsemthinker: processor built from %s's tokenizer", model)
        return omni_processor(tokenizer)
    except (OSError, ValueError, TypeError) as exc:
        log.info("audsemthinker: no tokenizer in %s (%s)", model, exc)
    try:
        return Qwen2_5OmniProcessor.from_pretrained(BASE_PROCESSOR, local_files_only=local_only)
    except (OSError, ValueError, TypeError) as exc:
        log.info("audsemthinker: no processor in %s (%s)", BASE_PROCESSOR, exc)
    raise CcgenError(f"no tokenizer or Qwen2.5-Omni processor in {model!r} nor "
                     f"{BASE_PROCESSOR!r}; {GET_WEIGHTS}")


def load(model: str, adapter: str | None, device: str) -> tuple[Any, Any]:
    """(thinker model, processor) from a folder or hub id, with an optional LoRA adapter merged."""
    try:
        import torch
        from transformers import PretrainedConfig, Qwen2_5OmniThinkerForConditionalGeneration
        from transformers.utils import is_flash_attn_2_available
    except ImportError as exc:
        raise CcgenError(f"AudSemThinker needs transformers ({exc}): "
                         "pip install 'ccgen[audsemthinker]'") from None
    base = adapter_base(model)
    if base is not None:  # an adapter folder given as the model: load its base
        adapter = adapter or str(Path(model).expanduser())
        model = base
    local = _local_only(model)
    cuda = device.startswith("cuda")
    # flash attention needs Ampere or newer; bf16 likewise (older cards run float16)
    modern = cuda and torch.cuda.get_device_capability(torch.device(device))[0] >= 8
    attn = "flash_attention_2" if modern and is_flash_attn_2_available() else "sdpa"
    dtype = (torch.bfloat16 if modern else torch.float16) if cuda else torch.float32
    try:
        kind = PretrainedConfig.get_config_dict(model, local_files_only=local)[0].get(
            "model_type")
        if kind != "qwen2_5_omni_thinker":  # the full Omni class would build random weights
            raise CcgenError(f"{model!r} is a {kind} checkpoint; ccgen loads thinker-only "
                             "checkpoints (model_type qwen2_5_omni_thinker) such as "
                             "gijs/audsemthinker")
        thinker = Qwen2_5OmniThinkerForConditionalGeneration.from_pretrained(
            model, dtype=dtype, attn_implementation=attn,
            trust_remote_code=False, device_map={"": device} if cuda else None,
            local_files_only=local)
    except RuntimeError as exc:  # torch.cuda.OutOfMemoryError included
        if not out_of_memory(exc):
            raise
        raise CcgenError("not enough free GPU memory to load AudSemThinker (about 18 GB in "
                         "bf16); free the GPU or use --describer yamnet") from None
    except (OSError, ValueError) as exc:
        raise CcgenError(f"cannot load AudSemThinker from {model!r} ({first_line(exc, 160)}); "
                         f"{GET_WEIGHTS}") from None
    if adapter:
        thinker = _with_adapter(thinker, adapter)
    thinker.eval()
    processor = load_processor(model, local)
    log.info("audsemthinker: loaded %s%s on %s (%s, %s attention)", model,
             f" + adapter {adapter}" if adapter else "", device, thinker.dtype, attn)
    return thinker, processor


def _with_adapter(thinker: Any, adapter: str) -> Any:
    """Apply a LoRA adapter, unmerged: merging into bf16 weights rounds a young adapter's small
    deltas away, and the 2.5 M adapter weights cost little at inference."""
    if not (Path(adapter) / "adapter_config.json").is_file():
        raise InputError(f"--adapter {adapter}: not a LoRA adapter folder (no adapter_config.json)")
    try:
        from peft import PeftModel
    except ImportError:
        raise CcgenError("--adapter needs peft: pip install 'ccgen[audsemthinker]'") from None
    return PeftModel.from_pretrained(thinker, adapter)


