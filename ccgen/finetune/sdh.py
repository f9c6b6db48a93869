"""Find the non-speech cues in human SDH subtitles, in the styles captioners actually use.

Training pairs for the sound describer come from existing SDH files, so this module has to read
them as a viewer would, whatever the house style:

- ``[door slams]`` (Netflix, most web captions) and ``( door slams )`` (US broadcast, WGBH);
- BBC capitals: a whole line in capitals such as ``DOOR SLAMS``. Capitals are also used for
  on-screen text, credits and shouting, so they count only in files that use no brackets at all
  and write dialogue in mixed case (the BBC convention), and never a line ending in a comma (a
  credit list) or a speaker label;
- ``♪`` lines: notes alone are music, notes around a bracketed description (``♪ [singing] ♪``)
  are that description, notes around words are lyrics;
- speaker labels are stripped: ``MAN:``, ``ACTOR AS EINSTEIN:``, and bracketed names before
  dialogue (``[Boss] I'm glad you came``, ``[narrator]``), which are labels, not sounds.

A cue becomes a training example only when it holds sound tags and no dialogue: a tag inside
speech (``How the [bleep] do I know``, ``(whispering) Hello``) describes a clip that is mostly
speech, which the describer never hears (speech goes to the recogniser), so it is skipped and
counted with that reason. Captions keep the captioner's words (capitals lowered) so the data
stays the human's; ccgen's condenser turns them into house phrases at inference time.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ccgen.captions.reading import read_subtitle, sami_events, visible_lines
from ccgen.errors import InputError

SKIP_MIXED = "sound tag within dialogue"
SKIP_EMPTY = "empty tag"
SKIP_LABEL = "speaker label only"
SKIP_TEXT = "on-screen text"
SKIP_LANGUAGE = "language of the speech"
SKIP_LYRICS_AND_TAG = "lyrics with a sound tag"

_TAG = re.compile(r"\[([^\[\]]*)\]|\(([^()]*)\)")
_NOTES = re.compile(r"[♪♫]+")
_LABEL = re.compile(r"^(?:[A-Z][A-Z0-9'.\- ]{0,30}|[A-Z][a-z]+(?: [A-Z0-9][a-z0-9]*)?)\s*:\s*")
_DASH = re.compile(r"^(?:-|–|—|>>+)\s*")
_LETTERS = re.compile(r"[^\W\d_]")
_MUSIC = re.compile(r"\b(?:music|musical|song|songs|tune|melody|piano|guitar|violin|drums?|"
                    r"orchestra|orchestral|sing|sings|singing|sung|humming|hums|choir|band)\b",
                    re.I)
# Tags that describe the picture or the speech, not a sound: [SIGN READS: EXIT], [in Spanish].
_ON_SCREEN = re.compile(r"^(?:sign|signs|text|caption|captions|on[- ]screen|subtitles?|"
                        r"translat\w*|title|titles|card|chyron|graphic|reads)\b|:", re.I)
_LANGUAGES = {"english", "spanish", "french", "german", "italian", "portuguese", "russian",
              "chinese", "mandarin", "cantonese", "japanese", "korean", "arabic", "hebrew",
              "hindi", "urdu", "bengali", "punjabi", "turkish", "greek", "dutch", "swedish",
              "norwegian", "danish", "finnish", "polish", "czech", "hungarian", "romanian",
              "ukrainian", "persian", "farsi", "vietnamese", "thai", "indonesian", "tagalog",
              "swahili", "latin", "gaelic", "welsh", "irish", "yiddish", "sign language"}
_LANGUAGE_TAG = re.compile(r"^(?:(?:speaking in|speaks in|continues in|says in|in|speaking|"
                           r"speaks|speak)\s+)?(?P<name>[a-z ]+?)$", re.I)
# Bracketed words that name who speaks rather than what is heard.
_ROLES = {"narrator", "announcer", "all", "both", "man", "woman", "men", "women", "boy", "girl",
          "reporter", "host", "presenter", "interviewer", "crowd", "voice", "voices", "speaker",
          "off", "off-screen", "on tv", "on radio", "on phone", "over pa", "v.o.", "o.s."}


@dataclass(frozen=True)
class SoundCue:
    """One cue that is only sound: its times, caption, kind and the styles it was written in."""

    index: int  # 1-based position in the file
    start: float
    end: float
    caption: str
    kind: str  # sound | music | lyrics
    styles: tuple[str, ...]
    text: str  # the cue as displayed, lines joined with " / "

    @property
    def answer(self) -> str:
        """What the describer is trained to write in its <answer>: the caption itself, or, for
        lyrics, a singing sentence with the words quoted (which ccgen condenses to lyrics)."""
        return f'Someone sings "{self.caption}".' if self.kind == "lyrics" else self.caption


@dataclass
class Reading:
    """What one subtitle file held: sound cues, counts per style, and skipped cues with why."""

    path: str
    cues: int = 0
    speech: int = 0
    labels: int = 0
    sounds: list[SoundCue] = field(default_factory=list)
    styles: Counter = field(default_factory=Counter)
    skipped: list[tuple[int, str, str]] = field(default_factory=list)  # (cue, reason, text)
    capitals: bool = False


def read_sound_cues(path: str | Path, fps: float = 25.0) -> Reading:
    """Read a subtitle file in any format pysubs2 reads (as ``ccgen lint`` does) and classify
    every cue. InputError (one line, naming the file) when it cannot be read."""
    path = Path(path)
    try:
        subs = read_subtitle(path, fps)
    except InputError as exc:  # lint's wording, said for this command
        raise InputError(str(exc).replace("cannot be linted", "cannot be read")) from None
    events = [e for e in subs.events if not e.is_comment]
    if subs.format == "sami":
        events = sami_events(events)
    cues = [(e.start / 1000, e.end / 1000, visible_lines(e.text)) for e in events]
    return classify(cues, str(path))


def classify(cues: list[tuple[float, float, list[str]]], path: str = "") -> Reading:
    """Classify cues given as (start, end, displayed lines)."""
    reading = Reading(path, cues=len(cues))
    reading.capitals = capitals_mode([line for _, _, lines in cues for line in lines])
    for number, (start, end, lines) in enumerate(cues, 1):
        _classify_cue(reading, number, start, end, lines)
    return reading


def capitals_mode(lines: list[str]) -> bool:
    """Whether whole lines in capitals are sound cues here: no bracketed tags anywhere, and the
    dialogue in mixed case (at least a quarter of the lines with words: in an all-capitals
    file, such as old CEA-608 captions, capitals are just dialogue)."""
    if any(_TAG.search(line) for line in lines):
        return False
    worded = [ln for ln in lines if len(_LETTERS.findall(ln)) >= 2]
    mixed = [ln for ln in worded if any(c.islower() for c in ln)]
    return bool(mixed) and len(mixed) >= len(worded) / 4


def _classify_cue(reading: Reading, number: int, start: float, end: float,
                  lines: list[str]) -> None:
    parts: list[tuple[str, str, str]] = []  # (style, caption, kind)
    speech: list[str] = []
    names: set[int] = set()  # positions in `parts` of tags that could be speaker names
    labels = 0
    other: str | None = None  # why tags that are not sounds were set aside
    for raw in _join_open(lines):
        labelled, why = _read_line(reading, raw, parts, speech, names)
        labels += labelled
        other = why or other
    # names before dialogue are speaker labels; alone, a bracketed word ([Thunder]) is a sound
    # but a role ([narrator]) is still a label
    label_at = names if speech else {i for i in names if _role(parts[i][1])}
    labels += len(label_at)
    parts = [p for i, p in enumerate(parts) if i not in label_at]
    reading.labels += labels
    _record(reading, number, start, end, lines, parts, speech, labels, other)


def _read_line(reading: Reading, raw: str, parts: list[tuple[str, str, str]],
               speech: list[str], names: set[int]) -> tuple[bool, str | None]:
    """Sort one line of a cue into `parts` (sound, music, lyrics tags), `speech` and `names`
    (tags that could be speaker names); returns whether it began with a speaker label and
    why a tag was set aside (None: none was)."""
    other = None
    line = _DASH.sub("", raw.strip())
    label = _LABEL.match(line)
    if label:
        line = line[label.end():]
    notes = bool(_NOTES.search(line))
    tags = []
    for m in _TAG.finditer(line):
        style = "brackets" if m.group(1) is not None else "parentheses"
        tags.append((style, _clean(m.group(1) if m.group(1) is not None else m.group(2))))
    shown = " ".join(_NOTES.sub(" ", _TAG.sub(" ", line)).split())
    rest = _clean(shown) if _LETTERS.search(shown) else ""
    for style, caption in tags:
        kind = "music" if notes or _MUSIC.search(caption) else "sound"
        styles = f"{style}+notes" if notes else style
        if not caption:
            continue
        if _ON_SCREEN.search(caption):
            other = SKIP_TEXT
        elif _is_language(caption):
            other = SKIP_LANGUAGE
        else:
            if _role(caption) or _could_be_name(caption):
                names.add(len(parts))
            parts.append((styles, caption, kind))
    if rest and notes and not tags:
        parts.append(("notes", rest, "lyrics"))
    elif rest and reading.capitals and not label and _is_capitals(shown):
        parts.append(("capitals", rest, "music" if _MUSIC.search(rest) else "sound"))
    elif rest:
        speech.append(rest)
    elif notes and not tags:
        parts.append(("notes", "music", "music"))
    return bool(label), other


def _record(reading: Reading, number: int, start: float, end: float, lines: list[str],
            parts: list[tuple[str, str, str]], speech: list[str], labels: int,
            other: str | None) -> None:
    """What the cue was, once its lines are sorted: a sound cue, speech, or skipped (why)."""
    text = " / ".join(lines)
    kinds = {kind for _, _, kind in parts}
    if speech and parts:
        reading.skipped.append((number, SKIP_MIXED, text))
    elif "lyrics" in kinds and len(kinds) > 1:
        reading.skipped.append((number, SKIP_LYRICS_AND_TAG, text))
    elif parts:
        unique: dict[str, str] = {}
        for _, caption, _ in parts:
            unique.setdefault(caption.casefold(), caption)  # one of each, whatever its case
        captions = list(unique.values())
        kind = "lyrics" if "lyrics" in kinds else "music" if kinds == {"music"} else "sound"
        styles = tuple(dict.fromkeys(style for style, _, _ in parts))
        reading.styles.update(styles)
        reading.sounds.append(SoundCue(number, start, end, "; ".join(captions), kind, styles,
                                       text))
    elif speech:
        reading.speech += 1
    elif other:
        reading.skipped.append((number, other, text))
    elif lines:
        reading.skipped.append((number, SKIP_LABEL if labels else SKIP_EMPTY, text))


def _clean(text: str) -> str:
    """Collapse whitespace, drop edge punctuation (a quote only when unpaired); lower a caption
    written in capitals or Title Case, so the targets do not vary with the file's casing."""
    text = " ".join(text.split()).strip(" .,;:!?-–—")
    if text.count('"') % 2:
        text = text.strip('"')
    words = text.split()
    title = len(words) > 1 and all(w[:1].isupper() and w[1:].islower() for w in words
                                   if w[:1].isalpha())
    return text.lower() if text.isupper() or title else text


