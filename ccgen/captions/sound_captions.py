"""Rule 4 of the SDH engine (:mod:`ccgen.captions.engine`): sound, music and lyrics captions.

Each sound event is rendered by the style (``[door slams]``, ``♪``...), wrapped when longer
than a line and spread over several captions when it needs more lines than the style has.
One in a pause gets its own caption; one under speech goes where it is read closest to when
it is heard (:func:`place_sounds`). Sounds too close together to be read one after the other
share one caption, a line each (:func:`merge_close_sounds`).
"""

from __future__ import annotations

from dataclasses import replace

from ccgen.captions.layout import break_lines
from ccgen.captions.readability import MAX_DELAY
from ccgen.captions.style import Style
from ccgen.cues import Cue, SoundEvent

SONG_GAP = 2.0  # lyrics closer than this (seconds) are lines of one song


def render_sounds(sounds: list[SoundEvent], style: Style) -> list[Cue]:
    """Every sound event as display captions, in time order (a song's last lyrics caption
    with the style's closing mark)."""
    ordered = sorted(sounds, key=lambda c: (c.start, c.end))
    ends = _song_ends(ordered)
    return [part for i, s in enumerate(ordered) for part in _render_sound(s, style, i in ends)]


def place_sounds(speech: list[Cue], sounds: list[Cue], style: Style, gap: float) -> list[Cue]:
    """Rule 4: put each sound where it is read closest to when it is heard.

    In order: its own caption before the speech it sits under (the speech waiting up to
    ``MAX_DELAY`` for it when it is heard just before); a line of that speech caption,
    if the caption can still be read in its time; its own caption in the first pause after;
    a line of the next speech caption; a line of the host whatever the reading speed; last,
    its own caption after the speech (the gaps pass then moves it on)."""
    speech = list(speech)  # a host's new text replaces it here, where later sounds look
    out: list[Cue] = []  # the sounds' own captions

    def add_line(host: Cue, sound: Cue, nxt: Cue | None, strict: bool) -> bool:
        text = _add_line(host, sound, style, nxt, gap, strict)
        if text is None:
            return False
        at = next(i for i, c in enumerate(speech) if c is host)
        speech[at] = replace(host, text=text)
        return True

    for sound in sounds:
        under = [c for c in speech if c.start < sound.end and sound.start < c.end]
        if not under:
            out.append(sound)
            continue
        host = under[0]
        if host.start - gap - sound.start >= style.min_duration:
            out.append(replace(sound, end=host.start - gap))
            continue
        if sound.start < host.start and style.min_duration - (
                host.start - gap - sound.start) <= MAX_DELAY:
            # heard just before the speech: shown first, the speech waits (at most MAX_DELAY)
            out.append(replace(sound, end=sound.start + style.min_duration))
            continue
        later = [c for c in speech if c.start >= host.end]
        if add_line(host, sound, later[0] if later else None, strict=True):
            continue
        pause = _pause_after(under, speech, sound, style, gap)
        if pause is not None:
            out.append(pause)
            continue
        if later and add_line(later[0], sound, later[1] if len(later) > 1 else None,
                              strict=True):
            continue
        if add_line(host, sound, None, strict=False):
            continue
        out.append(replace(sound, start=under[-1].end + gap,
                           end=max(sound.end, under[-1].end + gap + style.min_duration)))
    return sorted([*speech, *out], key=lambda c: (c.start, c.end))


def _add_line(cue: Cue, sound: Cue, style: Style, nxt: Cue | None, gap: float,
              strict: bool) -> str | None:
    """The speech caption's text with the sound's line(s) added, above its text when the
    sound starts in the caption's first half; None when they do not fit. `strict`: only when
    the caption can still be read before `nxt` (or within its longest duration) at the
    style's reading speed."""
    lines, extra = cue.text.split("\n"), sound.text.split("\n")
    if len(lines) + len(extra) > style.max_lines or any(len(x) > style.max_chars for x in extra):
        return None
    if strict:
        slot = min(nxt.start - gap if nxt else float("inf"), cue.start + style.max_duration)
        if slot - cue.start < style.reading_time(cue.text + sound.text):
            return None
    before = sound.start < (cue.start + cue.end) / 2
    return "\n".join([*extra, *lines] if before else [*lines, *extra])


