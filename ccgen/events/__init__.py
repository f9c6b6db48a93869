"""Stage 3: non-speech: sound and music cues from a describer (registry in base.py)."""

from ccgen.events import audsemthinker, yamnet  # noqa: F401  (register the describers)
from ccgen.events.audsemthinker import Description, choose_describer, describe_audio
from ccgen.events.base import Describer, available, create

__all__ = ["Describer", "Description", "available", "choose_describer", "create",
           "describe_audio"]
