"""AudioSet families for the sound tagger: which classes speak of one source, and how their
scores add up.

YAMNet scores 521 classes independently, and a source it is unsure of spreads its belief over
several classes of one family: a running tap reads as "Water" 0.15, "Gush" 0.09, "Liquid" 0.08
and more, each below "Frying (food)" 0.19 alone. Naming by the best single class then names the
wrong source. The families (ccgen/data/sounds/families.tsv: the AudioSet ontology node at the
level a caption names a source, Dog or Engine or Liquid, with every class below it) let
:mod:`ccgen.events.tagging` first choose the source from its family's pooled belief and only
then the phrase within it. How a family's classes combine per window is a setting, chosen
leave-one-clip-out (bench/tagger_loo.py):

- ``max``: the best class (a family is as sure as its surest member);
- ``noisyor``: ``1 - prod(1 - p)``, the chance that any member is present if they were
  independent (they are not: a parent and its child fire together);
- ``sum``: the members' scores added, capped at 1 (how much of the model's belief lands on the
  family).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np

from ccgen.resources import read_table

POOLS = ("max", "noisyor", "sum")


@lru_cache(maxsize=1)
def family_table() -> dict[str, str]:
    """AudioSet display name -> its family label (ccgen/data/sounds/families.tsv)."""
    return {row["display_name"]: row["family"] for row in read_table("sounds", "families.tsv")}


def pool(block: np.ndarray, how: str) -> np.ndarray:
    """Per window (row), the family score of its members' scores (columns); see the module."""
    if block.shape[1] == 0:
        return np.zeros(block.shape[0], dtype=np.float32)
    if how == "max":
        return block.max(axis=1)
    if how == "noisyor":
        return 1.0 - np.prod(1.0 - block, axis=1)
    if how == "sum":
        return np.minimum(block.sum(axis=1), 1.0)
    raise ValueError(f"unknown family pool {how!r}; choose one of {', '.join(POOLS)}")


class Families:
    """Phrases grouped by source: each caption phrase's family and each family's classes.

    `classes` are the model's class names, `captioned[k]` whether class k has a sound phrase
    (music, speech and skipped classes never join a family's belief), `phrases` the tagger's
    phrase -> class indices. A phrase whose classes have no family is a family of its own.
    """

    def __init__(self, classes: Sequence[str], captioned: Sequence[bool],
                 phrases: dict[str, Iterable[int]]) -> None:
        table = family_table()
        self.of_phrase: dict[str, str] = {}
        self.members: dict[str, list[int]] = {}
        for phrase, idxs in phrases.items():
            idxs = list(idxs)
            labels = sorted({table[classes[i]] for i in idxs if classes[i] in table})
            family = labels[0] if labels else f"={phrase}"
            self.of_phrase[phrase] = family
            self.members.setdefault(family, []).extend(idxs)
        for k, name in enumerate(classes):  # a member whose phrase never ran still counts
            family = table.get(name)
            if family and captioned[k] and k not in self.members.setdefault(family, []):
                self.members[family].append(k)

    def tracks(self, scores: np.ndarray, families: Iterable[str], how: str
               ) -> dict[str, np.ndarray]:
        """Per family, its pooled score in each window of `scores` (windows, classes)."""
        return {f: pool(scores[:, sorted(set(self.members[f]))], how) for f in families}
