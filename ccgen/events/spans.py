"""Time-line helpers of the sound tagger: window grouping, smoothing, segmentation and spans.

Kept apart from :mod:`ccgen.events.tagging` so the caption rules read on their own; these are
plain array and interval operations with no AudioSet knowledge.
"""

from __future__ import annotations

import numpy as np

from ccgen.events.yamnet import LOG_OFFSET


def frame_energy_db(mel: np.ndarray) -> np.ndarray:
    """Energy of each 10 ms frame in dB relative to full scale (from the log-mel front end)."""
    if mel.size == 0:
        return np.zeros(0, dtype=np.float32)
    power = np.exp(mel).sum(axis=1) - LOG_OFFSET * mel.shape[1]
    return (20 * np.log10(np.maximum(power, 1e-9) / 512.0)).astype(np.float32)


def gaps(span: tuple[float, float], regions: list[tuple[float, float]]
          ) -> list[tuple[float, float]]:
    """Parts of `span` outside every region."""
    pieces = [span]
    for r0, r1 in regions:
        nxt = []
        for a, b in pieces:
            if r1 <= a or r0 >= b:
                nxt.append((a, b))
                continue
            if r0 > a:
                nxt.append((a, r0))
            if r1 < b:
                nxt.append((r1, b))
        pieces = nxt
    return pieces


def overlapping(runs: list, bridge: int) -> list[list]:
    """Runs grouped so that runs at most `bridge` windows apart are in one group."""
    groups: list[list] = []
    for run in sorted(runs, key=lambda r: r.first):
        if groups and run.first <= max(r.last for r in groups[-1]) + 1 + bridge:
            groups[-1].append(run)
        else:
            groups.append([run])
    return groups


def smoothed(table: np.ndarray, width: int) -> np.ndarray:
    """Moving mean over `width` windows along time (edges use the windows there are)."""
    if width <= 1 or table.shape[0] <= 1:
        return table
    kernel = np.ones(width) / width
    ones = np.convolve(np.ones(table.shape[0]), kernel, mode="same")
    return np.stack([np.convolve(col, kernel, mode="same") / ones for col in table.T], axis=1)


def segments(labels: np.ndarray, min_length: int) -> list[tuple[int, int]]:
    """Index ranges of constant label; a range shorter than `min_length` joins a neighbour
    (the longer one), so a one-window flicker never cuts an event."""
    bounds = [0, *(np.flatnonzero(np.diff(labels)) + 1).tolist(), labels.size]
    pieces = [(bounds[i], bounds[i + 1] - 1) for i in range(len(bounds) - 1)]
    while len(pieces) > 1:
        lengths = [b - a + 1 for a, b in pieces]
        short = min(range(len(pieces)), key=lambda i: lengths[i])
        if lengths[short] >= min_length:
            break
        left = lengths[short - 1] if short > 0 else -1
        right = lengths[short + 1] if short + 1 < len(pieces) else -1
        other = short - 1 if left >= right else short + 1
        a, b = min(pieces[short][0], pieces[other][0]), max(pieces[short][1], pieces[other][1])
        pieces[min(short, other)] = (a, b)
        del pieces[max(short, other)]
    return pieces


def cosine(u: np.ndarray, v: np.ndarray) -> float:
    """Cosine similarity of two score vectors (0 when either is all zeros)."""
    return float(u @ v / max(float(np.linalg.norm(u) * np.linalg.norm(v)), 1e-12))
