"""``analyze_image`` (Pillow) and ``analyze_video`` (ffprobe) on files under the storage root.

Both run off the event loop (a worker thread, a subprocess with a timeout). The ``output``
parameter of the node selects the fields returned.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, cast

from runtime.effects.files import readable
from runtime.errors import (
    GatewayTimeout,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
)

if TYPE_CHECKING:
    from runtime.execution import Execution


class ImageInfo(TypedDict, total=False):
    """What ``analyze_image`` returns: the fields its ``output`` selects."""

    width: float
    height: float
    format: str
    colorSpace: str
    hasAlpha: bool
    exif: dict[str, object]


class VideoInfo(TypedDict, total=False):
    """What ``analyze_video`` returns (seconds, bits per second, frames per second); a
    number ffprobe does not report is NaN."""

    duration: float
    bitrate: float
    codec: str
    videoCodec: str
    audioCodec: str | None
    width: float
    height: float
    fps: float


COLOR_SPACES = {
    "1": "bitonal",
    "L": "gray",
    "LA": "gray",
    "La": "gray",
    "I": "gray",
    "I;16": "gray",
    "F": "gray",
    "P": "palette",
    "PA": "palette",
    "RGB": "srgb",
    "RGBA": "srgb",
    "RGBa": "srgb",
    "RGBX": "srgb",
    "CMYK": "cmyk",
    "YCbCr": "ycbcr",
    "LAB": "lab",
    "HSV": "hsv",
}
# The EXIF tags returned (names as in the EXIF standard), from IFD0 and the Exif IFD.
EXIF_TAGS = (
    "Make",
    "Model",
    "Orientation",
    "Software",
    "DateTime",
    "DateTimeOriginal",
    "ExposureTime",
    "FNumber",
    "ISOSpeedRatings",
    "FocalLength",
    "LensModel",
)


def _exif_value(v: object) -> object:
    if isinstance(v, bool | int | str):
        return v.strip("\x00 ") if isinstance(v, str) else v
    if isinstance(v, float):
        return v
    try:
        return float(v)  # type: ignore[arg-type]  # IFDRational and other numbers
    except (TypeError, ValueError, ZeroDivisionError):
        return None


def _image_info(path: Path) -> dict[str, object]:
    from PIL import ExifTags, Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            mode = img.mode
            alpha = "A" in mode or "a" in mode or "transparency" in img.info
            exif: dict[str, object] = {}
            raw = img.getexif()
            found = dict(raw.items())
            with contextlib.suppress(KeyError, ValueError):
                found.update(raw.get_ifd(ExifTags.IFD.Exif).items())
            for tag, value in found.items():
                name = ExifTags.TAGS.get(tag)
                if name in EXIF_TAGS:
                    v = _exif_value(value)
                    if v is not None:
                        exif[name] = v
            return {
                "width": float(img.width),
                "height": float(img.height),
                "format": (img.format or "").lower(),
                "colorSpace": COLOR_SPACES.get(mode, mode.lower()),
                "hasAlpha": alpha,
                "exif": dict(sorted(exif.items())),
            }
    except FileNotFoundError:
        raise NotFound("The file does not exist", "FILE_NOT_FOUND") from None
    except IsADirectoryError:
        raise NotFound("The path is a directory", "FILE_NOT_FOUND") from None
    except Image.DecompressionBombError:
        raise PayloadTooLarge("The image has too many pixels", "IMAGE_TOO_LARGE") from None
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise UnsupportedMediaType(
            "The file is not an image Pillow reads", "NOT_AN_IMAGE"
        ) from None


def _select(info: dict[str, object], fields: tuple[str, ...]) -> dict[str, object]:
    return {k: info[k] for k in fields}


async def analyze_image(ex: Execution, path: object, fields: tuple[str, ...]) -> ImageInfo:
    file = readable(ex.effects.config.storage_root, path)
    return cast(ImageInfo, _select(await asyncio.to_thread(_image_info, file), fields))


def _rate(text: object) -> float | None:
    try:
        r = Fraction(str(text))
    except (ValueError, ZeroDivisionError):
        return None
    return float(r) if r else None


def _number(v: object) -> float:
    try:
        return float(str(v))
    except (TypeError, ValueError):
        return math.nan


def video_info(probe: dict[str, object]) -> VideoInfo:
    """ffprobe's JSON (``-show_format -show_streams``) as the node's output fields."""
    fmt = probe.get("format")
    fmt = fmt if isinstance(fmt, dict) else {}
    streams = [s for s in probe.get("streams") or [] if isinstance(s, dict)]  # type: ignore[attr-defined]
    video = next((s for s in streams if s.get("codec_type") == "video"), {})
    audio = next((s for s in streams if s.get("codec_type") == "audio"), {})
    duration = _number(fmt.get("duration"))
    if math.isnan(duration):
        duration = _number(video.get("duration"))
    audio_codec = audio.get("codec_name")
    return {
        "duration": duration,
        "bitrate": _number(fmt.get("bit_rate")),
        "codec": str(fmt.get("format_name", "")).split(",")[0],
        "videoCodec": str(video.get("codec_name") or ""),
        "audioCodec": audio_codec if isinstance(audio_codec, str) else None,
        "width": _number(video.get("width")),
        "height": _number(video.get("height")),
        "fps": _rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate")) or math.nan,
    }


async def analyze_video(ex: Execution, path: object, fields: tuple[str, ...]) -> VideoInfo:
    config = ex.effects.config
    file = readable(config.storage_root, path)
    if not file.is_file():
        raise NotFound("The file does not exist", "FILE_NOT_FOUND")
    args = ("-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(file))
    try:
        proc = await asyncio.create_subprocess_exec(
            config.ffprobe,
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except FileNotFoundError:
        raise ServiceUnavailable(
            f"Video analysis needs ffprobe, which is not installed ({config.ffprobe}: install "
            "Debian's ffmpeg package or set FFPROBE)",
            "TOOL_UNAVAILABLE",
            tool="ffprobe",
        ) from None
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), config.media_timeout_s)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise GatewayTimeout(
            f"ffprobe took longer than {config.media_timeout_s:g} s", "MEDIA_TIMEOUT"
        ) from None
    if proc.returncode != 0:
        raise UnsupportedMediaType("The file is not a video ffprobe reads", "NOT_A_VIDEO")
    try:
        probe = json.loads(out)
    except ValueError:
        raise UnsupportedMediaType("ffprobe's answer was not JSON", "NOT_A_VIDEO") from None
    info = video_info(probe if isinstance(probe, dict) else {})
    if not info["videoCodec"]:
        raise UnsupportedMediaType("The file has no video stream", "NOT_A_VIDEO")
    return cast(VideoInfo, _select(dict(info), fields))
