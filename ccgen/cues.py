"""The one small data model every stage shares.

A :class:`Word` is what the recogniser heard, a :class:`SoundEvent` what the sound describer
(or the speech guard, for sung lines) heard; the SDH engine turns both into display
:class:`Cue` s (a speech line, a sound, music or lyrics caption), and a :class:`Timeline` of
cues is what :func:`ccgen.caption` returns and what every writer reads. All are frozen. Times
are float seconds from the start of the media, as in the JSON timeline (README).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

CueKind = Literal["speech", "sound", "music", "lyrics"]
SoundKind = Literal["sound", "music", "lyrics"]


@dataclass(frozen=True)
class Word:
    """One recognised word with its time span (from the transcriber). Frozen: a stage that
    names the speaker returns new words (``dataclasses.replace``), so a cached or shared
    transcript is never changed behind its owner's back."""

    start: float
    end: float
    text: str
    probability: float = 1.0
    speaker: str | None = None


@dataclass(frozen=True)
class SoundEvent:
    """A sound heard in the media, before it is a caption: the `phrase` that names it ("door
    slams", no brackets or notes: the style adds them), its `kind`, its span (`start`,
    `end`), how sure the model was (`confidence`, in [0, 1]) and which model heard it
    (`source`). Kept apart from :class:`Cue`, which is display text under a style: the
    engine renders, wraps and places events, and never edits one."""

    start: float
    end: float
    kind: SoundKind
    phrase: str
    confidence: float = 1.0
    source: str = ""

    @property
    def span(self) -> tuple[float, float]:
        return self.start, self.end


@dataclass(frozen=True)
class Cue:
    """A caption-sized item on the timeline. Frozen: every caption pass builds new cues
    (``dataclasses.replace``) and edits none it was given.

    `text` is display text: for display cues it may hold a newline between its two lines.
    `source` names the backend that produced it, `confidence` is in [0, 1]. `speaker` is the
    first speaker; `speakers` lists every speaker in line order when a caption holds several
    (a dashed exchange), so machine readers lose no speaker change.
    """

    start: float
    end: float
    kind: CueKind
    text: str
    speaker: str | None = None
    source: str = ""
    confidence: float = 1.0
    speakers: list[str] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["start"] = round(self.start, 3)
        d["end"] = round(self.end, 3)
        d["confidence"] = round(self.confidence, 3)
        d["speakers"] = list(self.speakers) or ([self.speaker] if self.speaker else [])
        return d


@dataclass
class Timeline:
    """Everything ccgen knows about one input once captioning is done."""

    media: str
    duration: float
    language: str
    style: str
    cues: list[Cue] = field(default_factory=list)
    models: dict[str, str] = field(default_factory=dict)
    speakers: list[str] = field(default_factory=list)
    frame_rate: float | None = None

    def to_dict(self) -> dict[str, Any]:
        from ccgen import __version__

        return {
            "ccgen": __version__,
            "media": self.media,
            "duration": round(self.duration, 3),
            "language": self.language,
            "style": self.style,
            "models": dict(self.models),
            "speakers": list(self.speakers),
            "cues": [c.to_dict() for c in self.cues],
        }
