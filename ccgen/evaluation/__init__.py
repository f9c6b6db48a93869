"""Evaluation harness support: how good are the captions on real recordings?

``normalize`` holds the documented WER text normaliser; ``metrics`` holds WER, DER (own
frame-grid implementation with an md-eval-style collar), RTTM I/O, sound-event naming against a
synonym table (``ccgen/data/evaluation/synonyms.tsv``). Caption style is checked by ``ccgen lint``
(:mod:`ccgen.captions.lint`). The command that runs it all over a data folder is
``bench/evaluate.py``.
"""

from ccgen.evaluation.metrics import (
    DerResult,
    Turn,
    WerResult,
    diarization_error_rate,
    word_error_rate,
)
from ccgen.evaluation.normalize import normalize_text

__all__ = [
    "DerResult",
    "Turn",
    "WerResult",
    "diarization_error_rate",
    "normalize_text",
    "word_error_rate",
]
