"""Stage 3: non-speech: sound and music cues from a describer (registry in base.py)."""

from ccgen.events import audsemthinker, yamnet  # noqa: F401  (register the describers)
from ccgen.events.audsemthinker import Description, describe_audio
from ccgen.events.base import REGISTRY, Describer, create, names

__all__ = ["REGISTRY", "Describer", "Description", "create", "describe_audio", "names"]
