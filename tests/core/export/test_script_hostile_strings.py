"""Hostile strings in an exported Keras script: a run name, a data path, a CSV header.

Each string of the corpus lands where the user's text lands in the program (the
docstring, ``DATA_PATH``, a comment); the program must compile, hold the string
exactly as a value (the docstring reads back as the name, ``DATA_PATH`` as the path),
and never turn it into code: no name in the program is ``system``, ``__import__`` or
``exec``.  The payload cases also run as real programs in a subprocess (tiny data,
one epoch), and the file their payload would create never appears.
"""

from __future__ import annotations

import ast
import csv
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.export.files import export_runs
from fitgap_gui.core.export.script import keras_script
from fitgap_gui.core.export.script_branch import BranchPlan
from fitgap_gui.core.run.session import run_recorded
from fitgap_gui.core.store.runstore import RunStore

#: Written in place of MARKER by each payload; it must never exist.
MARKER = "/tmp/fitgap-PWNED"


def _payloads(marker: str) -> list[str]:
    touch = f'__import__("os").system("touch {marker}")'
    return [
        f'x""" if {touch} == 0 else """',
        f"x''' if {touch} == 0 else '''",
        f'"""; {touch}; """',
        f'\\"""; {touch}; #',
        f"line one\n{touch}\n#",
        f"cr\r{touch}\r#",
        f"ls\u2028{touch}",
        f'" + {touch} + "',
        f"' + {touch} + '",
        f"{{{touch}}}",
    ]


#: Strings that are not code but have broken generated programs, or could.
ODD = [
    "results in C:\\Users\\nina",
    "ends in a backslash \\",
    "\\N{BULLET} \\x41 \\u0041 \\",
    'ends in a quote "',
    '\'"\'\'\'""""',
    "{}{0}{name}%s%(x)s",
    "\x00\x01\x07\x08\x0b\x0c\x1b[31mred\x1b]0;pwned\x07\x7f\x85\x9b",
    "emoji 😀 run 🎉 𝄞",
    "bidi \u202eevil\u202c \u2066iso\u2069",
    "tab\there",
    "# not a comment",
    "",
    " ",
]

CORPUS = _payloads(MARKER) + ODD
#: Not storable in SQLite, not a file name, but a str all the same (a surrogate-escaped path).
TITLE_ONLY = ["lone surrogate \udcff \ud83d"]
#: What the payloads call; the program itself never names them.
FORBIDDEN_NAMES = {"system", "__import__", "exec", "eval"}


def _assert_inert(source: str) -> ast.Module:
    """``source`` compiles, and the user's text became no name or attribute in it."""
    compile(source, "exported_script.py", "exec")
    source.encode("utf-8")  # what the exporter writes: no lone surrogates leaked through
    tree = ast.parse(source)
    for node in ast.walk(tree):
        name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
        assert name not in FORBIDDEN_NAMES, ast.unparse(node)
    return tree


@pytest.mark.parametrize("text", CORPUS + TITLE_ONLY, ids=range(len(CORPUS + TITLE_ONLY)))
def test_run_name_stays_text_in_the_docstring(text):
    title = f"FitGap run 1 ({text})"
    tree = _assert_inert(keras_script(RunConfig(), input_rank=1, title=title))
    docstring = ast.get_docstring(tree, clean=False)
    # The name is kept exactly, with runs of whitespace made one space (one line).
    assert docstring.startswith(" ".join(title.split()) + ", as a plain Keras program")


@pytest.mark.parametrize("text", CORPUS + TITLE_ONLY)
def test_run_name_stays_text_in_a_branched_runs_script(text):
    """A branched run's program (the parent's epochs, then the branch) escapes it too."""
    parent = RunConfig().replace({"model.dropout": 0.2})
    child = parent.replace({"model.dropout": 0.4, "training.learning_rate": 0.003})
    title = f"FitGap run 2 ({text})"
    source = keras_script(child, input_rank=1, title=title, branch=BranchPlan(parent, 2, 1))
    tree = _assert_inert(source)
    assert ast.get_docstring(tree, clean=False).startswith(" ".join(title.split()) + ", as a")
    assert '"rate": 0.2' in source.split("PARENT_LAYERS = ")[1].split("\n]")[0]


def _safe_file_name(text: str) -> str:
    """``text`` as one path component: Linux forbids only '/' and NUL."""
    name = text.replace("/", "_").replace("\x00", "_")
    return name if name.strip(".") else f"dots{name}"


