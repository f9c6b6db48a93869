"""Speaker clustering of window embeddings with an automatic speaker count.

Method: agglomerative clustering, average linkage on cosine distance, cut at a fixed distance
threshold (``DEFAULT_THRESHOLD``), then optional speaker-count constraints by re-cutting the same
tree. Why not spectral clustering with an eigengap: on the real AMI and pyannote clips it swung
between 1 and 8 speakers as its pruning percentile moved by 0.05, and the eigengap cannot say
"one speaker" reliably; an AHC cut can (nothing is far enough apart to stay split).

Why 0.30: on 1.6 s Resemblyzer windows, the mean cosine distance between windows of one voice
was 0.09-0.27 and between two voices 0.31-0.41 (ami_dev00, ami_trn04, pyannote_sample).
``bench/diarization.py --thresholds`` sweeps it: pooled DER 0.364 at 0.26, 0.315 at 0.28,
0.277 at 0.30, 0.403 at 0.32 (the two clean pyannote_sample voices merge). The embeddings, not
the cut, limit it: one excited or far-field voice can drift further than two calm voices are
apart (jfk.flac splits in two at 0.30), so no single threshold is right for every recording;
``num_speakers``/``max_speakers`` are the user's fix when the count is known.

Memory stays bounded on long inputs: beyond ``max_points`` windows an evenly strided subset is
clustered and every window joins the nearest cluster centroid.
"""

from __future__ import annotations

import numpy as np

# Tuned on ami_dev00, ami_trn04 and pyannote_sample (DER), checked on single-speaker clips and
# on concatenations of different speakers (count); see the module docstring.
DEFAULT_THRESHOLD = 0.30
MAX_POINTS = 2000  # average linkage keeps an n^2/2 distance matrix: 2000 windows ≈ 16 MB


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-8)


def _relabel(labels: np.ndarray) -> np.ndarray:
    """Labels 0..k-1 in order of first appearance (windows are in time order)."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    return order[inverse.ravel()]


def centroids(embeddings: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Unit-length mean embedding of each cluster, row k for label k."""
    k = int(labels.max()) + 1
    return _unit(np.stack([embeddings[labels == i].mean(axis=0) for i in range(k)]))


def _absorb_small(embeddings: np.ndarray, labels: np.ndarray, min_size: int) -> np.ndarray:
    """Give clusters of fewer than `min_size` windows to the nearest large cluster.

    A handful of noisy windows (a cough, a laugh, far-off speech) otherwise becomes a speaker.
    """
    sizes = np.bincount(labels)
    large = np.flatnonzero(sizes >= min_size)
    if len(large) in (0, len(sizes)):
        return labels
    cents = centroids(embeddings, labels)
    out = labels.copy()
    for k in np.flatnonzero(sizes < min_size):
        out[labels == k] = large[int(np.argmax(cents[large] @ cents[k]))]
    return _relabel(out)


def cluster(embeddings: np.ndarray, threshold: float = DEFAULT_THRESHOLD,
            num_speakers: int | None = None, min_speakers: int | None = None,
            max_speakers: int | None = None, min_size: int = 1,
            max_points: int = MAX_POINTS) -> np.ndarray:
    """Label each embedding row with a speaker index 0..k-1 (first appearance first).

    `num_speakers` fixes k; otherwise k comes from the `threshold` cut, then is raised to
    `min_speakers` or lowered to `max_speakers` by re-cutting the same tree.
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    n = len(embeddings)
    if n == 0:
        return np.zeros(0, dtype=int)
    if n == 1:
        return np.zeros(1, dtype=int)
    x = _unit(np.asarray(embeddings, dtype=np.float64))
    if n > max_points:
        subset = np.linspace(0, n - 1, max_points).round().astype(int)
        sub_labels = cluster(x[subset], threshold, num_speakers, min_speakers, max_speakers,
                             min_size, max_points)
        return _relabel(np.argmax(x @ centroids(x[subset], sub_labels).T, axis=1))
    tree = linkage(x, method="average", metric="cosine")
    if num_speakers:
        return _relabel(fcluster(tree, min(num_speakers, n), criterion="maxclust"))
    labels = _relabel(fcluster(tree, threshold, criterion="distance"))
    if min_size > 1:
        labels = _absorb_small(x, labels, min_size)
    k = int(labels.max()) + 1
    if min_speakers and k < min_speakers:
        labels = _relabel(fcluster(tree, min(min_speakers, n), criterion="maxclust"))
    elif max_speakers and k > max_speakers:
        labels = _relabel(fcluster(tree, max_speakers, criterion="maxclust"))
    return labels
