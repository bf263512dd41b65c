"""The Keras script for CSV, image-folder and Keras-cache data and for augmentation.

Its ``load_data()`` must build the very arrays ``load_dataset`` builds (bit for bit),
its ``build_model()`` the very layers ``model.build_model`` builds, and executed on
its own in a subprocess it must repeat the stored run's history to 1e-4.
"""

from __future__ import annotations

import gzip
import json
import pickle
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import load_dataset
from fitgap_gui.core.export.files import export_runs
from fitgap_gui.core.export.script import keras_script
from fitgap_gui.core.model.build import build_model
from fitgap_gui.core.run.session import run_recorded
from fitgap_gui.core.store.runstore import RunStore

RNG = np.random.default_rng(0)


# -- data files ---------------------------------------------------------------------------------
def _write_csvs(root) -> None:
    rng = np.random.default_rng(1)
    species = ["setosa", "virginica", "versicolor"]
    # Header, semicolons, string labels in the second column (chosen by name).
    lines = ["f1;species;f2;f3"]
    for i in range(30):
        a, b, c = rng.normal(size=3) + i % 3
        lines.append(f"{a:.6f};{species[i % 3]};{b:.3g};{float(c)!r}")
    (root / "iris.csv").write_text("\n".join(lines) + "\n\n")
    # No header, commas, numeric labels written differently ("2" and "2.0" are one class).
    rows = [
        f"{x:.5f},{y:.5f},{['1', '2', '2.0', '10'][i % 4]}"
        for i, (x, y) in enumerate(rng.normal(size=(24, 2)))
    ]
    (root / "numbers.csv").write_text("\n".join(rows))
    # Quoted cells send the reader down its csv-module path; a "class" column is the label.
    lines = ['"a","class","b"'] + [f'"{i * 0.1:.2f}","{"yn"[i % 2]}",{i % 5}' for i in range(20)]
    (root / "quoted.csv").write_text("\r\n".join(lines))
    # Every line ends in a comma: the reader ignores the empty last column.
    rows = [f"{x:.4f},{y:.4f},{'ab'[i % 2]}," for i, (x, y) in enumerate(rng.normal(size=(20, 2)))]
    (root / "trailing.csv").write_text("x,y,label,\n" + "\n".join(rows) + "\n")
    # Quoted labels holding a line break, a U+2028 and a form feed: one record each and
    # three classes (read line by line, all three would become "x\ny", one class).
    labels = ['"x\ny"', '"x\u2028y"', '"x\fy"', "z"]
    rows = [f"{i % 7},{i * 0.5},{labels[i % 4]}" for i in range(24)]
    (root / "breaks.csv").write_text("a,b,label\n" + "\n".join(rows) + "\n", encoding="utf-8")


def _write_images(root) -> None:
    for cls in ("ant", "bee", "cat"):
        (root / cls).mkdir(parents=True)
        for i in range(8):
            size = (8, 8) if i % 2 else (12, 10)  # some are resized
            pixels = RNG.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / cls / f"{i}.png")
    (root / "bee" / "broken.png").write_bytes(b"not a png")  # skipped by both
    (root / "cat" / "notes.txt").write_text("not an image")


def _images(n, shape):
    return RNG.integers(0, 256, size=(n, *shape), dtype=np.uint8)


def _write_keras_cache(datasets) -> None:
    np.savez(
        datasets / "mnist.npz",
        x_train=_images(30, (28, 28)),
        y_train=np.arange(30) % 10,
        x_test=_images(20, (28, 28)),  # the official test set: the test part
        y_test=np.arange(20) % 10,
    )
    folder = datasets / "fashion-mnist"
    folder.mkdir()
    for prefix, n in (("train", 20), ("t10k", 10)):
        with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(b"\x00" * 8 + (np.arange(n) % 10).astype(np.uint8).tobytes())
        with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(b"\x00" * 16 + _images(n, (28, 28)).tobytes())
    folder = datasets / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": _images(4, (3072,)), b"labels": [0, 1, 2, 3]}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))


@pytest.fixture
def files(tmp_path, keras_home):
    """CSVs, an image folder and a fake Keras cache (KERAS_HOME) under tmp_path."""
    _write_csvs(tmp_path)
    x = RNG.normal(size=(30, 5)).astype(np.float64)
    y = (np.arange(30) % 3).reshape(-1, 1)  # labels as a column, keys as Keras names them
    np.savez(tmp_path / "aliased.npz", x_train=x[:20], y_train=y[:20], x_test=x[20:], y_test=y[20:])
    three = {"x_train": x[:18], "y_train": y[:18], "x_val": x[18:24], "y_val": y[18:24]}
    np.savez(tmp_path / "valonly.npz", **three)
    np.savez(tmp_path / "three.npz", **three, x_test=x[24:], y_test=y[24:])
    _write_images(tmp_path / "pics")
    # image folders that bring their own parts: train/ + test/, and train/ + val/ + test/
    _write_images(tmp_path / "parted" / "train")
    _write_images(tmp_path / "parted" / "test")
    for part in ("train", "val", "test"):
        _write_images(tmp_path / "parted3" / part)
    _write_keras_cache(keras_home)
    return tmp_path


