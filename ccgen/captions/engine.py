"""The SDH engine: words and sound events become display captions under a house style.

Rules, in the order they apply:
1. Words are grouped into blocks that never cross a speaker change or a pause of
   ``style.pause_split`` seconds.
2. A block is cut into captions that fit the style's lines (see :mod:`layout`) and maximum
   duration, cutting preferably after a sentence or clause end. Two sentences share a caption
   only when each fits on its own line; otherwise the next sentence starts a new caption.
   No word is dropped or reordered.
3. Each caption starts with its first word, stays up to ``max_hang`` after its last word, and
   longer still when the style's minimum duration or reading speed needs it, never into the
   next caption's minimum gap (``min_gap_frames`` at the media's frame rate).
   Speaker marks (:mod:`speakers`): a quick two-speaker exchange becomes one dashed caption,
   and labels name speakers when asked.
4. Sound and music cues are rendered by the style (``[door slams]``, ``♪``...). One in a pause
   gets its own caption; one under speech shares the speech caption on its own line when there
   is room, otherwise it is shown just before or after the speech. Sounds too close together
   to be read one after the other share one caption, a line each.
5. A last pass enforces order, no overlap and the minimum gap.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ccgen.captions.layout import CLAUSE_END, SENTENCE_END, break_lines
from ccgen.captions.speakers import SpeakerMarks, add_labels, join_dialogue
from ccgen.captions.style import Style
from ccgen.cues import Cue, Word


@dataclass
class _Draft:
    words: list[Word]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


def _blocks(words: list[Word], style: Style) -> list[list[Word]]:
    blocks: list[list[Word]] = []
    for word in words:
        if blocks:
            last = blocks[-1][-1]
            if word.speaker == last.speaker and word.start - last.end < style.pause_split:
                blocks[-1].append(word)
                continue
        blocks.append([word])
    return blocks


def _fits(words: list[Word], style: Style) -> bool:
    if words[-1].end - words[0].start > style.max_duration:
        return False
    return break_lines(" ".join(w.text for w in words), style.max_chars,
                       style.max_lines) is not None


def _sentence_ahead(block: list[Word], i: int) -> list[Word]:
    """Words from block[i] to the end of that sentence."""
    out = []
    for word in block[i:]:
        out.append(word)
        if word.text.endswith(SENTENCE_END):
            break
    return out


def _cut_block(block: list[Word], style: Style) -> list[_Draft]:
    drafts: list[_Draft] = []
    current: list[Word] = []
    for i, word in enumerate(block):
        if current and not _fits([*current, word], style):
            cut = len(current)
            for k in range(len(current) - 1, max(0, int(len(current) * 0.4)) - 1, -1):
                if current[k].text.endswith(SENTENCE_END + CLAUSE_END):
                    cut = k + 1
                    break
            rest = current[cut:]
            if rest and not _fits([*rest, word], style):
                cut, rest = len(current), []
            drafts.append(_Draft(current[:cut]))
            current = rest
        current.append(word)
        if word.text.endswith(SENTENCE_END) and i + 1 < len(block):
            ahead = _sentence_ahead(block, i + 1)
            if not (_fits(current + ahead, style) and _own_lines([*current, *ahead], style)):
                drafts.append(_Draft(current))
                current = []
    if current:
        drafts.append(_Draft(current))
    return drafts


def _sentences(words: list[Word]) -> list[str]:
    out, current = [], []
    for word in words:
        current.append(word.text)
        if word.text.endswith(SENTENCE_END):
            out.append(" ".join(current))
            current = []
    return out + ([" ".join(current)] if current else [])


def _own_lines(words: list[Word], style: Style) -> list[str] | None:
    """One sentence per line, when the caption's sentences each fit a line."""
    sentences = _sentences(words)
    if len(sentences) <= style.max_lines and all(len(s) <= style.max_chars for s in sentences):
        return sentences
    return None


def _speech_cues(words: list[Word], style: Style) -> list[Cue]:
    cues = []
    for block in _blocks(words, style):
        for draft in _cut_block(block, style):
            lines = _own_lines(draft.words, style) if len(_sentences(draft.words)) > 1 else None
            lines = lines or break_lines(draft.text, style.max_chars, style.max_lines)
            if lines is None:  # a single word longer than a line: keep it, lint will flag it
                lines = [draft.text]
            confidence = min(w.probability for w in draft.words)
            cues.append(Cue(draft.words[0].start, draft.words[-1].end, "speech",
                            "\n".join(lines), speaker=draft.words[0].speaker,
                            source="", confidence=confidence))
    return cues


