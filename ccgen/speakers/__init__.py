"""Stage 2b: who speaks when (diarizers in a registry, see base.py) and words → speakers.

Importing this package registers the backends without importing torch or pyannote: each
loads its models on first use, so ``--diarizer none`` costs nothing.
"""

from ccgen.speakers import embedded, pyannote, segmentation  # noqa: F401  (the backends)
from ccgen.speakers.base import (
    REGISTRY,
    Diarizer,
    Turn,
    assign_speakers,
    create,
    names,
    normalize_turns,
    register,
)

__all__ = ["REGISTRY", "Diarizer", "Turn", "assign_speakers", "create", "names",
           "normalize_turns", "register"]
