"""Speaker marks: dialogue dashes inside a caption and optional speaker labels.

Two rules from the SDH guides:
- A quick exchange between two people reads best as one caption with one speaker per line,
  each line opened by the style's dash (``- Are you there?`` / ``- Yes.``). Two adjacent
  one-line captions of different speakers are joined so when both lines fit with their dash,
  the second starts within ``style.pause_split`` of the first's last word, and the pair fits
  the style's maximum duration.
- A label names who speaks when the picture cannot (off-screen, several voices). ``auto``
  labels only when the user named the speakers (``--speaker-names S1=ANNA``), since ccgen
  cannot see who is on screen; ``always`` labels every change of speaker; ``never`` none.
  The label's form is the style's ``speaker_label_template`` (``[ANNA]``, ``ANNA:``...).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ccgen.captions.layout import break_lines
from ccgen.captions.style import Style
from ccgen.cues import Cue, SoundEvent
from ccgen.errors import InputError

LABEL_MODES = ("auto", "always", "never")


@dataclass
class SpeakerMarks:
    labels: str = "auto"
    names: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.labels not in LABEL_MODES:
            raise InputError(f"--speaker-labels must be one of {', '.join(LABEL_MODES)}")

    @property
    def labelling(self) -> bool:
        return self.labels == "always" or (self.labels == "auto" and bool(self.names))

    def name(self, speaker: str) -> str:
        if speaker in self.names:
            return self.names[speaker]
        return f"speaker {speaker[1:]}" if speaker[:1] == "S" and speaker[1:].isdigit() \
            else speaker


def parse_names(text: str | None) -> dict[str, str]:
    """``"S1=ANNA,S2=BEN"`` -> {"S1": "ANNA", "S2": "BEN"}; a malformed pair is bad usage."""
    names: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in (text or "").split(","))):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError(f"--speaker-names: {pair!r} is not SPEAKER=NAME (e.g. S1=ANNA)")
        names[key.strip()] = value.strip()
    return names


def join_dialogue(cues: list[Cue], style: Style, sounds: list[SoundEvent] | None = None
                  ) -> list[Cue]:
    """Join quick two-speaker exchanges into dashed two-line captions (rule 1), but not across
    a sound heard in the pause between them: it is shown there, between the two lines' captions."""
    out: list[Cue] = []
    for cue in cues:
        prev = out[-1] if out else None
        if (prev is not None and prev.kind == cue.kind == "speech"
                and prev.speaker and cue.speaker and prev.speaker != cue.speaker
                and "\n" not in prev.text and "\n" not in cue.text
                and not prev.text.startswith(style.dialogue_dash)
                and style.max_lines >= 2
                and max(len(prev.text), len(cue.text)) + len(style.dialogue_dash) + 1
                <= style.max_chars
                and cue.start - prev.end < style.pause_split
                and cue.end - prev.start <= style.max_duration
                and not any(prev.end <= s.start < cue.start for s in sounds or [])):
            dash = style.dialogue_dash
            out[-1] = replace(prev, text=f"{dash} {prev.text}\n{dash} {cue.text}", end=cue.end,
                              speakers=[prev.speaker, cue.speaker],
                              confidence=min(prev.confidence, cue.confidence))
            continue
        out.append(cue)
    return out


def add_labels(cues: list[Cue], style: Style, marks: SpeakerMarks) -> list[Cue]:
    """Rule 2: label the first caption of each speaker turn (new cues in a new list). A style
    that marks every change (US ``>>``) does so unless labels are ``never``, naming speakers it
    knows."""
    changes = style.mark_speaker_changes and marks.labels != "never"
    cues = list(cues)
    if not (marks.labelling or changes):
        return cues
    last = None
    for k, cue in enumerate(cues):
        if cue.kind != "speech" or not cue.speaker:
            continue
        lines = cue.text.split("\n")
        dashed = all(line.startswith(style.dialogue_dash + " ") for line in lines) and len(
            lines) > 1
        if dashed:  # a dashed pair already marks the change; its speakers alternate
            last = cue.speakers[-1] if cue.speakers else cue.speaker
            continue
        if cue.speaker != last:
            named = cue.speaker in marks.names or marks.labels == "always" or (
                marks.labelling and not style.mark_speaker_changes)
            label = style.speaker_label(marks.name(cue.speaker) if named else "")
            if not named and not _stands_alone(label):
                last = cue.speaker  # a template made for names ("[]"): no mark without one
                continue
            rebroken = break_lines(f"{label} {' '.join(lines)}", style.max_chars,
                                   style.max_lines)
            if len(label) + 1 + len(lines[0]) <= style.max_chars:
                lines[0] = f"{label} {lines[0]}"
            elif rebroken:  # the lines broken again with the label in front
                lines = rebroken
            elif len(lines) < style.max_lines and len(label) <= style.max_chars:
                lines.insert(0, label)
            cues[k] = replace(cue, text="\n".join(lines))
        last = cue.speaker
    return cues


def _stands_alone(label: str) -> bool:
    """Whether a label rendered without a name is a mark (">>"), not an empty frame ("[]")."""
    bare = label.replace(" ", "")
    return bool(bare) and not any(pair in bare for pair in ("[]", "()", "{}")) and bare != ":"
