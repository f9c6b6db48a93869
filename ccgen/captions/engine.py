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
   read closest to when it is heard (see :func:`_place_sounds`). Sounds too close together
   to be read one after the other share one caption, a line each.
5. A last pass enforces order, no overlap, the minimum gap and the end of the media: when the
   media ends mid-speech, the last caption starts earlier, into the gap before it (the one
   before keeping its reading time, or both sharing the time there is), rather than flash.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ccgen.captions.layout import BINDING, CLAUSE_END, SENTENCE_END, break_lines
from ccgen.captions.readability import MAX_DELAY, fits, rebalance
from ccgen.captions.speaker_marks import SpeakerMarks, add_labels, join_dialogue
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


def _speech_cues(words: list[Word], style: Style, gap: float,
                 duration: float | None) -> list[Cue]:
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
                        speaker=draft[0].speaker, source="", confidence=confidence))
    return cues


def _reading_time(text: str, style: Style) -> float:
    return max(style.min_duration, len(text.replace("\n", "")) / style.max_cps)


def _place_sounds(speech: list[Cue], sounds: list[Cue], style: Style, gap: float) -> list[Cue]:
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
        if slot - cue.start < _reading_time(cue.text + sound.text, style):
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


def _render_sound(sound: Cue, style: Style, last: bool = False) -> list[Cue]:
    """A sound, music or lyrics item as display text: one line when it fits, else wrapped
    (lyrics marked per line or per caption as the style says, the song's last caption with
    its own mark: `last`), and spread over several captions sharing the item's time when it
    needs more lines than the style has."""
    full = style.render(sound.kind, sound.text, last)
    if len(full) <= style.max_chars:
        return [replace(sound, text=full)]
    room = style.max_chars - (max(len(style.render(sound.kind, "x", flag))
                                  for flag in (False, True)) - 1)
    lines = _wrap(sound.text, room)
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
        out.append(replace(sound, start=at, end=at + length, text=text))
        at += length
    return out


def _song_ends(sounds: list[Cue]) -> set[int]:
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


def _merge_close_sounds(cues: list[Cue], style: Style, gap: float) -> list[Cue]:
    """Sounds too close to read one after the other share a caption, one per line."""
    out: list[Cue] = []
    for cue in cues:
        prev = out[-1] if out else None
        if (prev is not None and prev.kind != "speech" and cue.kind != "speech"
                and cue.start < prev.start + _reading_time(prev.text, style) + gap
                and len(prev.text.split("\n")) + len(cue.text.split("\n")) <= style.max_lines
                and cue.text not in prev.text.split("\n")):
            out[-1] = replace(prev, text=f"{prev.text}\n{cue.text}", end=max(prev.end, cue.end),
                              confidence=min(prev.confidence, cue.confidence))
            continue
        out.append(cue)
    return out


SONG_GAP = 2.0  # lyrics closer than this (seconds) are lines of one song


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
        end = max(end, cue.start + _reading_time(cue.text, style))
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
        want = min(length, max(floor, _reading_time(prev.text, style)))
        room = cue.start - gap - prev.start
        if room < want:
            allowed = max(0.0, spoken[k] + MAX_DELAY - cue.start)
            push = max(floor - room, min(want - room, allowed), 0.0)
            start = cue.start + push
            end = max(cue.end, start + _reading_time(cue.text, style))
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
        wanted = min(_reading_time(cue.text, style), style.max_duration)
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
            keeps = min(prev.end - prev.start, _reading_time(prev.text, style))
            room = end - prev.start - gap
            share = keeps if room - keeps >= min(wanted, style.min_duration) else (
                keeps * room / (keeps + wanted) if room > 0 else 0.0)
            start = max(start, prev.start + share + gap)
        start = min(max(start, 0.0), end - 1e-3)  # no text is dropped, however short its time
        out[k] = replace(cue, start=start, end=end)
        bound = start - gap
    return out


def build_captions(words: list[Word], sounds: list[Cue], style: Style,
                   frame_rate: float | None = None, duration: float | None = None,
                   marks: SpeakerMarks | None = None) -> list[Cue]:
    """Display cues (speech and sound) under `style`; see the module docstring for the rules."""
    gap = style.min_gap(frame_rate)
    speech = _speech_cues(sorted(words, key=lambda w: (w.start, w.end)), style, gap, duration)
    speech = join_dialogue(speech, style, sounds)
    speech = add_labels(speech, style, marks or SpeakerMarks())
    ordered = sorted(sounds, key=lambda c: (c.start, c.end))
    ends = _song_ends(ordered)
    rendered = [part for i, s in enumerate(ordered) for part in _render_sound(s, style, i in ends)]
    cues = _merge_close_sounds(_place_sounds(speech, rendered, style, gap), style, gap)
    return _end_with_media(_settle(cues, style, gap, duration), style, gap, duration)
