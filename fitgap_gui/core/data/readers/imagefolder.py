"""Image-folder reader: one subfolder per class, as Keras's image_dataset_from_directory.

A folder whose subfolders are ``train/`` with ``val/`` and/or ``test/`` (each with one
subfolder per class, the classes named by ``train/``) brings its own parts: ``test/`` is
the test part, ``val/`` the validation rows (without it, validation is split from
``train/``); with ``val/`` but no ``test/`` there is no test part.

Images are read with Pillow (no TensorFlow), converted to RGB or grayscale and
resized to ``image_size`` with bilinear interpolation, Keras's default; pixel values
stay 0-255 as Keras gives them (``data.scale`` rescales).  An unreadable image is
skipped and named in ``meta["skipped"]``; a class left with no readable image is an
error, so nothing is silently dropped.

Pillow may only try the formats in ``FORMATS``: a file named ``.png`` that holds
PostScript would otherwise be handed to Ghostscript, which runs it.  Whatever goes
wrong while decoding one image (Pillow's plugins raise many exception types) makes
that image unreadable, never the whole folder.  Only regular files are opened, so a
FIFO or device in a class folder cannot block the reader.  Before any image is
decoded, the arrays they will make (images x height x width x channels, float32) are
checked against ``memory_budget()``, and a path that cannot be read (too long, a link
loop) is one clear line.
"""

from __future__ import annotations

import os
import stat
import warnings
from pathlib import Path

import numpy as np

from fitgap_gui.core.data.readers import RawData
from fitgap_gui.core.errors import DataError
from fitgap_gui.core.memory import FLOAT_BYTES, format_bytes, memory_budget
from fitgap_gui.core.userfiles import os_error_text, shown, stat_path

#: Keras's allow-list, plus TIFF and WebP, which Pillow reads as well.
IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")
#: The only decoders Pillow may use: those of IMAGE_SUFFIXES (never EPS, PS or others).
FORMATS = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP")
#: The subfolders that make a folder split by hand (``validation/`` is ``val/``).
PART_FOLDERS = {"train": "train", "val": "val", "validation": "val", "test": "test"}
#: What the test part is, or why there is none.
FOLDER_TEST_PART = "the test/ folder"
FOLDER_NO_TEST = "none: the folder brings its own val/ rows but no test/ folder"
#: The most images one folder may hold (a safety net: 200k 32x32 RGB images is 2.4 GB).
MAX_IMAGES = 200_000


def class_folder_names(folder):
    """The class subfolders' names, sorted (hidden ones left out)."""
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _class_folders(path: Path, fewest: int = 2) -> list[Path]:
    # Every way the path can fail (too long, a link loop, no permission) is one line.
    mode = stat_path(path, DataError, missing="no such folder").st_mode
    if not stat.S_ISDIR(mode):
        what = "a file" if stat.S_ISREG(mode) else "not a folder"
        raise DataError(
            f"{shown(path)} is {what}; an image source is a folder with one subfolder per class"
        )
    try:
        folders = [path / name for name in class_folder_names(path)]
    except OSError as exc:
        raise DataError(os_error_text(path, exc, missing="no such folder")) from None
    if not folders:
        raise DataError(
            f"{path} holds no class subfolders; put each class's images in a subfolder "
            "named after the class"
        )
    if len(folders) < fewest:
        raise DataError(
            f"{path} has one class subfolder ({folders[0].name}); it needs at least two classes"
        )
    return folders


def part_folders(folders: list[Path]) -> dict[str, Path] | None:
    """``{"train": ..., "val": ..., "test": ...}`` when the subfolders are a split by
    hand (``train/`` and at least one of ``val/``, ``test/``, nothing else), else None."""
    parts = {PART_FOLDERS.get(f.name): f for f in folders}
    if None in parts or "train" not in parts or len(parts) != len(folders) or len(parts) < 2:
        return None
    return parts  # type: ignore[return-value]


def _layout(path: Path) -> tuple[list[str], dict[str, list[tuple[int, Path]]]]:
    """The class names and, per part, its class folders with their labels."""
    folders = _class_folders(path)
    parts = part_folders(folders)
    if parts is None:
        return [f.name for f in folders], {"train": list(enumerate(folders))}
    train = _class_folders(parts["train"])
    names = [f.name for f in train]
    layout = {"train": list(enumerate(train))}
    for part in ("val", "test"):
        if part not in parts:
            continue
        found = []
        for folder in _class_folders(parts[part], fewest=1):
            if folder.name not in names:
                raise DataError(
                    f"{parts[part]}: class folder {folder.name!r} is not one of train/'s "
                    f"classes ({', '.join(names[:10])})"
                )
            found.append((names.index(folder.name), folder))
        layout[part] = found
    return names, layout


