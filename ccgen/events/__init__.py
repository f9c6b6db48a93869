"""Stage 3: non-speech: sound and music cues from a describer (registry in base.py)."""

from ccgen.events import yamnet  # noqa: F401  (registers the embedded tagger)
from ccgen.events.base import Describer, available, create

__all__ = ["Describer", "available", "create"]
