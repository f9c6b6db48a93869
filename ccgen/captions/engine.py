"""The SDH engine: words and sound events become display captions under a house style.

Rules, in the order they apply:
1. Words are grouped into blocks that never cross a speaker change or a pause of
   ``style.pause_split`` seconds. (A change in mid-sentence is kept: treating it as a
   diarization slip raised the caption-level DER on real recordings, 24.8 % to 28.9 %.)
2. A block is cut into captions that fit the style's lines (see :mod:`layout`) and maximum
   duration, cutting preferably after a sentence or clause end that also leaves good line
   breaks, and never right after an article or preposition when avoidable. Two sentences
   share a caption only when each fits on its own line, or the first is too short to stand
   alone ("Hi."); otherwise the next sentence starts a new caption. No word is dropped or
   reordered. Where a caption could then not be read in its time, the words of that
   speaker's neighbouring captions are cut again (see :mod:`readability`): words move
   between captions, captions join or split, across a silence of up to 2 s if need be.
3. Each caption starts with its first word, stays up to ``max_hang`` after its last word, and
   longer still when the style's minimum duration or reading speed needs it, never into the
   next caption's minimum gap (``min_gap_frames`` at the media's frame rate).
   Speaker marks (:mod:`speakers`): a quick two-speaker exchange becomes one dashed caption,
   and labels name speakers when asked.
4. Sound and music cues are rendered by the style (``[door slams]``, ``♪``...), wrapped when
   longer than a line. One in a pause gets its own caption; one under speech goes where it is
   read closest to when it is heard (see :mod:`sound_captions`). Sounds too close together
   to be read one after the other share one caption, a line each.
5. A last pass enforces order, no overlap, the minimum gap and the end of the media: when the
   media ends mid-speech, the last caption starts earlier, into the gap before it (the one
   before keeping its reading time, or both sharing the time there is), rather than flash.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ccgen.captions.layout import BINDING, CLAUSE_END, SENTENCE_END, break_lines
from ccgen.captions.readability import MAX_DELAY, fits, rebalance
from ccgen.captions.sound_captions import merge_close_sounds, place_sounds, render_sounds
from ccgen.captions.speaker_marks import SpeakerMarks, add_labels, join_dialogue
from ccgen.captions.style import Style
from ccgen.cues import Cue, SoundEvent, Word


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


_fits = fits


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
            cut = _cut_point(current, word, style)
            drafts.append(_Draft(current[:cut]))
            current = current[cut:]
        current.append(word)
        if word.text.endswith(SENTENCE_END) and i + 1 < len(block):
            together = [*current, *_sentence_ahead(block, i + 1)]
            if not (_fits(together, style)
                    and (_own_lines(together, style)
                         or (_short(current) and _readable(together, style)))):
                drafts.append(_Draft(current))
                current = []
    if current:
        drafts.append(_Draft(current))
    return drafts


def _short(words: list[Word]) -> bool:
    """A caption too short to stand alone ("Hi.", "Okay."): it may share with the next
    sentence rather than flash by."""
    return len(words) <= 2 and len(" ".join(w.text for w in words)) <= 12


def _readable(words: list[Word], style: Style) -> bool:
    """Whether the words, as one caption, can be read in the time they are spoken (+ hang)."""
    text = " ".join(w.text for w in words)
    return (words[-1].end + style.max_hang - words[0].start) * style.max_cps >= len(text)


def _cut_point(current: list[Word], word: Word, style: Style) -> int:
    """Where the caption that `word` no longer fits ends: after a sentence or clause end in
    its last 60 %, preferably one that leaves its lines breaking at sense units too; else
    where it is full, but not right after an article, preposition or conjunction."""
    ends = [k + 1 for k in range(len(current) - 1, max(0, int(len(current) * 0.4)) - 1, -1)
            if current[k].text.endswith(SENTENCE_END + CLAUSE_END)
            and _fits([*current[k + 1:], word], style)]
    for k in ends:
        lines = break_lines(" ".join(w.text for w in current[:k]), style.max_chars,
                            style.max_lines) or []
        if all(line.endswith(SENTENCE_END + CLAUSE_END) for line in lines[:-1]):
            return k
    if ends:
        return ends[0]
    k = len(current)
    while (k > 1 and current[k - 1].text.lower().strip("\"'()") in BINDING
           and _fits([*current[k - 1:], word], style)):
        k -= 1
    return k


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


def _speech_cues(words: list[Word], style: Style, gap: float, duration: float | None,
                 source: str) -> list[Cue]:
    drafts = [d.words for block in _blocks(words, style) for d in _cut_block(block, style)]
    cues = []
    for draft in rebalance(drafts, style, gap, duration):
        text = " ".join(w.text for w in draft)
        lines = _own_lines(list(draft), style) if len(_sentences(list(draft))) > 1 else None
        lines = lines or break_lines(text, style.max_chars, style.max_lines)
        if lines is None:  # a single word longer than a line: keep it, lint will flag it
            lines = [text]
        confidence = min(w.probability for w in draft)
        cues.append(Cue(draft[0].start, draft[-1].end, "speech", "\n".join(lines),
                        speaker=draft[0].speaker, source=source, confidence=confidence))
    return cues


def _settle(cues: list[Cue], style: Style, gap: float, duration: float | None) -> list[Cue]:
    """Rules 3 and 5: hang, minimum duration, reading speed, maximum duration, gaps.

    When two captions are too close, the earlier one ends earlier, but not below its reading
    time (at most ``MAX_DELAY`` of delay is spent on that) and never below the style's minimum
    duration: the later one starts later instead. With ``style.close_gap`` (BBC), a gap
    shorter than that is closed up by keeping the earlier caption on screen.
    """
    limit = duration if duration and duration > 0 else float("inf")

    def ended(cue: Cue) -> Cue:
        end = cue.end + (style.max_hang if cue.kind == "speech" else 0.0)
        end = max(end, cue.start + style.reading_time(cue.text))
        return replace(cue, end=min(end, cue.start + style.max_duration, max(limit, cue.end)))

    cues = [ended(cue) for cue in cues]
    spoken = [cue.start for cue in cues]
    for k in range(1, len(cues)):
        prev, cue = cues[k - 1], cues[k]  # read fresh: the step before may have moved them
        prev_end = prev.end
        if (style.close_gap and prev_end + gap <= cue.start < prev_end + style.close_gap
                and cue.start - gap - prev.start <= style.max_duration):
            prev_end = cue.start - gap
        if cue.start >= prev_end + gap:
            if prev_end != prev.end:
                cues[k - 1] = replace(prev, end=prev_end)
            continue
        length = prev_end - prev.start
        floor = min(length, style.min_duration)
        want = min(length, max(floor, style.reading_time(prev.text)))
        room = cue.start - gap - prev.start
        if room < want:
            allowed = max(0.0, spoken[k] + MAX_DELAY - cue.start)
            push = max(floor - room, min(want - room, allowed), 0.0)
            start = cue.start + push
            end = max(cue.end, start + style.reading_time(cue.text))
            cue = cues[k] = replace(cue, start=start, end=min(end, start + style.max_duration))
        cues[k - 1] = replace(prev, end=cue.start - gap)
    cues = [replace(cue, end=min(cue.end, limit))  # a caption pushed late still ends with
            if cue.start < limit - style.min_gap(None) else cue for cue in cues]  # the media
    return [c for c in cues if c.end > c.start]


def _end_with_media(cues: list[Cue], style: Style, gap: float,
                    duration: float | None) -> list[Cue]:
    """When the media ends mid-speech, its last caption would flash (0.2 s, 300 cps) or, pushed
    late, start after the end: it starts earlier instead, into the gap before it, and the
    captions before it give up time beyond their own reading time, so the last one gets its
    reading time (at least the minimum duration) where the time is there. Returns new cues."""
    if not cues or not duration or duration <= 0:
        return cues
    out = list(cues)
    bound = duration
    for k in range(len(out) - 1, -1, -1):
        cue = out[k]
        wanted = min(style.reading_time(cue.text), style.max_duration)
        short = cue.end - cue.start < wanted - 1e-6
        if cue.end <= bound + 1e-9 and not (k == len(out) - 1 and short
                                            and cue.end >= bound - 1e-6):
            break
        end = min(cue.end, bound)
        # only the last caption starts earlier for its reading time; one before it ends
        # earlier, and starts earlier only when it would otherwise start after the end
        start = min(cue.start, end - (wanted if k == len(out) - 1 or cue.start > end - 1e-3
                                      else 0.0))
        if k:  # the caption before keeps its reading time while this one still gets its
            # minimum duration; short of that room, both share it as they need it
            prev = out[k - 1]
            keeps = min(prev.end - prev.start, style.reading_time(prev.text))
            room = end - prev.start - gap
            share = keeps if room - keeps >= min(wanted, style.min_duration) else (
                keeps * room / (keeps + wanted) if room > 0 else 0.0)
            start = max(start, prev.start + share + gap)
        start = min(max(start, 0.0), end - 1e-3)  # no text is dropped, however short its time
        out[k] = replace(cue, start=start, end=end)
        bound = start - gap
    return out


def build_captions(words: list[Word], sounds: list[SoundEvent], style: Style,
                   frame_rate: float | None = None, duration: float | None = None,
                   marks: SpeakerMarks | None = None, speech_source: str = "") -> list[Cue]:
    """Display cues (speech and sound) under `style`; see the module docstring for the rules.
    `speech_source` names the recogniser on the speech captions."""
    gap = style.min_gap(frame_rate)
    speech = _speech_cues(sorted(words, key=lambda w: (w.start, w.end)), style, gap, duration,
                          speech_source)
    speech = join_dialogue(speech, style, sounds)
    speech = add_labels(speech, style, marks or SpeakerMarks())
    cues = merge_close_sounds(place_sounds(speech, render_sounds(sounds, style), style, gap),
                              style, gap)
    return _end_with_media(_settle(cues, style, gap, duration), style, gap, duration)
