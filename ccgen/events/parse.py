"""Parsing AudSemThinker's output: ``<think>…</think><semantic_elements>…</semantic_elements>
<answer>…</answer>``, coping with missing, unclosed or token-limit-truncated tags.

Separate from :mod:`ccgen.events.condense` (which turns the answer into SDH phrases) because
the run summary counts malformed outputs whether or not they condense to a caption.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TAGS = ("think", "semantic_elements", "answer")


@dataclass
class Parsed:
    """The three parts of one model output; `problem` is empty when the format was respected."""

    think: str
    semantic_elements: str
    answer: str
    problem: str = ""

    @property
    def malformed(self) -> bool:
        return bool(self.problem)


def parse_output(text: str) -> Parsed:
    """Split a generation into think / semantic elements / answer.

    A missing closing tag (the token limit hit mid-section) keeps the text up to the end; an
    answer that is missing altogether stays empty here and :func:`condense` falls back to the
    other parts. `problem` says what was wrong, for the run summary.
    """
    parts: dict[str, str] = {}
    problems: list[str] = []
    pos = 0  # sections come in order: the answer is the one after the semantic elements, so
    # a thought that quotes the instructions ("... in <answer> tags") is not taken for it
    for tag in _TAGS:
        closed = re.compile(rf"<{tag}>(.*?)</{tag}>", re.S | re.I)
        found = closed.search(text, pos) or closed.search(text)
        if found:
            parts[tag] = found.group(1)
            pos = max(pos, found.end())
            continue
        opened = re.compile(rf"<{tag}>(.*)", re.S | re.I).search(text, pos)
        if opened:
            pieces = re.split(r"</?(?:think|semantic_elements|answer)>", opened.group(1),
                              flags=re.I)
            rest = re.sub(r"<[^>]*$", "", pieces[0])  # a tag cut by the token limit
            if len(pieces) == 1 and not re.search(r"[.!?]\s*$", rest):
                rest = re.sub(r"\s*\S*$", "", rest)  # ... and the word it cut
            parts[tag] = rest
            problems.append(f"unclosed <{tag}>")
        else:
            parts[tag] = ""
            problems.append(f"no <{tag}>")
    if not any(re.search(rf"</?{t}>", text, re.I) for t in _TAGS) and text.strip():
        parts["answer"] = re.sub(r"<[^>]*>", " ", text)  # the model ignored the format
        problems = ["no tags"]
    clean = {k: re.sub(r"[ \t]+", " ", v).strip() for k, v in parts.items()}
    clean["think"], clean["answer"] = (re.sub(r"\s+", " ", clean[k]) for k in ("think", "answer"))
    return Parsed(clean["think"], clean["semantic_elements"], clean["answer"],
                  "; ".join(problems))
