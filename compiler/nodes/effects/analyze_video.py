"""``analyze_video``: duration, bit rate, codecs, size and frame rate of a video under the
storage root (ffprobe, a subprocess with a timeout; 503 when it is not installed)."""

from __future__ import annotations

from compiler.expressions.types import NULL, NUM, STR, union
from compiler.nodes.base import NodeSpec, ParamDoc, ParamReader
from compiler.nodes.effects import EffectOp
from compiler.nodes.effects.media import parse_analyze

FIELDS = (
    ("duration", NUM),
    ("bitrate", NUM),
    ("codec", STR),
    ("videoCodec", STR),
    ("audioCodec", union(STR, NULL)),
    ("width", NUM),
    ("height", NUM),
    ("fps", NUM),
)


def parse(r: ParamReader) -> NodeSpec | None:
    return parse_analyze(r, "analyze_video", "VideoInfo", FIELDS)


EFFECT = EffectOp(
    name="analyze_video",
    summary="a video's duration (s), bit rate, codecs, size and frame rate (ffprobe)",
    parameters=(
        ParamDoc("filePath", True, "the file, relative to the storage root (STORAGE_ROOT)"),
        ParamDoc(
            "output",
            False,
            "the fields wanted: {duration, bitrate, codec, videoCodec, "
            "audioCodec, width, height, fps: true}",
        ),
    ),
    parse=parse,
)