def _config(files, data: dict, model: dict | None = None, **training) -> RunConfig:
    if "path" in data:
        data = {**data, "path": str(files / data["path"])}
    return RunConfig.from_dict({"data": data, "model": model or {}, "training": training})


def _exec_script(config: RunConfig, dataset) -> dict:
    namespace: dict = {"__name__": "exported_script"}
    source = keras_script(config, input_shape=dataset.input_shape, image_shape=dataset.image_shape)
    exec(compile(source, "exported_script.py", "exec"), namespace)
    return namespace


# -- the arrays ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "data",
    [
        {"source": "csv", "path": "iris.csv", "label_column": "species", "scale": "standard"},
        {"source": "csv", "path": "numbers.csv", "label_noise": 0.2},
        {"source": "csv", "path": "quoted.csv", "train_fraction": 0.5},
        {"source": "csv", "path": "iris.csv", "label_column": "SPECIES", "validation_split": 0.5},
        {"source": "csv", "path": "trailing.csv", "scale": "minmax"},
        {"source": "csv", "path": "breaks.csv", "label_noise": 0.1},
        {"source": "images", "path": "pics", "image_size": [8, 8], "scale": "minmax"},
        {"source": "images", "path": "pics", "image_size": [6, 9], "grayscale": True},
        {"source": "mnist", "label_noise": 0.3},
        {"source": "fashion_mnist", "train_fraction": 0.5},
        {"source": "cifar10", "scale": "standard"},
        {"source": "npz", "path": "aliased.npz", "label_noise": 0.2},
        {"source": "mnist", "train_fraction": 0.5, "validation_fraction": 0.5},
        {"source": "npz", "path": "aliased.npz", "validation_fraction": 0.7},
        {"source": "npz", "path": "three.npz", "scale": "minmax", "label_noise": 0.2},
        {"source": "npz", "path": "valonly.npz", "test_split": 0.3},
        {"source": "csv", "path": "iris.csv", "label_column": "species", "test_split": 0.0},
        {"source": "csv", "path": "iris.csv", "label_column": "species", "test_split": 0.5},
        {"source": "images", "path": "parted", "image_size": [8, 8], "scale": "standard"},
        {"source": "images", "path": "parted3", "image_size": [8, 8], "label_noise": 0.2},
    ],
    ids=lambda d: f"{d['source']}-{d.get('path', '')}-{sorted(d)[-1]}",
)
def test_script_builds_the_same_arrays_as_fitgap(files, data, assert_same_data):
    config = _config(files, data, seed=3)
    expected = load_dataset(config.data, seed=3)
    namespace = _exec_script(config, expected)
    assert_same_data(namespace["load_data"](), expected)  # the test part too


def test_script_moves_a_single_sample_class_into_training_as_fitgap_does(files, assert_same_data):
    """With seed 7 sklearn's split puts the lone "rare" row in validation; FitGap swaps
    it with a training row, and the script must make the same swap."""
    from sklearn.model_selection import train_test_split

    rows = "".join(f"{i},{i % 5},common\n" for i in range(16)) + "99,9,rare\n"
    (files / "rare.csv").write_text("f1,f2,label\n" + rows)
    config = _config(files, {"source": "csv", "path": "rare.csv", "test_split": 0.0}, seed=7)
    expected = load_dataset(config.data, seed=7)
    y = np.array([0] * 16 + [1])
    assert 1 in train_test_split(y, test_size=0.2, random_state=7)[1]  # the swap is needed
    assert (expected.y_train == expected.class_names.index("rare")).sum() == 1
    assert_same_data(_exec_script(config, expected)["load_data"](), expected)


# -- the model ----------------------------------------------------------------------------------
def _layer_configs(model) -> list[tuple[str, dict]]:
    out = []
    for layer in model.layers:
        cfg = {k: v for k, v in layer.get_config().items() if k != "name"}
        out.append((type(layer).__name__, cfg))
    return out


