"""Line breaking: where a caption's text splits into lines.

A viewer reads a caption as units of sense, so a break should fall after a sentence or clause,
never between an article, preposition or possessive and the word it belongs to, nor inside a
name; among the good breaks, balanced lines win, and a bottom-heavy shape (shorter top line)
beats a top-heavy one. The fewest lines that fit are used.
"""

from __future__ import annotations

from functools import lru_cache

# Words that bind to what follows: breaking right after them strands them at a line end.
BINDING = frozenset({
    "a", "an", "the", "this", "that", "these", "those", "my", "your", "his", "her", "its",
    "our", "their", "some", "any", "no", "every", "each", "of", "to", "in", "on", "at", "by",
    "for", "with", "from", "into", "onto", "about", "over", "under", "than", "as", "per",
    "via", "and", "or", "but", "nor", "so", "if", "is", "are", "was", "were", "be", "been",
    "am", "will", "would", "can", "could", "should", "may", "might", "must", "not", "very",
    "mr", "mrs", "ms", "dr", "st",
})

SENTENCE_END = (".", "?", "!", "…", '."', '?"', '!"')
CLAUSE_END = (",", ";", ":", "—", "–")


def break_cost(before: str, after: str) -> float:
    """Penalty for breaking a line (or a caption) between the words `before` and `after`;
    negative where a break helps the reader (after a sentence or clause)."""
    if before.endswith(SENTENCE_END):
        return -30.0
    if before.endswith(CLAUSE_END):
        return -18.0
    cost = 0.0
    bare = before.lower().strip("\"'()[]")
    if bare in BINDING or bare.endswith("'s"):
        cost += 25.0
    if before[:1].isupper() and after[:1].isupper():
        cost += 20.0  # likely inside a name ("New York", "Mary Ann")
    if after.lower() in ("and", "but", "or", "because", "which", "who", "that", "when"):
        cost -= 6.0  # a conjunction opens the next line well
    return cost


def break_lines(text: str, max_chars: int, max_lines: int) -> list[str] | None:
    """Split `text` into at most `max_lines` lines of at most `max_chars`; None if impossible."""
    return _best(tuple(text.split()), max_chars, max_lines)


@lru_cache(maxsize=4096)
def _best(words: tuple[str, ...], max_chars: int, max_lines: int) -> list[str] | None:
    if not words:
        return []
    whole = " ".join(words)
    if len(whole) <= max_chars:
        return [whole]
    if any(len(w) > max_chars for w in words):
        return None
    for lines in range(2, max_lines + 1):
        found = _split(words, max_chars, lines)
        if found is not None:
            return found
    return None


def _split(words: tuple[str, ...], max_chars: int, lines: int) -> list[str] | None:
    """Best split into exactly `lines` lines (small DP over break positions)."""
    n = len(words)
    total = len(" ".join(words))
    target = total / lines
    inf = float("inf")
    # cost[k][i]: best cost of putting words[:i] on k lines; back[k][i]: start of line k.
    cost = [[inf] * (n + 1) for _ in range(lines + 1)]
    back = [[0] * (n + 1) for _ in range(lines + 1)]
    cost[0][0] = 0.0
    for k in range(1, lines + 1):
        for i in range(1, n + 1):
            for j in range(k - 1, i):
                if cost[k - 1][j] == inf:
                    continue
                line = " ".join(words[j:i])
                if len(line) > max_chars:
                    continue
                c = cost[k - 1][j] + abs(len(line) - target)
                if i < n:
                    c += break_cost(words[i - 1], words[i])
                if k == 1 and lines > 1 and len(line) > target + 1:
                    c += 4.0  # prefer the bottom-heavy shape
                if c < cost[k][i]:
                    cost[k][i], back[k][i] = c, j
    if cost[lines][n] == inf:
        return None
    out, i = [], n
    for k in range(lines, 0, -1):
        j = back[k][i]
        out.append(" ".join(words[j:i]))
        i = j
    return out[::-1]
