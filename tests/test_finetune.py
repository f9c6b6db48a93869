"""ccgen finetune on a tiny random Qwen2.5-Omni thinker, end to end on the CPU.

The data is real: a human SDH file (babelsubs_Timed_en.srt: [thunder], [mumbling a song],
♪ [singing] ♪ ... between [Boss]-labelled dialogue) with a soundtrack synthesised for it (a
distinct sound at each sound cue), cut by ``ccgen dataset``. The model is the describer tests'
tiny checkpoint (real tokenizer, processor and thinker class, random weights), loaded through
the same code as captioning. One torch thread: the tiny model is faster that way on a shared
CPU, and the results are reproducible.
"""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest

from ccgen.errors import InputError, OutputExistsError

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")

from ccgen.events import audsemthinker as ast  # noqa: E402
from ccgen.finetune import build_dataset, finetune, read_examples  # noqa: E402
from ccgen.finetune.batches import Collator  # noqa: E402
from ccgen.finetune.dataset import read_clip  # noqa: E402
from ccgen.finetune.sdh import read_sound_cues  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, bench_script) -> Path:
    return bench_script("describer_gpu").save_tiny(tmp_path_factory.mktemp("tiny"), seed=0, std=0.5)


def soundtrack(subtitles: Path, path: Path) -> Path:
    """A 16 kHz WAV with a sound at every sound cue of `subtitles`: rumbling noise for thunder,
    a chord for music, a buzzing voice-like tone otherwise; faint room tone in between."""
    cues = read_sound_cues(subtitles).sounds
    rate, rng = 16000, np.random.default_rng(0)
    audio = 0.002 * rng.standard_normal(int((cues[-1].end + 5) * rate))
    for cue in cues:
        a, b = int(cue.start * rate), int(cue.end * rate)
        t = np.arange(b - a) / rate
        if "thunder" in cue.caption:
            noise = np.cumsum(rng.standard_normal(b - a))
            sound = 0.3 * noise / np.abs(noise).max()
        elif cue.kind == "music":
            sound = sum(0.1 * np.sin(2 * np.pi * f * t) for f in (262, 330, 392))
        else:
            sound = 0.2 * np.sign(np.sin(2 * np.pi * 140 * t)) * (0.6 + 0.4 * np.sin(8 * t))
        audio[a:b] += sound
    with wave.open(str(path), "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(rate)
        fh.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    return path


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, public_clip) -> Path:
    subtitles = public_clip("captions/babelsubs_Timed_en.srt")
    folder = tmp_path_factory.mktemp("babel")
    wav = soundtrack(subtitles, folder / "babel.wav")
    summary = build_dataset([(wav, subtitles)], folder / "ds", context=0.25, val_fraction=0.15)
    assert (summary.train, summary.validation) == (5, 1)
    lines = (folder / "ds" / "train.jsonl").read_text().splitlines()
    (folder / "ds" / "four.jsonl").write_text("\n".join(lines[:4]) + "\n")
    return folder / "ds"


@pytest.fixture(scope="module")
def trained(tiny, dataset, tmp_path_factory):
    """Six steps on one repeated batch of four examples."""
    out = tmp_path_factory.mktemp("adapter")
    result = finetune(dataset / "four.jsonl", out, base_model=str(tiny), device="cpu", lr=1e-2,
                      batch_size=4, max_steps=6, val_data=dataset / "validation.jsonl",
                      quiet=True)
    return out, result