def _join_open(lines: list[str]) -> list[str]:
    """A tag broken over two lines ([door / slams]) is read as one line."""
    out: list[str] = []
    for line in lines:
        if out and (out[-1].count("[") > out[-1].count("]")
                    or out[-1].count("(") > out[-1].count(")")):
            out[-1] = f"{out[-1]} {line.strip()}"
        else:
            out.append(line)
    return out


def _is_language(caption: str) -> bool:
    """[in Spanish], [speaking Russian], [French]: the speech's language, not a sound."""
    m = _LANGUAGE_TAG.match(caption.strip())
    return bool(m) and m["name"].strip().lower() in _LANGUAGES


def _role(caption: str) -> bool:
    """[narrator], [Man 2]: who speaks, not a sound."""
    return re.sub(r"\s*\d+$", "", caption).lower() in _ROLES


def _is_capitals(text: str) -> bool:
    """A BBC sound line: capitals, not a shout (GET OUT!, WHAT?), not a credit list (ending in
    a comma), and not a lone acronym (FBI, OK)."""
    letters = _LETTERS.findall(text)
    return (len(letters) >= 2 and all(c.isupper() for c in letters)
            and len(text.split()) <= 8 and not text.rstrip().endswith((",", "!", "?"))
            and not (len(text.split()) == 1 and len(letters) <= 3))


def _could_be_name(caption: str) -> bool:
    """[Boss], [Zeus], [Man 2], [narrator]: a speaker's name, if dialogue follows."""
    if caption.lower() in _ROLES:
        return True
    words = caption.split()
    return 0 < len(words) <= 3 and all(w[0].isupper() or w[0].isdigit() for w in words) and \
        not caption.isupper()
