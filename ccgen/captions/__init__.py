"""Stage 4: the SDH engine: house styles, line breaking and caption timing."""

from ccgen.captions.engine import build_captions
from ccgen.captions.layout import break_lines
from ccgen.captions.style import Style, load_style, presets

__all__ = ["Style", "break_lines", "build_captions", "load_style", "presets"]