@pytest.mark.parametrize(
    "data, model",
    [
        ({"source": "digits"}, {"augment_flip": True, "dropout": 0.2}),
        ({"source": "mnist"}, {"augment_rotation": 0.1, "augment_translation": 0.2}),
        (
            {"source": "images", "path": "pics", "image_size": [8, 8]},
            {"augment_flip": True, "augment_rotation": 0.05, "augment_translation": 0.1},
        ),
        ({"source": "csv", "path": "iris.csv", "label_column": "species"}, {"l2": 1e-3}),
    ],
    ids=["digits-flip", "mnist-rotate-translate", "images-all-three", "csv-no-augmentation"],
)
def test_script_builds_the_same_layers_as_fitgap(files, data, model):
    """Same layer types, arguments and order; seeded alike, the same initial weights."""
    import keras

    config = _config(files, data, model)
    dataset = load_dataset(config.data, seed=0)
    namespace = _exec_script(config, dataset)

    keras.utils.set_random_seed(0)
    ours = build_model(config.model, dataset.input_shape, dataset.n_classes, dataset.image_shape)
    keras.utils.set_random_seed(0)
    theirs = namespace["build_model"](namespace["LAYERS"], dataset.input_shape, dataset.n_classes)
    assert _layer_configs(theirs) == _layer_configs(ours)
    for a, b in zip(theirs.get_weights(), ours.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    # The random layers draw their seeds from the same seeded stream, in the same order.
    random_pairs = [
        (a, b) for a, b in zip(theirs.layers, ours.layers, strict=True) if hasattr(b, "generator")
    ]
    for a, b in random_pairs:
        assert a.seed == b.seed
        want = keras.ops.convert_to_numpy(b.generator.state)
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a.generator.state), want)
    n_augment = sum(bool(v) for k, v in model.items() if k.startswith("augment"))
    assert len(random_pairs) == n_augment


# -- the whole program, run on its own -----------------------------------------------------------
def _reproduce(config: RunConfig, tmp_path) -> float:
    """Train and store ``config``, export its script, run it; the largest history error."""
    store = RunStore()
    result = run_recorded(config, store)
    assert result.status == "completed"
    (path,) = export_runs(store, "script", [result.run_id], tmp_path / "run.py")
    text = path.read_text()
    assert "import fitgap" not in text and "from fitgap" not in text
    for section in ("# -- data ", "# -- model ", "# -- training "):
        assert section in text
    out = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=240, check=True
    )
    history = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(history) == set(result.history)
    worst = 0.0
    for key, values in result.history.items():
        assert len(history[key]) == len(values) == result.epochs_run
        worst = max(worst, *(abs(a - b) for a, b in zip(history[key], values, strict=True)))
    print(f"{config.data.source}: max |diff| {worst:g} over {result.epochs_run} epochs")
    return worst


TINY = {"epochs": 3, "batch_size": 8, "seed": 2}


def test_csv_run_with_text_labels_and_header_is_reproduced(files, tmp_path):
    config = _config(
        files,
        {"source": "csv", "path": "iris.csv", "label_column": "species", "scale": "standard"},
        {"hidden_units": [8]},
        **TINY,
    )
    assert _reproduce(config, tmp_path) <= 1e-4


def test_image_folder_run_with_flip_is_reproduced(files, tmp_path):
    config = _config(
        files,
        {"source": "images", "path": "pics", "image_size": [8, 8], "scale": "minmax"},
        {"hidden_units": [8], "augment_flip": True},
        **TINY,
    )
    assert _reproduce(config, tmp_path) <= 1e-4


def test_keras_cache_mnist_run_with_rotation_and_translation_is_reproduced(files, tmp_path):
    config = _config(
        files,
        {"source": "mnist", "scale": "minmax"},
        {"hidden_units": [8], "augment_rotation": 0.1, "augment_translation": 0.1},
        **TINY,
    )
    assert _reproduce(config, tmp_path) <= 1e-4


def test_keras_cache_run_on_part_of_its_validation_set_is_reproduced(files, tmp_path):
    """validation_fraction 0.5 of the 20 validation images split from MNIST's 30 training
    images (two per class): one per class, 10 in all, the same 10 in the exported script,
    and the same history to 1e-4; its 20 official test images are the test part."""
    config = _config(
        files,
        {
            "source": "mnist",
            "scale": "minmax",
            "validation_split": 0.66,
            "validation_fraction": 0.5,
        },
        {"hidden_units": [8]},
        **TINY,
    )
    dataset = load_dataset(config.data, seed=TINY["seed"])
    assert len(dataset.y_val) == 10 and sorted(dataset.y_val.tolist()) == list(range(10))
    assert len(dataset.y_test) == 20
    loaded = _exec_script(config, dataset)["load_data"]()
    assert (len(loaded[2]), len(loaded[4])) == (10, 20)
    assert _reproduce(config, tmp_path) <= 1e-4