def _reading_time(text: str, style: Style) -> float:
    return max(style.min_duration, len(text.replace("\n", "")) / style.max_cps)


def _place_sounds(speech: list[Cue], sounds: list[Cue], style: Style, gap: float) -> list[Cue]:
    """Rule 4: put each sound in a pause, or on a line of the speech caption it sits under."""
    out = list(speech)
    for sound in sounds:
        under = [c for c in speech if c.start < sound.end and sound.start < c.end]
        if not under:
            out.append(sound)
            continue
        host = under[0]
        room_before = host.start - gap - sound.start
        if room_before >= style.min_duration:
            out.append(replace(sound, end=host.start - gap))
            continue
        lines = host.text.split("\n")
        if len(lines) < style.max_lines and len(sound.text) <= style.max_chars:
            before = sound.start < (host.start + host.end) / 2
            host.text = "\n".join([sound.text, *lines] if before else [*lines, sound.text])
            continue
        out.append(replace(sound, start=under[-1].end + gap,
                           end=max(sound.end, under[-1].end + gap + style.min_duration)))
    return sorted(out, key=lambda c: (c.start, c.end))


def _merge_close_sounds(cues: list[Cue], style: Style, gap: float) -> list[Cue]:
    """Sounds too close to read one after the other share a caption, one per line."""
    out: list[Cue] = []
    for cue in cues:
        prev = out[-1] if out else None
        if (prev is not None and prev.kind != "speech" and cue.kind != "speech"
                and cue.start < prev.start + _reading_time(prev.text, style) + gap
                and len(prev.text.split("\n")) + len(cue.text.split("\n")) <= style.max_lines
                and cue.text not in prev.text.split("\n")):
            prev.text = f"{prev.text}\n{cue.text}"
            prev.end = max(prev.end, cue.end)
            prev.confidence = min(prev.confidence, cue.confidence)
            continue
        out.append(cue)
    return out


# How late a caption may start to give the one before it reading time (minimum durations
# still win beyond this: a caption nobody can read is worse than one that is late).
MAX_DELAY = 0.5


def _settle(cues: list[Cue], style: Style, gap: float, duration: float | None) -> list[Cue]:
    """Rules 3 and 5: hang, minimum duration, reading speed, maximum duration, gaps.

    When two captions are too close, the earlier one ends earlier, but not below its reading
    time (at most ``MAX_DELAY`` of delay is spent on that) and never below the style's minimum
    duration: the later one starts later instead. With ``style.close_gap`` (BBC), a gap
    shorter than that is closed up by keeping the earlier caption on screen.
    """
    limit = duration if duration and duration > 0 else float("inf")
    for cue in cues:
        end = cue.end + (style.max_hang if cue.kind == "speech" else 0.0)
        end = max(end, cue.start + _reading_time(cue.text, style))
        cue.end = min(end, cue.start + style.max_duration, max(limit, cue.end))
    spoken = [cue.start for cue in cues]
    for k, (prev, cue) in enumerate(zip(cues, cues[1:], strict=False), start=1):
        if (style.close_gap and prev.end + gap <= cue.start < prev.end + style.close_gap
                and cue.start - gap - prev.start <= style.max_duration):
            prev.end = cue.start - gap
        if cue.start >= prev.end + gap:
            continue
        length = prev.end - prev.start
        floor = min(length, style.min_duration)
        want = min(length, max(floor, _reading_time(prev.text, style)))
        room = cue.start - gap - prev.start
        if room < want:
            allowed = max(0.0, spoken[k] + MAX_DELAY - cue.start)
            push = max(floor - room, min(want - room, allowed), 0.0)
            cue.start += push
            cue.end = max(cue.end, cue.start + _reading_time(cue.text, style))
            cue.end = min(cue.end, cue.start + style.max_duration)
        prev.end = cue.start - gap
    return [c for c in cues if c.end > c.start]


def build_captions(words: list[Word], sounds: list[Cue], style: Style,
                   frame_rate: float | None = None, duration: float | None = None,
                   marks: SpeakerMarks | None = None) -> list[Cue]:
    """Display cues (speech and sound) under `style`; see the module docstring for the rules."""
    gap = style.min_gap(frame_rate)
    speech = _speech_cues(sorted(words, key=lambda w: (w.start, w.end)), style)
    speech = join_dialogue(speech, style)
    add_labels(speech, style, marks or SpeakerMarks())
    rendered = [
        replace(s, text=style.render(s.kind, s.text))
        for s in sorted(sounds, key=lambda c: (c.start, c.end))
    ]
    cues = _merge_close_sounds(_place_sounds(speech, rendered, style, gap), style, gap)
    return _settle(cues, style, gap, duration)