def _write_csv(path, header: list[str] | None, labels=("a", "b")) -> None:
    rng = np.random.default_rng(0)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        if header:
            writer.writerow(header)
        for i in range(40):
            x1, x2 = rng.normal(size=2) + i % 2
            writer.writerow([f"{x1:.5f}", f"{x2:.5f}", labels[i % 2]])


@pytest.mark.parametrize("text", CORPUS, ids=range(len(CORPUS)))
def test_data_path_round_trips_as_a_value(tmp_path, text):
    path = tmp_path / f"in {_safe_file_name(text)}" / "data.csv"
    _write_csv(path, ["f1", "f2", "label"])
    config = RunConfig.from_dict({"data": {"source": "csv", "path": str(path)}})
    source = keras_script(config, input_rank=1)
    _assert_inert(source)
    namespace: dict = {"__name__": "exported_script"}
    exec(compile(source, "exported_script.py", "exec"), namespace)
    assert namespace["DATA_PATH"] == str(path)
    loaded = namespace["load_data"]()  # the file was found and read: 8 test rows first,
    assert (len(loaded[0]), len(loaded[2]), len(loaded[4])) == (25, 7, 8)  # then 7 of 32


LINE_SAFE = [t for t in CORPUS if len(t.splitlines()) == 1 and t.strip() and "\x00" not in t]


@pytest.mark.parametrize("text", LINE_SAFE, ids=range(len(LINE_SAFE)))
def test_csv_header_stays_a_value(tmp_path, text):
    path = tmp_path / "data.csv"
    _write_csv(path, ["f1", "f2", f"label {text}"])
    config = RunConfig.from_dict({"data": {"source": "csv", "path": str(path)}})
    source = keras_script(config, input_rank=1)
    _assert_inert(source)
    namespace: dict = {"__name__": "exported_script"}
    exec(compile(source, "exported_script.py", "exec"), namespace)
    assert namespace["TABLE_PLAN"]["label"] == f"label {text}"  # a value, never code


# -- the programs run ------------------------------------------------------------------------------
TINY = {
    "model": {"hidden_units": [4]},
    "training": {"epochs": 1, "batch_size": 16, "seed": 2},
}


def _run(path, cwd) -> dict:
    out = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=240, cwd=cwd
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_exported_programs_with_payloads_run_and_run_no_payload(tmp_path):
    """Two real exports, every payload of the corpus in the name, the path and the labels.

    The programs run in ``tmp_path``, where the payloads' relative ``touch PWNED`` would
    leave its file (short payloads: each is one component of the data's path)."""
    marker = tmp_path / "PWNED"
    payloads = _payloads("PWNED")
    store = RunStore()

    # A CSV under folders named after the payloads, its header and labels hostile too.
    folder = tmp_path.joinpath(*(_safe_file_name(p) for p in payloads), "C:\\Users\\nina 😀")
    csv_path = folder / "data 😀.csv"
    _write_csv(csv_path, ["f1", "f2", payloads[0].splitlines()[0]], labels=payloads[:2])
    config = RunConfig.from_dict({**TINY, "data": {"source": "csv", "path": str(csv_path)}})
    csv_run = run_recorded(config, store, name=payloads[0])
    store.rename_run(csv_run.run_id, "\n".join(payloads) + " C:\\Users\\nina \\")

    # An image folder under the same hostile folder, class folders named as payloads.
    rng = np.random.default_rng(0)
    pictures = folder / "pictures"
    for cls in (payloads[1].replace("/", "_"), "\x1b]0;pwned\x07 😀"):
        (pictures / cls).mkdir(parents=True)
        for i in range(6):
            pixels = rng.integers(0, 256, size=(6, 6, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(pictures / cls / f"{i}.png")
    config = RunConfig.from_dict(
        {**TINY, "data": {"source": "images", "path": str(pictures), "image_size": [6, 6]}}
    )
    image_run = run_recorded(config, store, name="".join(reversed(payloads)))

    for run in (csv_run, image_run):
        (script,) = export_runs(store, "script", [run.run_id], tmp_path / f"run{run.run_id}.py")
        _assert_inert(script.read_text(encoding="utf-8"))
        history = _run(script, cwd=tmp_path)
        assert not marker.exists()
        assert len(history["loss"]) == 1
        assert abs(history["loss"][0] - run.history["loss"][0]) <= 1e-4  # the same data
