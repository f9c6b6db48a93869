"""The JSON timeline (README, "JSON timeline"): the machine-readable output pipelines rely on."""

from __future__ import annotations

import json

from ccgen.captions.style import Style
from ccgen.cues import Timeline
from ccgen.writers import register


@register("json")
def to_json(timeline: Timeline, style: Style) -> str:
    return json.dumps(timeline.to_dict(), ensure_ascii=False, indent=2) + "\n"