def image_files(folder):
    """The image files under ``folder`` (subfolders included), in path order."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file() and not p.name.startswith(".")
    )


def _image_files(folder: Path) -> list[Path]:
    try:
        return image_files(folder)
    except OSError as exc:
        raise DataError(os_error_text(folder, exc, missing="no such folder")) from None


def _check_memory(path: Path, total: int, image_size: tuple[int, int], grayscale: bool) -> None:
    """Refuse, before decoding any image, a folder whose arrays cannot fit in memory:
    every image becomes ``height x width x channels`` float32 values."""
    channels = 1 if grayscale else 3
    need = total * image_size[0] * image_size[1] * channels * FLOAT_BYTES
    budget = memory_budget()
    if need > budget:
        kind = "grayscale" if grayscale else "RGB"
        gray = "" if grayscale else ", set data.grayscale (one channel instead of three)"
        raise DataError(
            f"{shown(path)} holds {total:,} images; at {image_size[0]}x{image_size[1]} "
            f"{kind} they need about {format_bytes(need)} of memory, more than the "
            f"{format_bytes(budget)} FitGap may use here; use a smaller data.image_size"
            f"{gray}, or fewer images"
        )


def read_image(file: Path, size: tuple[int, int], grayscale: bool) -> np.ndarray:
    """One image as float32 (height, width, channels).

    Raises an exception of any type when ``file`` is not a readable image (the
    caller skips it); anything but a regular file raises OSError without a read.
    """
    from PIL import Image, UnidentifiedImageError

    if not stat.S_ISREG(os.stat(file).st_mode):
        raise OSError("not a regular file")
    # Non-blocking, and checked again once open: a FIFO swapped in after the stat above
    # must not hang the reader either.
    fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError("not a regular file")
        with warnings.catch_warnings():
            # Pillow's notes on damaged metadata ("Corrupt EXIF data") would reach the
            # terminal; the image is read or skipped and counted either way.
            warnings.simplefilter("ignore", UserWarning)
            # A decompression bomb is refused like any other unreadable file.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            try:
                img = Image.open(handle, formats=FORMATS)
            except UnidentifiedImageError:
                raise OSError("not a PNG, JPEG, BMP, GIF, TIFF or WebP image") from None
            with img:
                converted = img.convert("L" if grayscale else "RGB")
                converted = converted.resize((size[1], size[0]), Image.Resampling.BILINEAR)
                pixels = np.asarray(converted, dtype=np.float32)
    return pixels[..., None] if grayscale else pixels


def read_image_folder(
    path: Path, image_size: tuple[int, int] = (32, 32), grayscale: bool = False
) -> RawData:
    """Every readable image under ``path/<class>/``, resized; labels by folder."""
    try:
        from PIL import Image  # noqa: F401 - only to fail early with a clear line
    except ImportError:  # pragma: no cover - Pillow is a dependency
        raise DataError("reading image folders needs Pillow: pip install pillow") from None

    names, layout = _layout(path)
    files = {
        part: [(cls, folder, _image_files(folder)) for cls, folder in folders]
        for part, folders in layout.items()
    }
    total = sum(len(found) for entries in files.values() for _, _, found in entries)
    if total == 0:
        raise DataError(
            f"{path}: the class subfolders hold no images ({', '.join(IMAGE_SUFFIXES)})"
        )
    if total > MAX_IMAGES:
        raise DataError(f"{path} holds {total} images; FitGap reads at most {MAX_IMAGES}")
    _check_memory(path, total, image_size, grayscale)

    skipped: list[str] = []
    arrays = {
        part: _read_part(path, entries, image_size, grayscale, skipped)
        for part, entries in files.items()
    }
    meta: dict = {
        "images": sum(len(y) for _, y in arrays.values()),
        "skipped_count": len(skipped),
        "skipped": skipped[:100],
        "grayscale": grayscale,
    }
    if len(layout) > 1:
        meta["split"] = "presplit" if "val" in layout else "test given"
        meta["test_part"] = FOLDER_TEST_PART if "test" in layout else FOLDER_NO_TEST
    x, y = arrays["train"]
    x_val, y_val = arrays.get("val", (None, None))
    x_test, y_test = arrays.get("test", (None, None))
    return RawData(
        name=path.name,
        x=x,
        y=y,
        x_val=x_val,
        y_val=y_val,
        class_names=names,
        kind="image",
        image_shape=tuple(image_size),
        meta=meta,
        x_test=x_test,
        y_test=y_test,
    )


def read_images(root, entries, size, grayscale, skipped):
    """The readable images of ``entries`` (pairs of a label and its files) and their
    labels; each unreadable image is skipped and named in ``skipped`` (under ``root``)."""
    images, labels = [], []
    for label, files in entries:
        for file in files:
            try:
                images.append(read_image(file, size, grayscale))
            except Exception as exc:  # any failure to decode it: skip this image
                reason = str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__
                skipped.append(f"{file.relative_to(root)} ({reason})")
                continue
            labels.append(label)
    return np.stack(images) if images else None, np.asarray(labels, dtype=np.int64)


def _read_part(
    path: Path,
    entries: list[tuple[int, Path, list[Path]]],
    image_size: tuple[int, int],
    grayscale: bool,
    skipped: list[str],
) -> tuple[np.ndarray, np.ndarray]:
    """The readable images of one part's class folders, and their labels."""
    x, y = read_images(
        path, [(cls, files) for cls, _, files in entries], image_size, grayscale, skipped
    )
    found = np.bincount(y, minlength=max(cls for cls, _, _ in entries) + 1)
    for cls, folder, _files in entries:
        if found[cls] == 0:
            shown_name = folder.relative_to(path).as_posix()
            unreadable = [s for s in skipped if s.startswith(f"{shown_name}/")]
            first = f"; unreadable: {unreadable[-1]}" if unreadable else ""
            raise DataError(f"{path}: class folder {shown_name!r} has no readable images{first}")
    assert x is not None  # every class has an image
    return x, y
