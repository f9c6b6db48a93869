"""Stage 1: media in (ffmpeg): probe a file and extract its soundtrack."""

from ccgen.media.audio import SAMPLE_RATE, load_audio
from ccgen.media.ffmpeg_bin import find_ffmpeg, media_url
from ccgen.media.mediainfo import AudioStream, MediaInfo, probe

__all__ = ["SAMPLE_RATE", "AudioStream", "MediaInfo", "find_ffmpeg", "load_audio", "media_url",
           "probe"]
