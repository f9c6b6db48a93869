"""Loading the Qwen2.5-Omni thinker for AudSemThinker: device, weights, model, processor, LoRA.

Shared by describing (:mod:`ccgen.events.audsemthinker`) and fine-tuning (:mod:`ccgen.finetune`)
so both load a checkpoint the same way: the thinker-only class (the full Omni class would build
a random 7B model from a thinker checkpoint), ``trust_remote_code`` off, bf16 and flash or SDPA
attention on CUDA, and an adapter folder accepted in place of a model.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from ccgen.errors import CcgenError, InputError

log = logging.getLogger("ccgen")

DEFAULT_MODEL = "gijs/audsemthinker"
BASE_PROCESSOR = "Qwen/Qwen2.5-Omni-7B"  # where the processor comes from if a checkpoint has none
GET_WEIGHTS = ("on a connected machine run `hf download gijs/audsemthinker --local-dir DIR` "
               "(older huggingface_hub: `huggingface-cli download ...`), then pass "
               "--describer-model DIR")




def resolve_device(device: str = "auto", what: str = "--describer audsemthinker",
                   fallback: str = "use --describer yamnet (or auto), or force the slow CPU "
                                   "path with --device cpu") -> str:
    """'cuda' or 'cpu'; without CUDA only an explicit 'cpu' runs (a 7B model on a CPU is slow).
    `what` and `fallback` word the refusal for the command that asks."""
    if device not in ("auto", "cpu", "cuda") and not device.startswith("cuda:"):
        raise InputError(f"unknown device {device!r}; choose auto, cpu or cuda")
    if device == "cpu":
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda" if device == "auto" else device
    raise InputError(f"{what} needs a CUDA GPU and none was found: {fallback}")


def weights_status(model: str = DEFAULT_MODEL) -> tuple[bool, str]:
    """(available offline, where or why not), without loading anything."""
    path = Path(model).expanduser()
    if path.is_dir():
        found = (path / "config.json").is_file() or (path / "adapter_config.json").is_file()
        return found, str(path) if found else f"{path} has no config.json"
    if path.suffix or model.count("/") != 1:
        return False, f"{model} is neither a folder nor a model id"
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False, "huggingface_hub is not installed"
    cached = try_to_load_from_cache(model, "config.json")
    if isinstance(cached, str):
        return True, str(Path(cached).parent)
    return False, f"{model} is not in the Hugging Face cache"


def load(model: str, adapter: str | None, device: str) -> tuple[Any, Any]:
    """(thinker model, processor) from a folder or hub id, with an optional LoRA adapter merged."""
    try:
        import torch
        from transformers import (
            PretrainedConfig,
            Qwen2_5OmniProcessor,
            Qwen2_5OmniThinkerForConditionalGeneration,
        )
        from transformers.utils import is_flash_attn_2_available
    except ImportError as exc:
        raise CcgenError(f"AudSemThinker needs transformers ({exc}): "
                         "pip install 'ccgen[audsemthinker]'") from None
    path = Path(model).expanduser()
    if path.is_dir() and not (path / "config.json").exists() and (
            path / "adapter_config.json").exists():
        # an adapter folder given as the model (ccgen finetune's output): load its base
        adapter = adapter or str(path)
        model = json.loads((path / "adapter_config.json").read_text())["base_model_name_or_path"]
    cuda = device.startswith("cuda")
    attn = "flash_attention_2" if cuda and is_flash_attn_2_available() else "sdpa"
    try:
        kind = PretrainedConfig.get_config_dict(model)[0].get("model_type")
        if kind != "qwen2_5_omni_thinker":  # the full Omni class would build random weights
            raise CcgenError(f"{model!r} is a {kind} checkpoint; ccgen loads thinker-only "
                             "checkpoints (model_type qwen2_5_omni_thinker) such as "
                             "gijs/audsemthinker")
        thinker = Qwen2_5OmniThinkerForConditionalGeneration.from_pretrained(
            model, dtype=torch.bfloat16 if cuda else torch.float32, attn_implementation=attn,
            trust_remote_code=False, device_map={"": device} if cuda else None)
    except (OSError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise CcgenError(f"cannot load AudSemThinker from {model!r} ({reason}); "
                         f"{GET_WEIGHTS}") from None
    if adapter:
        thinker = _with_adapter(thinker, adapter)
    thinker.eval()
    processor = None
    for source in (model, BASE_PROCESSOR):
        try:
            processor = Qwen2_5OmniProcessor.from_pretrained(source)
            break
        except (OSError, ValueError, TypeError) as exc:
            log.info("audsemthinker: no processor in %s (%s)", source, exc)
    if processor is None:
        raise CcgenError(f"no Qwen2.5-Omni processor in {model!r} nor {BASE_PROCESSOR!r}; "
                         f"{GET_WEIGHTS.replace('gijs/audsemthinker', BASE_PROCESSOR)}")
    log.info("audsemthinker: loaded %s%s on %s (%s, %s attention)", model,
             f" + adapter {adapter}" if adapter else "", device, thinker.dtype, attn)
    return thinker, processor


def _with_adapter(thinker: Any, adapter: str) -> Any:
    """Apply a LoRA adapter and merge it, so inference runs at the base model's speed."""
    if not (Path(adapter) / "adapter_config.json").is_file():
        raise InputError(f"--adapter {adapter}: not a LoRA adapter folder (no adapter_config.json)")
    try:
        from peft import PeftModel
    except ImportError:
        raise CcgenError("--adapter needs peft: pip install 'ccgen[audsemthinker]'") from None
    return PeftModel.from_pretrained(thinker, adapter).merge_and_unload()


