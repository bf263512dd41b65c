"""``fitgap train`` on bad input: exit 2, one ``error:`` line naming the file, fast, no TF."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from fitgap_gui.cli import main


def _write(tmp_path, name: str, content) -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


def _npz(tmp_path, name: str, **arrays) -> str:
    path = tmp_path / name
    np.savez(path, **arrays)
    return str(path)


def _pickled_npz(tmp_path):
    objects = np.empty(2, dtype=object)
    objects[:] = [{"a": 1}, [2]]
    return _npz(tmp_path, "objects.npz", x=objects, y=np.array([0, 1]))


def _images_one_class(tmp_path):
    from PIL import Image

    root = tmp_path / "one_class"
    (root / "cats").mkdir(parents=True)
    Image.new("RGB", (4, 4)).save(root / "cats" / "a.png")
    return str(root)


#: (case, a function of tmp_path giving the --data path, text the message must hold).
BAD_DATA = [
    ("missing file", lambda t: str(t / "missing.csv"), "no such file"),
    ("unknown suffix", lambda t: _write(t, "data.xyz", "x"), "cannot tell the data type"),
    ("not a workbook", lambda t: _write(t, "data.xlsx", "x"), "is not an Excel workbook (.xlsx)"),
    ("empty csv", lambda t: _write(t, "empty.csv", ""), "is empty"),
    ("header only", lambda t: _write(t, "head.csv", "a,b,label\n"), "no data rows"),
    ("ragged", lambda t: _write(t, "ragged.csv", "a,b,c\n1,2,3\n4,5\n"), "line 3 has 2 fields"),
    ("text feature", lambda t: _write(t, "text.csv", "a,b,c\n1,2,0\n1,x,1\n"), "'x' is not a number"),
    ("inf csv", lambda t: _write(t, "inf.csv", "a,b,c\n1,2,0\n1,inf,1\n"), "line 3, column 'b': 'inf' is infinite"),
    ("one class csv", lambda t: _write(t, "one.csv", "a,b\n1,0\n2,0\n3,0\n4,0\n5,0\n"), "two classes"),
    ("folder named .csv", lambda t: str(_mkdir(t / "dir.csv")), "is a folder"),
    ("corrupt npz", lambda t: _write(t, "bad.npz", b"PK\x03\x04broken"), "not a readable .npz"),
    ("pickled npz", _pickled_npz, "pickled Python objects"),
    ("wrong keys npz", lambda t: _npz(t, "keys.npz", a=np.zeros((5, 2))), "needs arrays"),
    ("one class images", _images_one_class, "at least two classes"),
]  # fmt: skip


def _mkdir(path):
    path.mkdir()
    return path


def _config(tmp_path, raw) -> str:
    return _write(tmp_path, "run.json", raw if isinstance(raw, str) else json.dumps(raw))


BAD_CONFIG = [
    ("not json", "{data:", "not valid JSON"),
    ("unknown key", {"data": {"sorce": "csv"}}, "unknown key data.sorce"),
    ("bad value", {"training": {"epochs": 0}}, "training.epochs"),
    ("bad image_size", {"data": {"image_size": [1, 1]}}, "data.image_size"),
    ("augment on points", {"data": {"source": "moons"}, "model": {"augment_flip": True}}, "image data only"),
]  # fmt: skip


def _run_cli(args, timeout=60):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "fitgap_gui.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    return proc, time.perf_counter() - start


def _assert_one_error_line(err: str, must_hold: str, file_hint: str | None) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert must_hold in lines[0]
    if file_hint:
        assert file_hint in lines[0]
    assert "Traceback" not in err


@pytest.mark.parametrize(("case", "make", "expected"), BAD_DATA, ids=[b[0] for b in BAD_DATA])
def test_bad_data_file_exits_2_with_one_line(tmp_path, capsys, case, make, expected):
    path = make(tmp_path)
    assert main(["train", "--data", path, "--epochs", "1"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    _assert_one_error_line(err, expected, os.path.basename(path))


@pytest.mark.parametrize(("case", "raw", "expected"), BAD_CONFIG, ids=[b[0] for b in BAD_CONFIG])
def test_bad_config_exits_2_with_one_line(tmp_path, capsys, case, raw, expected):
    path = _config(tmp_path, raw)
    assert main(["train", "--config", path, "--epochs", "1"]) == 2
    out, err = capsys.readouterr()
    _assert_one_error_line(err, expected, None if case == "augment on points" else "run.json")


def test_bad_config_file_kinds(tmp_path, capsys):
    for path, expected in [
        (tmp_path / "none.json", "no such config file"),
        (tmp_path, "is a folder"),
    ]:
        assert main(["train", "--config", str(path)]) == 2
        _assert_one_error_line(capsys.readouterr().err, expected, str(path))


def test_subprocess_bad_file_is_quick_and_never_imports_tensorflow(tmp_path):
    """The real command: exit 2, one line, and TensorFlow never loaded on that path."""
    bad = _write(tmp_path, "bad.csv", "a,b,label\n1,2,x\n3,oops,y\n")
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['fitgap', 'train', '--data', sys.argv[1]]\n"
        "try:\n"
        "    runpy.run_module('fitgap_gui.cli', run_name='__main__')\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules, code)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe, bad], capture_output=True, text=True, timeout=60
    )
    assert proc.stdout.strip() == "False False 2", proc.stderr
    _assert_one_error_line(proc.stderr, "line 3, column 'b'", "bad.csv")

    proc, seconds = _run_cli(["train", "--data", bad])
    assert proc.returncode == 2
    _assert_one_error_line(proc.stderr, "'oops' is not a number", "bad.csv")
    assert seconds < 10.0  # about a second on a quiet machine; generous for shared CI


def test_subprocess_pickled_npz(tmp_path):
    path = _pickled_npz(tmp_path)
    proc, _ = _run_cli(["train", "--data", path])
    assert proc.returncode == 2
    _assert_one_error_line(proc.stderr, "pickled Python objects", "objects.npz")


class _Exploit:
    """Unpickling this would create a file; the test checks that it never happens."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_pickle_payload_never_runs(tmp_path, capsys):
    marker = tmp_path / "ran"
    payload = np.empty(1, dtype=object)
    payload[0] = _Exploit(str(marker))
    path = _npz(tmp_path, "evil.npz", x=payload, y=np.array([0]))
    assert main(["train", "--data", path]) == 2
    _assert_one_error_line(capsys.readouterr().err, "pickled Python objects", "evil.npz")
    assert not marker.exists()