def test_loss_falls_and_the_adapter_is_saved_with_a_card(trained, tiny):
    out, result = trained
    losses = result.train_losses
    assert len(losses) == 6 and losses[-1] < losses[0] - 0.3
    assert [v["step"] for v in result.val_losses] == [1, 2, 3, 4, 5, 6]  # an epoch per step
    assert result.val_losses[-1]["loss"] < result.val_losses[0]["loss"]
    config = json.loads((out / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == str(tiny.resolve())
    assert (config["r"], config["lora_alpha"], config["lora_dropout"]) == (8, 16, 0.05)
    adapted = sorted(n for n, m in result.model.named_modules() if hasattr(m, "lora_A")
                     and "default" in m.lora_A)
    # the language model only (model.language_model.layers or, transformers 5.17,
    # model.layers): not the audio encoder's q/v
    assert [n.replace("language_model.", "") for n in adapted] == [
        f"base_model.model.model.layers.0.self_attn.{p}_proj" for p in "qv"]
    card = (out / "README.md").read_text()
    assert "base_model: " + str(tiny.resolve()) in card and "library_name: peft" in card
    assert f"{losses[0]:.4f}" in card and "| 6.0 |" in card
    record = json.loads((out / "training.json").read_text())
    assert record["train_losses"] == losses and record["settings"]["lora_r"] == 8


def test_reloaded_adapter_gives_the_trained_logits(trained, tiny, dataset):
    out, result = trained
    examples = read_examples(dataset / "four.jsonl")[:2]
    merged, processor = ast.load(str(tiny), str(out), "cpu")
    batch = Collator(processor)([read_clip(e.audio) for e in examples],
                                [e.completion() for e in examples])
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    base, _ = ast.load(str(tiny), None, "cpu")
    with torch.no_grad():
        want = result.model(**inputs).logits
        got = merged(**inputs).logits
        untrained = base(**inputs).logits
    assert torch.allclose(got, want, atol=1e-4)
    assert (got - untrained).abs().max() > 1e-2  # the adapter does change the model


def test_captions_a_clip_with_the_adapter(trained, tiny, dataset):
    out, _ = trained
    clip = read_clip(read_examples(dataset / "validation.jsonl")[0].audio)
    tuned = ast.AudSemThinker(str(tiny), adapter=str(out), device="cpu", max_new_tokens=12)
    said = tuned.describe_arrays([clip])[0]
    base = ast.AudSemThinker(str(tiny), device="cpu", max_new_tokens=12)
    assert said.tokens > 0 and said.raw != base.describe_arrays([clip])[0].raw
    as_model = ast.AudSemThinker(str(out), device="cpu", max_new_tokens=12)  # base via config
    assert as_model.describe_arrays([clip])[0].raw == said.raw
    assert tuned.summary.clips == 1


def test_resume_after_ctrl_c_ends_with_the_same_adapter(tiny, dataset, tmp_path):
    from safetensors.torch import load_file

    common = dict(base_model=str(tiny), device="cpu", lr=1e-2, batch_size=2, max_steps=5,
                  quiet=True, save_every=100)
    whole = finetune(dataset / "train.jsonl", tmp_path / "whole", **common)

    import os
    import signal

    from ccgen.finetune import train

    real, calls = train.optimizer_step, []

    def ctrl_c_after_the_update(*args, **kwargs) -> float:
        loss = real(*args, **kwargs)
        calls.append(loss)
        if len(calls) == 4:  # Ctrl-C lands after the weights moved, before the step is counted
            os.kill(os.getpid(), signal.SIGINT)
        return loss

    train.optimizer_step = ctrl_c_after_the_update
    try:
        with pytest.raises(KeyboardInterrupt):
            finetune(dataset / "train.jsonl", tmp_path / "cut", **common)
    finally:
        train.optimizer_step = real
    assert len(calls) == 4  # the step in progress finished; no fifth began
    saved = sorted(p.name for p in (tmp_path / "cut" / "checkpoints").iterdir())
    assert saved == ["step-000003", "step-000004"]  # the epoch's end, then the interruption
    assert not (tmp_path / "cut" / "adapter_model.safetensors").exists()
    resumed = finetune(dataset / "train.jsonl", tmp_path / "cut", resume=True, **common)
    assert (resumed.resumed_from, resumed.steps) == (4, 5)
    assert resumed.train_losses == pytest.approx(whole.train_losses, abs=1e-5)
    a = load_file(str(tmp_path / "whole" / "adapter_model.safetensors"))
    b = load_file(str(tmp_path / "cut" / "adapter_model.safetensors"))
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    with pytest.raises(InputError, match=r"other settings \(lr 0.01 → 0.005\)"):
        finetune(dataset / "train.jsonl", tmp_path / "cut", resume=True, **{**common,
                                                                          "lr": 5e-3})
    with pytest.raises(InputError, match="--resume: no checkpoint"):
        finetune(dataset / "train.jsonl", tmp_path / "fresh", resume=True, **common)
    with pytest.raises(OutputExistsError, match="use --force"):
        finetune(dataset / "train.jsonl", tmp_path / "whole", **common)


def test_an_adapter_is_refused_as_base_model(trained, dataset, tmp_path):
    out, _ = trained
    with pytest.raises(InputError, match="is a LoRA adapter"):
        finetune(dataset / "train.jsonl", tmp_path / "again", base_model=str(out), device="cpu")
    assert not (tmp_path / "again").exists()


@pytest.mark.parametrize(("config", "message"), [
    ("{not json", r"adapter_config\.json: not a LoRA adapter config \(Expecting"),
    ('{"peft_type": "LORA"}', r"adapter_config\.json: names no base model"),
])
def test_a_broken_adapter_config_is_named_in_one_line(dataset, tmp_path, config, message):
    """qwen_omni.adapter_base decides what an adapter is for finetune and the loader alike;
    an adapter_config.json it cannot read is bad input, before any model loads."""
    folder = tmp_path / "adapter"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(config)
    with pytest.raises(InputError, match=message):
        finetune(dataset / "train.jsonl", tmp_path / "out", base_model=str(folder),
                 device="cpu")
    assert not (tmp_path / "out").exists()


def test_plain_target_names_adapt_the_audio_encoder_too(tiny):
    """--target-modules q_proj,v_proj is the reference's choice: every such layer, audio
    encoder included; the default regex keeps to the language model."""
    from ccgen.finetune.train import lora_model

    def adapted(targets: str | None = None) -> set[str]:
        thinker, _ = ast.load(str(tiny), None, "cpu")
        model = lora_model(thinker, **({"targets": targets} if targets else {}))
        return {"audio" if "audio_tower" in n else "language"
                for n, p in model.named_parameters() if p.requires_grad}

    assert adapted() == {"language"}
    assert adapted("q_proj,v_proj") == {"language", "audio"}


def test_bad_data_is_refused_before_any_model_loads(tmp_path):
    (tmp_path / "data.jsonl").write_text('{"audio": "gone.flac", "caption": "thunder"}\n')
    with pytest.raises(InputError, match=r"data\.jsonl:1: audio file gone\.flac not found"):
        finetune(tmp_path / "data.jsonl", tmp_path / "out", base_model="/nowhere", device="cpu")
    with pytest.raises(InputError, match="out of range: batch size"):
        finetune(tmp_path / "data.jsonl", tmp_path / "out", batch_size=0, device="cpu")
    assert not (tmp_path / "out").exists()
    if not torch.cuda.is_available():  # good data, no GPU: the device is refused
        import numpy as np
        import soundfile

        soundfile.write(tmp_path / "gone.flac", np.zeros(16000, np.float32), 16000)
        with pytest.raises(InputError, match="--device cpu"):
            finetune(tmp_path / "data.jsonl", tmp_path / "out")


def test_gpu_benchmark_script_runs_on_the_tiny_model(tmp_path, bench_script):
    result = bench_script("finetune_gpu").main(["--tiny", "--steps", "2", "--seconds", "2",
                                          "--think-words", "9", "--out", str(tmp_path / "R.md")])
    row = result["rows"][0]
    assert row["steps"] == 2 and row["steps_per_s"] > 0 and row["batch_size"] == 4
    assert row["completion_tokens"] > 0 and len(row["losses"]) == 3
    assert "| LoRA q/v |" in (tmp_path / "R.md").read_text()


def test_gradient_accumulation_matches_one_large_batch(tiny, dataset):
    """The step's gradient and loss from 2 micro-batches of 2 equal those of 1 batch of 4 (up
    to the audio window's padding, 0.05 % here). Plain SGD, so the weight change is the
    gradient itself (Adam's first step is nearly its sign, which hides the comparison)."""
    from ccgen.finetune.train import lora_model, optimizer_step

    thinker, processor = ast.load(str(tiny), None, "cpu")
    model = lora_model(thinker, dropout=0.0)
    examples = read_examples(dataset / "four.jsonl")
    arrays, texts = [read_clip(e.audio) for e in examples], [e.completion() for e in examples]
    collate = Collator(processor)
    params = [p for p in model.parameters() if p.requires_grad]
    start = [p.detach().clone() for p in params]

    def step(batches: list[dict]) -> tuple[float, list]:
        sgd = torch.optim.SGD(params, lr=1e-3)
        loss = optimizer_step(model, batches, sgd, torch.optim.lr_scheduler.LambdaLR(
            sgd, lambda _: 1.0))
        moved = [p.detach() - s for p, s in zip(params, start, strict=True)]
        with torch.no_grad():
            for p, s in zip(params, start, strict=True):
                p.copy_(s)
        return loss, moved

    whole, big = step([collate(arrays, texts)])
    parts, small = step([collate(arrays[:2], texts[:2]), collate(arrays[2:], texts[2:])])
    assert parts == pytest.approx(whole, rel=2e-3)  # per-step mean, not a sum of means
    assert any(m.abs().max() > 0 for m in big)
    a, b = torch.cat([m.flatten() for m in big]), torch.cat([m.flatten() for m in small])
    assert float(torch.nn.functional.cosine_similarity(a, b, dim=0)) > 0.999
    assert float((a - b).norm() / a.norm()) < 0.03
