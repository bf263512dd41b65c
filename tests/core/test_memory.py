"""Memory checked before the work: the budget, the model estimate, running out anyway."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from fitgap_gui.cli import main
from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import load_dataset
from fitgap_gui.core.errors import ConfigError
from fitgap_gui.core.memory import (
    BUDGET_ENV,
    MAX_FILE_BYTES,
    OutOfMemoryError,
    cgroup_limit,
    memory_budget,
)
from fitgap_gui.core.model.build import build_model
from fitgap_gui.core.model.memory import check_model_memory, estimate_model_memory

BIG = {"data": {"source": "digits"}, "model": {"hidden_units": [8192] * 16}}


# -- the budget -----------------------------------------------------------------------------------
def test_budget_is_the_least_of_the_limits_and_never_over_4_gib(monkeypatch):
    monkeypatch.delenv(BUDGET_ENV, raising=False)
    budget = memory_budget()
    available = next(
        int(line.split()[1]) * 1024
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemAvailable:")
    )
    assert 0 < budget <= MAX_FILE_BYTES
    assert budget <= available * 1.05  # MemAvailable moves a little between the two reads
    monkeypatch.setenv(BUDGET_ENV, "12345")
    assert memory_budget() == 12345


def testcgroup_limits_v1_and_v2_are_read_and_max_means_none(tmp_path):
    lines = Path("/proc/self/cgroup").read_text().splitlines()
    for line in lines:
        _, controllers, rel = line.split(":", 2)
        if controllers == "":
            folder, name, value = tmp_path / rel.lstrip("/"), "memory.max", "max"
        elif "memory" in controllers.split(","):
            folder = tmp_path / "memory" / rel.lstrip("/")
            name, value = "memory.limit_in_bytes", "9223372036854771712"
        else:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(value + "\n")
    assert cgroup_limit(tmp_path) is None  # "max" and 2**63 rounded: no limit
    for limit_file in tmp_path.rglob("memory.*"):
        limit_file.write_text("3000000000\n")
    assert cgroup_limit(tmp_path) == 3_000_000_000


def test_rlimit_as_bounds_the_budget():
    limit = 3 * 1024**3
    probe = (
        "import resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({limit}, resource.getrlimit(resource.RLIMIT_AS)[1]))\n"
        "from fitgap_gui.core.memory import memory_budget, _rlimit_as\n"
        "print(_rlimit_as(), memory_budget())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != BUDGET_ENV}
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, env=env
    )
    rlimit, budget = map(int, proc.stdout.split())
    assert rlimit == limit and budget <= limit


# -- the model estimate ---------------------------------------------------------------------------
def test_sixteen_layers_of_8192_units_are_refused_fast():
    config = RunConfig.from_dict(BIG)
    start = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        check_model_memory(config, (64,), 10, 1797)
    assert time.perf_counter() - start < 0.1
    message = str(info.value)
    assert "1,007," in message and "parameters" in message  # about a billion
    assert "use fewer or narrower hidden layers (model.hidden_units)" in message
    assert "\n" not in message


def test_a_large_image_with_a_wide_layer_names_the_first_layer_and_image_size():
    config = RunConfig.from_dict(
        {
            "data": {"source": "images", "path": "x", "image_size": [1024, 1024]},
            "model": {"hidden_units": [8192]},
        }
    )
    with pytest.raises(ConfigError, match="first hidden layer's units .* or data.image_size"):
        check_model_memory(config, (1024, 1024, 3), 2, 100)


def test_a_large_batch_names_the_batch_size():
    config = RunConfig.from_dict(
        {"model": {"hidden_units": [2048] * 4}, "training": {"batch_size": 65536}}
    )
    with pytest.raises(ConfigError, match="reduce training.batch_size"):
        check_model_memory(config, (4096,), 10, 100_000, budget=2 * 1024**3)


def test_the_default_config_is_accepted_with_the_real_budget(monkeypatch):
    monkeypatch.delenv(BUDGET_ENV, raising=False)
    config = RunConfig()
    ds = load_dataset(config.data, config.training.seed)
    est = check_model_memory(config, ds.input_shape, ds.n_classes, 1797)
    assert est.parameters == 64 * 128 + 128 + 128 * 10 + 10
    # weights, gradients and adam's two slots: four float32 copies
    assert est.state_bytes == est.parameters * 4 * 4


def test_optimizer_state_is_counted_per_optimizer():
    sizes = {
        name: estimate_model_memory(
            RunConfig.from_dict({"training": {"optimizer": name}}), (64,), 10, 100
        ).state_bytes
        for name in ("sgd", "rmsprop", "adam", "adamw", "nadam")
    }
    n = 64 * 128 + 128 + 128 * 10 + 10
    assert sizes == {
        "sgd": n * 4 * 2,
        "rmsprop": n * 4 * 3,
        "adam": n * 4 * 4,
        "adamw": n * 4 * 4,
        "nadam": n * 4 * 4,
    }


def test_the_estimate_builds_nothing_and_draws_no_random_numbers():
    """Faithfulness: after the check, Keras's seeded model is the one it would have been."""
    import keras

    from fitgap_gui.core.model.build import build_model

    config = RunConfig.from_dict({"model": {"hidden_units": [32, 16], "dropout": 0.1}})

    def weights(check: bool) -> list[np.ndarray]:
        keras.backend.clear_session(free_memory=False)
        keras.utils.set_random_seed(5)
        if check:
            check_model_memory(config, (64,), 10, 1797)
            check_model_memory(RunConfig.from_dict(BIG), (64,), 10, 1797, budget=2**62)
        model = build_model(config.model, (64,), 10)
        return [keras.ops.convert_to_numpy(w) for w in model.weights] + [
            keras.ops.convert_to_numpy(keras.random.uniform((4,), seed=None))
        ]

    for a, b in zip(weights(False), weights(True), strict=True):
        np.testing.assert_array_equal(a, b)
    probe = (
        "import sys\n"
        "from fitgap_gui.core.config.schema import RunConfig\n"
        "from fitgap_gui.core.model.memory import estimate_model_memory\n"
        f"estimate_model_memory(RunConfig.from_dict({BIG!r}), (64,), 10, 100)\n"
        "print('keras' in sys.modules, 'tensorflow' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "False False", proc.stderr


def test_cli_refuses_a_huge_model_with_one_line_and_stores_no_run(tmp_path, capsys):
    from fitgap_gui.core.store.runstore import RunStore

    path = tmp_path / "big.json"
    path.write_text(json.dumps(BIG), encoding="utf-8")
    start = time.perf_counter()
    assert main(["train", "--config", str(path)]) == 2
    assert time.perf_counter() - start < 10.0
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: this model needs about")
    assert "model.hidden_units" in lines[0] and "Traceback" not in err
    assert RunStore().list_runs() == []


# -- running out of memory anyway -----------------------------------------------------------------
def _raise_in_epoch(error: BaseException, after: int = 1):
    def on_epoch(metrics) -> None:
        if metrics.epoch >= after:
            raise error

    return on_epoch


def test_resource_exhausted_in_fit_is_a_clear_error(tiny_config):
    import tensorflow as tf

    from fitgap_gui.core.run.training import train

    error = tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor\nhint")
    with pytest.raises(OutOfMemoryError) as info:
        train(tiny_config, load_dataset(tiny_config.data, 1), on_epoch=_raise_in_epoch(error))
    message = str(info.value)
    assert message.startswith("training ran out of memory after 1 complete epoch (")
    assert "OOM when allocating tensor" in message and "\n" not in message
    assert "training.batch_size" in message


def test_memory_error_in_a_recorded_run_is_stored_as_failed(tiny_config):
    from fitgap_gui.core.run.session import run_recorded
    from fitgap_gui.core.store.runstore import RunStore

    store = RunStore()
    with pytest.raises(OutOfMemoryError):
        run_recorded(tiny_config, store, on_epoch=lambda _id, m: _raise_in_epoch(MemoryError())(m))
    (run,) = store.list_runs()
    assert run.status == "failed"
    assert "ran out of memory after 1 complete epoch (" in (run.message or "")
    assert len(store.epochs(run.run_id)) == 1  # the epoch written before the error is kept


def test_other_errors_in_fit_are_not_called_memory(tiny_config):
    from fitgap_gui.core.run.training import train

    with pytest.raises(RuntimeError, match="boom"):
        train(
            tiny_config,
            load_dataset(tiny_config.data, 1),
            on_epoch=_raise_in_epoch(RuntimeError("boom")),
        )


def test_a_recorded_run_refuses_a_huge_model_before_storing_a_run(tiny_config):
    """The window and sweeps go through run_recorded: refused there, no run row is left."""
    from fitgap_gui.core.run.session import run_recorded
    from fitgap_gui.core.store.runstore import RunStore

    store = RunStore()
    config = tiny_config.replace({"model.hidden_units": [8192] * 16})
    started = []
    with pytest.raises(ConfigError, match="more than the .* FitGap may use here"):
        run_recorded(config, store, on_started=lambda run_id, _ds: started.append(run_id))
    assert store.list_runs() == [] and started == []


@pytest.mark.parametrize(
    ("model", "input_shape", "image_shape"),
    [
        ({"hidden_units": [32, 16], "batch_norm": True}, (64,), None),
        ({"kind": "cnn", "conv_filters": [8, 16], "hidden_units": [32]}, (64,), (8, 8)),
        (
            {"kind": "cnn", "conv_filters": [4], "batch_norm": True, "hidden_units": []},
            (12, 10, 3),
            None,
        ),
    ],
)
def test_memory_estimate_counts_conv_and_batch_norm_parameters_as_keras_does(
    model, input_shape, image_shape
):
    config = RunConfig.from_dict({"model": model})
    est = estimate_model_memory(config, input_shape, 10, 100, image_shape)
    keras_model = build_model(config.model, input_shape, 10, image_shape=image_shape)
    assert est.parameters == keras_model.count_params()
