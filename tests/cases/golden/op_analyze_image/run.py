"""analyze_image: Pillow's reading of a file under the storage root; paths outside it are
refused; what is not an image is a 415."""

from __future__ import annotations

from PIL import Image

from tests.golden_harness import Harness


async def check(h: Harness) -> None:
    img = Image.new("RGBA", (40, 30), (255, 0, 0, 128))
    exif = Image.Exif()
    exif[0x010F] = "Golden Camera"  # Make
    img.save(h.storage / "pic.png", exif=exif)
    Image.new("L", (8, 8)).save(h.storage / "gray.jpg")
    (h.storage / "notes.txt").write_text("not an image")
    assert await h.run("inspect", {"path": "pic.png"}) == (
        200,
        {
            "size": "40x30",
            "format": "png",
            "space": "srgb",
            "alpha": True,
            "exif": {"Make": "Golden Camera"},
        },
    )
    status, body = await h.run("inspect", {"path": "gray.jpg"})
    assert (status, body["space"], body["alpha"]) == (200, "gray", False), body  # type: ignore[index]
    for path, code in (
        ("../etc/passwd", "PATH_NOT_ALLOWED"),
        ("/etc/hostname", "FILE_NOT_FOUND"),
        ("missing.png", "FILE_NOT_FOUND"),
        ("notes.txt", "NOT_AN_IMAGE"),
    ):
        status, body = await h.run("inspect", {"path": path})
        assert body["code"] == code and 400 <= status < 500, (path, body)  # type: ignore[index]
