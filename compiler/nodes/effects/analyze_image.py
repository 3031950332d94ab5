"""``analyze_image``: width, height, format, colour space, alpha and a subset of EXIF of an
image under the storage root (Pillow, in a worker thread)."""

from __future__ import annotations

from compiler.expressions.types import ANY, BOOL, NUM, STR
from compiler.nodes.base import NodeSpec, ParamDoc, ParamReader
from compiler.nodes.effects import EffectOp
from compiler.nodes.effects.media import parse_analyze

FIELDS = (
    ("width", NUM),
    ("height", NUM),
    ("format", STR),
    ("colorSpace", STR),
    ("hasAlpha", BOOL),
    ("exif", ANY),
)


def parse(r: ParamReader) -> NodeSpec | None:
    return parse_analyze(r, "analyze_image", "ImageInfo", FIELDS)


EFFECT = EffectOp(
    name="analyze_image",
    summary="an image's size, format, colour space, alpha and EXIF subset (Pillow)",
    parameters=(
        ParamDoc("filePath", True, "the file, relative to the storage root (STORAGE_ROOT)"),
        ParamDoc(
            "output",
            False,
            "the fields wanted: {width, height, format, colorSpace, " "hasAlpha, exif: true}",
        ),
    ),
    parse=parse,
)
