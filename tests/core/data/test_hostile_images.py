"""Hostile files in an image folder: PostScript named .png, mutated images, a FIFO.

The reader may decode only PNG, JPEG, BMP, GIF, TIFF and WebP; whatever else a file
holds, or however a decoder fails on it, that one image is skipped and counted, and
nothing but FitGap's own DataError ever comes out of the reader.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest
from PIL import Image

from fitgap_gui.core.data.readers.imagefolder import read_image_folder
from fitgap_gui.core.errors import DataError

POSTSCRIPT = b"""%!PS-Adobe-3.0 EPSF-3.0
%%BoundingBox: 0 0 8 8
%%EndComments
(GHOSTSCRIPT RAN) print flush
showpage
"""


def _good_images(root, classes=("a", "b"), n=3) -> None:
    rng = np.random.default_rng(0)
    for cls in classes:
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            pixels = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / cls / f"{i}.png")


def _read_in_subprocess(root, env: dict | None = None) -> subprocess.CompletedProcess:
    """read_image_folder in a fresh process (so a hang is a timeout, not a stuck suite)."""
    code = textwrap.dedent(f"""
        from pathlib import Path
        from fitgap_gui.core.data.readers.imagefolder import read_image_folder
        raw = read_image_folder(Path({str(root)!r}), (8, 8))
        print("IMAGES", raw.meta["images"], "SKIPPED", raw.meta["skipped_count"])
        for line in raw.meta["skipped"]:
            print("SKIP", line)
    """)
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **(env or {})},
    )


def test_postscript_named_png_is_skipped_and_never_run(tmp_path):
    """A fake ``gs`` first on PATH records any call: Pillow's EPS plugin would run it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    marker = tmp_path / "ghostscript-called"
    gs = bin_dir / "gs"
    gs.write_text(f"#!/bin/sh\ntouch {str(marker)!r}\necho GHOSTSCRIPT RAN\n")
    gs.chmod(0o755)
    root = tmp_path / "pics"
    _good_images(root)
    (root / "a" / "evil.png").write_bytes(POSTSCRIPT)
    (root / "b" / "evil.tif").write_bytes(POSTSCRIPT)

    out = _read_in_subprocess(root, {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"})
    assert out.returncode == 0, out.stderr
    assert "GHOSTSCRIPT RAN" not in out.stdout + out.stderr
    assert not marker.exists()
    assert "IMAGES 6 SKIPPED 2" in out.stdout
    assert "SKIP a/evil.png (not a PNG, JPEG, BMP, GIF, TIFF or WebP image)" in out.stdout


def test_fifo_in_a_class_folder_is_skipped_without_a_hang(tmp_path):
    root = tmp_path / "pics"
    _good_images(root)
    os.mkfifo(root / "a" / "pipe.png")  # nobody ever writes: opening it would block
    out = _read_in_subprocess(root)
    assert out.returncode == 0, out.stderr
    assert "IMAGES 6 SKIPPED 0" in out.stdout


def test_a_fifo_given_to_read_image_is_refused_without_a_hang(tmp_path):
    """Even a FIFO that reaches read_image itself (swapped in after listing) never blocks."""
    os.mkfifo(tmp_path / "pipe.png")
    code = textwrap.dedent(f"""
        from pathlib import Path
        from fitgap_gui.core.data.readers.imagefolder import read_image
        try:
            read_image(Path({str(tmp_path / "pipe.png")!r}), (8, 8), False)
        except OSError as exc:
            print("REFUSED", exc)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert "REFUSED not a regular file" in out.stdout, out.stderr


# -- fuzzing -------------------------------------------------------------------------------------
FORMATS = {"PNG": ".png", "JPEG": ".jpg", "BMP": ".bmp", "GIF": ".gif", "TIFF": ".tif"}
FORMATS["WEBP"] = ".webp"
MUTANTS_PER_FORMAT = 60


def _seed_image(fmt: str) -> bytes:
    rng = np.random.default_rng(1)
    img = Image.fromarray(rng.integers(0, 256, size=(12, 10, 3), dtype=np.uint8))
    if fmt == "GIF":
        img = img.convert("P")
    buffer = io.BytesIO()
    img.save(buffer, fmt)
    return buffer.getvalue()


def _mutate(data: bytes, rng: np.random.Generator) -> bytes:
    """One random damage: flipped bytes (mostly in the header), a cut, or a spliced copy."""
    out = bytearray(data)
    kind = rng.integers(4)
    if kind == 0:  # a few random bytes anywhere
        for _ in range(rng.integers(1, 9)):
            out[rng.integers(len(out))] = rng.integers(256)
    elif kind == 1:  # header fields: sizes, offsets, counts, modes
        for _ in range(rng.integers(1, 5)):
            out[rng.integers(min(len(out), 64))] = rng.choice([0, 1, 0x7F, 0x80, 0xFF])
    elif kind == 2:  # cut short
        out = out[: rng.integers(1, len(out))]
    else:  # a slice repeated elsewhere
        start = rng.integers(len(out))
        piece = out[start : start + rng.integers(1, 32)]
        at = rng.integers(len(out))
        out[at:at] = piece
    return bytes(out)


def test_mutated_images_give_only_skips_or_a_data_error(tmp_path, monkeypatch):
    """A few hundred damaged PNG/JPEG/BMP/GIF/TIFF/WebP files, fixed seed: each is read
    or skipped (and counted), and nothing but DataError ever leaves the reader."""
    # A mutated size field may claim a huge image; a low bomb limit keeps the test fast
    # and small (such a file is then refused as a bomb, a skip like any other).
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000_000)
    rng = np.random.default_rng(20261201)
    root = tmp_path / "fuzz"
    _good_images(root, n=1)
    total = 0
    for fmt, suffix in FORMATS.items():
        seed = _seed_image(fmt)
        folder = root / fmt.lower()
        folder.mkdir()
        for i in range(MUTANTS_PER_FORMAT):
            (folder / f"{i:03d}{suffix}").write_bytes(_mutate(seed, rng))
            total += 1

    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        raw = read_image_folder(root, (8, 8))
    seconds = time.perf_counter() - start
    assert not caught, caught[0]  # Pillow's notes on damaged files stay off the terminal
    assert raw.meta["images"] + raw.meta["skipped_count"] == total + 2
    assert raw.meta["skipped_count"] > total // 4  # the damage was real
    print(f"fuzz: {total} mutants, {raw.meta['skipped_count']} skipped, {seconds:.2f} s")
    assert seconds < 30

    # A class whose every image is damaged beyond reading is a DataError, one line.
    for folder in (root / "a", root / "b"):
        for f in folder.iterdir():
            f.write_bytes(_mutate(f.read_bytes(), rng)[:20])
    with pytest.raises(DataError, match="class folder 'a' has no readable images"):
        read_image_folder(root, (8, 8))


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_allowed_format_still_reads(tmp_path, fmt):
    root = tmp_path / "pics"
    _good_images(root)
    (root / "a" / f"seed{FORMATS[fmt]}").write_bytes(_seed_image(fmt))
    raw = read_image_folder(root, (8, 8))
    assert raw.meta["images"] == 7 and raw.meta["skipped_count"] == 0
