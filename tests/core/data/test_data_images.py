"""The image-folder reader: one subfolder per class, resized, unreadable files named."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from fitgap_gui.core.config.schema import DataConfig
from fitgap_gui.core.data.datasets import load_dataset, preview
from fitgap_gui.core.errors import DataError


def _image(path, size=(20, 16), color=(200, 10, 10), mode="RGB"):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color if mode == "RGB" else color[0]).save(path)


def _folder(tmp_path, per_class=4, classes=("cats", "dogs")):
    root = tmp_path / "pets"
    for c, name in enumerate(classes):
        for i in range(per_class):
            # Mixed sizes and modes on purpose: all are resized to image_size.
            size = (10 + 7 * i, 12 + 3 * c)
            mode = "L" if i % 2 else "RGB"
            _image(root / name / f"{i}.png", size=size, color=(40 * i, 100 * c, 30), mode=mode)
    return root


def _cfg(root, **kw) -> DataConfig:
    return DataConfig(source="images", path=str(root), **kw)


def test_mixed_sizes_are_resized(tmp_path):
    root = _folder(tmp_path)
    ds = load_dataset(_cfg(root, image_size=[8, 6], validation_split=0.25), seed=0)
    assert ds.kind == "image"
    assert ds.x_train.shape[1:] == (8, 6, 3)
    assert ds.image_shape == (8, 6)
    assert ds.class_names == ["cats", "dogs"]
    assert (len(ds.x_train), len(ds.x_val), len(ds.x_test)) == (4, 2, 2)  # test part first
    assert ds.meta["test_part"] == "20 % of the rows, drawn first"
    assert ds.x_train.min() >= 0.0 and ds.x_train.max() <= 255.0


def test_grayscale_has_one_channel(tmp_path):
    p = preview(_cfg(_folder(tmp_path), image_size=[5, 5], grayscale=True))
    assert p.input_shape == (5, 5, 1)
    assert p.class_counts == [4, 4]
    image, label = p.sample_images[0]
    assert image.shape == (5, 5) and image.dtype == np.uint8
    assert {name for _, name in p.sample_images[:2]} == {"cats", "dogs"}


def test_unreadable_image_is_skipped_and_named(tmp_path):
    root = _folder(tmp_path)
    (root / "cats" / "broken.png").write_bytes(b"not a png at all")
    good = root / "dogs" / "0.png"
    (root / "dogs" / "cut.jpg").write_bytes(good.read_bytes()[:40])
    (root / "dogs" / "notes.txt").write_text("ignored: not an image suffix")
    p = preview(_cfg(root))
    assert p.n_samples == 8
    assert p.meta["skipped_count"] == 2
    assert any("broken.png" in s for s in p.meta["skipped"])
    assert any("cut.jpg" in s for s in p.meta["skipped"])
    assert "2 unreadable images skipped" in p.summary()


def test_nothing_readable_in_a_class_is_refused(tmp_path):
    root = _folder(tmp_path)
    for f in (root / "dogs").iterdir():
        f.write_bytes(b"garbage")
    with pytest.raises(DataError, match=r"class folder 'dogs' has no readable images.*\.png"):
        preview(_cfg(root))


MALFORMED = [
    ("missing folder", lambda t: t / "nowhere", "no such folder"),
    ("a file, not a folder", lambda t: _file(t / "x.png"), "is a file"),
    ("no class folders", lambda t: _mkdir(t / "flat"), "no class subfolders"),
    ("one class", lambda t: _folder(t, classes=("only",)), "at least two classes"),
    ("no images at all", lambda t: _empty_classes(t), "hold no images"),
    ("too few images", lambda t: _folder(t, per_class=1), "too few"),
]


def _file(path):
    _image(path)
    return path


def _mkdir(path):
    path.mkdir()
    (path / "a.png").write_bytes(b"")
    return path


def _empty_classes(tmp_path):
    root = tmp_path / "empty"
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    return root


@pytest.mark.parametrize(("case", "make", "expected"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_image_folder(tmp_path, case, make, expected):
    with pytest.raises(DataError, match=expected):
        load_dataset(_cfg(make(tmp_path)), seed=0)


def test_decompression_bomb_is_skipped(tmp_path, monkeypatch):
    root = _folder(tmp_path)
    _image(root / "cats" / "huge.png", size=(60, 60))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 60x60 is then a "bomb"
    p = preview(_cfg(root))
    assert any("huge.png" in s for s in p.meta["skipped"])


def test_no_tensorflow_needed(tmp_path):
    import subprocess
    import sys

    root = _folder(tmp_path)
    code = (
        "import sys; from fitgap_gui.core.config.schema import DataConfig;"
        "from fitgap_gui.core.data.datasets import load_dataset;"
        f"load_dataset(DataConfig(source='images', path={str(root)!r}));"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False False", out.stderr


# -- bad paths and too many pixels, refused before any image is decoded -------------------------
def _loop(tmp_path):
    link = tmp_path / "loop"
    link.symlink_to(link)
    return link


BAD_PATHS = [
    ("a 5,000-character path", lambda t: t / "/".join(["d" * 99] * 50), "too long"),
    ("a 300-character name", lambda t: t / ("n" * 300) / "pics", "300 bytes long"),
    ("a symbolic link loop", _loop, "symbolic link loop"),
]


@pytest.mark.parametrize(("case", "make", "expected"), BAD_PATHS, ids=[b[0] for b in BAD_PATHS])
def test_a_bad_folder_path_is_one_clear_line(tmp_path, case, make, expected):
    with pytest.raises(DataError, match=expected) as info:
        load_dataset(_cfg(make(tmp_path)), seed=0)
    assert "\n" not in str(info.value) and len(str(info.value)) < 400


def test_an_image_folder_too_large_for_memory_is_refused_before_decoding(tmp_path, monkeypatch):
    """4 images x 64x64 x 3 channels x 4 bytes = 196,608 bytes against a 100,000 budget.

    The dogs are all unreadable: had the reader decoded first, it would say so instead.
    """
    from fitgap_gui.core.memory import BUDGET_ENV

    root = _folder(tmp_path, per_class=2)
    for i in range(2):
        (root / "dogs" / f"{i}.png").write_bytes(b"not a png")
    monkeypatch.setenv(BUDGET_ENV, "100000")
    with pytest.raises(DataError) as info:
        load_dataset(_cfg(root, image_size=[64, 64]), seed=0)
    message = str(info.value)
    assert "holds 4 images" in message and "192.0 KiB" in message
    assert "data.image_size" in message and "data.grayscale" in message
    monkeypatch.setenv(BUDGET_ENV, "200000")  # fits: now the images are decoded
    with pytest.raises(DataError, match="'dogs' has no readable images"):
        load_dataset(_cfg(root, image_size=[64, 64]), seed=0)
