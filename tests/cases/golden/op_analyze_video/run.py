"""analyze_video: ffprobe on a file under the storage root (a video made here with ffmpeg);
without ffprobe, a 503 naming the missing tool."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess

from tests.golden_harness import Harness


async def check(h: Harness) -> None:
    present = bool(shutil.which("ffmpeg") and shutil.which("ffprobe"))
    assert present or not os.environ.get("REQUIRE_SERVICES"), "CI installs ffmpeg"
    if present:
        subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-f",
                "lavfi",
                "-i",
                "testsrc=size=64x48:rate=10:duration=2",
                "-pix_fmt",
                "yuv420p",
                str(h.storage / "clip.mp4"),
            ],
            check=True,
            timeout=60,
        )
        assert await h.run("probe", {"path": "clip.mp4"}) == (
            200,
            {"seconds": 2, "codec": "h264", "size": "64x48", "fps": 10, "audio": None},
        )
        (h.storage / "text.mp4").write_text("not a video")
        status, body = await h.run("probe", {"path": "text.mp4"})
        assert (status, body["code"]) == (415, "NOT_A_VIDEO"), body  # type: ignore[index]
    # The tool missing is a 503 naming it (checked with a name that cannot exist).
    saved = h.effects.config
    h.effects.config = dataclasses.replace(saved, ffprobe="ffprobe-not-installed")
    try:
        (h.storage / "any.mp4").write_bytes(b"\x00" * 16)
        status, body = await h.run("probe", {"path": "any.mp4"})
        assert (status, body["code"], body["tool"]) == (503, "TOOL_UNAVAILABLE", "ffprobe"), body  # type: ignore[index]
    finally:
        h.effects.config = saved
