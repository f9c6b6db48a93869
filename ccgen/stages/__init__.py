"""The captioner's stages: each a named step with its settings (the cache key), the resources
it needs and a typed result that is serialised only at the cache boundary (:mod:`.base`)."""

from ccgen.stages.base import Context, Resources, Stage
from ccgen.stages.runner import run_stages
from ccgen.stages.steps import (
    SoundsStage,
    SpeechStage,
    Tags,
    TagsStage,
    TurnsStage,
    VoicesStage,
    WordsStage,
)

__all__ = ["Context", "Resources", "SoundsStage", "SpeechStage", "Stage", "Tags", "TagsStage",
           "TurnsStage", "VoicesStage", "WordsStage", "run_stages"]