def _pause_after(under: list[Cue], speech: list[Cue], sound: Cue, style: Style,
                 gap: float) -> Cue | None:
    """The sound as its own caption in the first pause, after a caption it sits under, that
    is long enough for the style's minimum duration."""
    for cue in under:
        start = max(sound.start, cue.end + gap)
        nxt = next((c for c in speech if c.start >= cue.end and c is not cue), None)
        limit = nxt.start - gap if nxt else float("inf")
        if limit - start >= style.min_duration:
            return replace(sound, start=start,
                           end=min(max(sound.end, start + style.min_duration), limit))
    return None


def _render_sound(sound: SoundEvent, style: Style, last: bool = False) -> list[Cue]:
    """A sound, music or lyrics item as display text: one line when it fits, else wrapped
    (lyrics marked per line or per caption as the style says, the song's last caption with
    its own mark: `last`), and spread over several captions sharing the item's time when it
    needs more lines than the style has."""
    def shown(start: float, end: float, text: str) -> Cue:
        return Cue(start, end, sound.kind, text, source=sound.source,
                   confidence=sound.confidence)

    full = style.render(sound.kind, sound.phrase, last)
    if len(full) <= style.max_chars:
        return [shown(sound.start, sound.end, full)]
    room = style.max_chars - (max(len(style.render(sound.kind, "x", flag))
                                  for flag in (False, True)) - 1)
    lines = _wrap(sound.phrase, room)
    groups = [lines[i:i + style.max_lines] for i in range(0, len(lines), style.max_lines)]
    texts = []
    for n, group in enumerate(groups, 1):
        final = last and n == len(groups)
        if sound.kind == "lyrics" and style.lyrics_marks == "line":
            texts.append("\n".join(style.render("lyrics", line, final and k == len(group))
                                   for k, line in enumerate(group, 1)))
        else:  # marks or brackets open and close in every caption
            texts.append(style.render(sound.kind, "\n".join(group), final))
    sizes = [len(text) for text in texts]
    out, at = [], sound.start
    for text, size in zip(texts, sizes, strict=True):
        length = (sound.end - sound.start) * size / sum(sizes)
        out.append(shown(at, at + length, text))
        at += length
    return out


def _song_ends(sounds: list[SoundEvent]) -> set[int]:
    """Positions of the lyrics that end a song: no more lyrics within SONG_GAP after them."""
    lyrics = [(i, s) for i, s in enumerate(sounds) if s.kind == "lyrics"]  # in start order
    return {i for i, s in lyrics
            if not any(j > i and o.start < s.end + SONG_GAP for j, o in lyrics)}


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` characters, broken at sense units and balanced like speech
    (a word longer than a line stands alone)."""
    import textwrap

    return break_lines(text, width, 24) or textwrap.wrap(
        text, max(width, 1), break_long_words=False, break_on_hyphens=False) or [text]


def merge_close_sounds(cues: list[Cue], style: Style, gap: float) -> list[Cue]:
    """Sounds too close to read one after the other share a caption, one per line."""
    out: list[Cue] = []
    for cue in cues:
        prev = out[-1] if out else None
        if (prev is not None and prev.kind != "speech" and cue.kind != "speech"
                and cue.start < prev.start + style.reading_time(prev.text) + gap
                and len(prev.text.split("\n")) + len(cue.text.split("\n")) <= style.max_lines
                and cue.text not in prev.text.split("\n")):
            out[-1] = replace(prev, text=f"{prev.text}\n{cue.text}", end=max(prev.end, cue.end),
                              confidence=min(prev.confidence, cue.confidence))
            continue
        out.append(cue)
    return out
