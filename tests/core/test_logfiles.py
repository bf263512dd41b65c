"""The log file: written where FitGap keeps its data; a log that cannot be written
costs one warning line, never a traceback or "--- Logging error ---"."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from fitgap_gui.core.logfiles import LOG_NAME, log_folder, setup_logging


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in before:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def test_records_go_to_the_log_file_in_the_data_folder(fitgap_home, restore_logging):
    handler = setup_logging()
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("fitgap_gui.qt.runtime.worker").exception("run 3 failed")
    handler.flush()
    text = (fitgap_home / "logs" / LOG_NAME).read_text()
    assert log_folder() == fitgap_home / "logs"
    assert "run 3 failed" in text and "Traceback" in text and "ValueError: boom" in text


def test_a_data_folder_that_is_a_file_costs_one_warning_line(tmp_path, capfd, restore_logging):
    home = tmp_path / "home"
    home.write_text("not a folder")
    setup_logging(home)
    for _ in range(3):
        logging.getLogger("fitgap_gui").error("still going")
    logging.getLogger("tensorflow").warning("from tensorflow")
    err = capfd.readouterr().err
    assert err.count("\n") == 1 and "cannot write the log file" in err
    assert "Traceback" not in err and "Logging error" not in err


def test_a_log_that_fails_while_writing_stays_quiet(tmp_path, capfd, restore_logging):
    handler = setup_logging(tmp_path)
    logging.getLogger("fitgap_gui").info("first")
    handler.stream.close()  # as a full or vanished disk would make every write fail
    for _ in range(3):
        logging.getLogger("fitgap_gui").error("later")
    err = capfd.readouterr().err
    assert err.count("\n") <= 1 and "Traceback" not in err and "Logging error" not in err


def test_tensorflow_stays_out_of_the_terminal(tmp_path):
    """The GUI's start-up: TensorFlow's INFO lines and cuInit go nowhere near stderr."""
    code = (
        "from fitgap_gui.app import quiet_tensorflow, start_logging\n"
        "quiet_tensorflow(); start_logging()\n"
        "from fitgap_gui.qt.runtime.worker import import_engine\n"
        "import_engine()\n"
        "import tensorflow as tf, logging\n"
        "tf.constant([1.0]) + 1\n"
        "tf.config.list_physical_devices('GPU')\n"
        "logging.getLogger('tensorflow').warning('tf python warning')\n"
        "import absl.logging; absl.logging.warning('absl warning')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["FITGAP_HOME"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    for noise in ("cuInit", "oneDNN", "cuda drivers", "I0000", "E0000", "W0000"):
        assert noise not in result.stderr
    assert "tf python warning" not in result.stderr and "absl warning" not in result.stderr
    log = (tmp_path / "logs" / LOG_NAME).read_text()
    assert "tf python warning" in log and "absl warning" in log


def test_the_cli_keeps_tensorflow_start_up_lines_out_of_the_terminal(tmp_path):
    """`fitgap train` (and `--continue`, which loads a model before training) start
    TensorFlow with its C++ lines, cuInit's error among them, sent to the log file."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["FITGAP_HOME"] = str(tmp_path)
    for args in (["train", "--epochs", "1"], ["train", "--continue", "1", "--epochs", "2"]):
        result = subprocess.run(
            [sys.executable, "-m", "fitgap_gui.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        assert "completed after" in result.stdout
        for noise in ("cuInit", "oneDNN", "cuda drivers", "absl::InitializeLog", "I0000"):
            assert noise not in result.stderr, result.stderr
    assert "oneDNN" in (tmp_path / "logs" / LOG_NAME).read_text()