def _loop(tmp_path, name: str) -> str:
    link = tmp_path / name
    link.symlink_to(link)
    return str(link)


#: Paths that used to give a traceback or a misleading line: (case, make, must hold).
BAD_PATHS = [
    ("path of 5000", lambda t: str(t.joinpath(*["d" * 200] * 25, "x.csv")), "too long for the file system"),
    ("component of 300", lambda t: str(t / ("n" * 300 + ".npz")), "the file system allows 255"),
    ("symlink loop csv", lambda t: _loop(t, "loop.csv"), "symbolic link loop"),
    ("symlink loop npz", lambda t: _loop(t, "loop.npz"), "symbolic link loop"),
    ("fifo npz", lambda t: (os.mkfifo(t / "pipe.npz"), str(t / "pipe.npz"))[1], "FIFO"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "make", "expected"), BAD_PATHS, ids=[b[0] for b in BAD_PATHS])
def test_bad_data_path_exits_2_with_one_line(tmp_path, capsys, case, make, expected):
    path = make(tmp_path)
    assert main(["train", "--data", path, "--epochs", "1"]) == 2
    _assert_one_error_line(capsys.readouterr().err, expected, os.path.basename(path)[-100:])


@pytest.mark.parametrize(
    ("case", "make", "expected"),
    [
        ("duplicate key", lambda t: _config(t, '{"training": {"epochs": 9, "epochs": 2}}'), "'epochs' appears twice"),
        ("fifo", lambda t: (os.mkfifo(t / "run.json"), str(t / "run.json"))[1], "FIFO"),
        ("symlink loop", lambda t: _loop(t, "run.json"), "symbolic link loop"),
        ("component of 300", lambda t: str(t / ("r" * 300 + ".json")), "the file system allows 255"),
    ],
)  # fmt: skip
def test_bad_config_path_exits_2_with_one_line(tmp_path, capsys, case, make, expected):
    assert main(["train", "--config", make(tmp_path), "--epochs", "1"]) == 2
    _assert_one_error_line(capsys.readouterr().err, expected, None)


#: Image-folder paths given in a config: one line each, never "no such folder" for a loop.
BAD_FOLDERS = [
    ("folder path of 5000", lambda t: str(t.joinpath(*["d" * 200] * 25, "pics")), "too long for the file system"),
    ("folder name of 300", lambda t: str(t / ("p" * 300)), "the file system allows 255"),
    ("folder symlink loop", lambda t: _loop(t, "pics"), "symbolic link loop"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "make", "expected"), BAD_FOLDERS, ids=[b[0] for b in BAD_FOLDERS])
def test_bad_image_folder_in_a_config_exits_2_with_one_line(tmp_path, capsys, case, make, expected):
    config = _config(tmp_path, {"data": {"source": "images", "path": make(tmp_path)}})
    assert main(["train", "--config", config, "--epochs", "1"]) == 2
    _assert_one_error_line(capsys.readouterr().err, expected, None)


def _empty_train_npz(tmp_path):
    x, y = np.zeros((6, 2), np.float32), np.array([0, 1] * 3)
    return _npz(tmp_path, "empty_train.npz", x_train=x[:0], y_train=y[:0], x_val=x, y_val=y)


def _big_header_npz(tmp_path):
    import zipfile

    text = "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 2), }" + " " * 20_000 + "\n"
    header = b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode()
    path = tmp_path / "header.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x.npy", header + bytes(32))
        archive.writestr("y.npy", header + bytes(32))
    return str(path)


#: Inputs that used to crash or be misreported: (case, make, text the one line must hold).
BAD_INPUTS_ROUND_TWO = [
    ("decimal comma", lambda t: _write(t, "comma.csv", "a;b;label\n" + "".join(f"{i};{i},5;{'ab'[i % 2]}\n" for i in range(9))), "line 2, column 'b': '0,5' is not a number (a decimal comma"),
    ("utf-16 csv", lambda t: _write(t, "wide.csv", "a,b,label\n1,2,x\n".encode("utf-16")), "save it as UTF-8"),
    ("mixed delimiters", lambda t: _write(t, "mixed.csv", "a,b,label\n1;2;x\n3;4;y\n"), "delimiters are mixed"),
    ("empty x_train", _empty_train_npz, "the training arrays hold no samples"),
    ("npy header too large", _big_header_npz, "larger than numpy's safety limit"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "make", "expected"), BAD_INPUTS_ROUND_TWO, ids=[b[0] for b in BAD_INPUTS_ROUND_TWO]
)
def test_round_two_inputs_exit_2_with_one_line(tmp_path, capsys, case, make, expected):
    path = make(tmp_path)
    assert main(["train", "--data", path, "--epochs", "1"]) == 2
    _assert_one_error_line(capsys.readouterr().err, expected, os.path.basename(path))
