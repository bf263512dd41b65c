"""The text an exported Keras script is written with, and what every program shares.

User text (a run's name, a path, a CSV header) only enters a program through
``literal`` (a value, as the run's plans do), ``comment_text`` (a ``#`` comment) or
``docstring_text``; FitGap's own code through ``copied`` and ``carried`` (its source).
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable
from types import ModuleType
from typing import Any

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.model.build import layer_plan, training_plan
from fitgap_gui.core.textsafe import printable


class ScriptExportError(FitGapError):
    """A run whose settings the Keras script generator cannot write out faithfully."""


def literal(value: object, indent: int = 0, room: int = 1000) -> str:
    """Python source for a plain value (dicts, lists, tuples, strings, numbers, None), built
    by ``repr`` so that any string round-trips (quotes, backslashes, newlines, controls
    escaped; emoji kept whole), in double quotes where that needs no escape.  A dict or
    list longer than ``room`` columns gets one entry per line, as ruff lays it out."""
    if isinstance(value, dict | list | tuple):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        pairs = [(f"{literal(k)}: " if isinstance(value, dict) else "", v) for k, v in items]
        one = ", ".join(head + literal(v) for head, v in pairs)
        ends = "{}" if isinstance(value, dict) else "[]" if isinstance(value, list) else "()"
        if isinstance(value, tuple) or len(one) + 2 <= room or not pairs:
            return ends[0] + one + ("," if len(pairs) == 1 and ends == "()" else "") + ends[1]
        pad = " " * (indent + 4)
        lines = [f"{pad}{h}{literal(v, indent + 4, 99 - len(pad + h))},\n" for h, v in pairs]
        return ends[0] + "\n" + "".join(lines) + " " * indent + ends[1]
    text = repr(value)
    # repr picks single quotes unless the string holds one; with no double quote in
    # it either, the same body is valid between double quotes.
    if isinstance(value, str) and text.startswith("'") and '"' not in value:
        text = '"' + text[1:-1] + '"'
    return text


def comment_text(text: str) -> str:
    """``text`` for the rest of a ``#`` comment line: nothing in it can end the line."""
    return printable(text)


def docstring_text(text: str) -> str:
    """``text`` for the inside of a triple-double-quoted string whose value is then
    ``text`` exactly: backslashes and double quotes are escaped, so nothing in it can
    end the string, start an escape of its own, or end the line."""
    return printable(text.replace("\\", "\\\\").replace('"', '\\"'))


def copied(*functions: Callable[..., Any] | type) -> str:
    """The source of FitGap's own functions (or classes), two blank lines apart: the
    program runs the engine's code, not a second implementation of it."""
    return "\n\n".join(inspect.getsource(f) for f in functions)


def carried(module: ModuleType) -> str:
    """A module of the engine whole, but its docstring and imports.  Such a module uses
    only what the program defines or imports itself: numpy, Keras (imported inside its
    functions), the standard library and the other carried modules."""
    source, start = inspect.getsource(module), 0
    for node in ast.parse(source).body:  # the docstring and imports come first
        if not isinstance(node, ast.Expr | ast.Import | ast.ImportFrom):
            break
        start = node.end_lineno or start
    return "\n".join(source.splitlines()[start:]).strip("\n") + "\n"


def plan_consts(
    config: RunConfig,
    input_shape: tuple[int, ...],
    image_shape: tuple[int, ...] | None,
    epochs: int | None = None,
    prefix: str = "",
) -> list[str]:
    """A run's levers as constants: batch size, epochs, its layer plan and training plan
    (``core.model.build``); ``epochs`` overrides the config's (a run stopped sooner)."""
    t = config.training
    return [
        f"{prefix}BATCH_SIZE = {t.batch_size!r}",
        f"{prefix}EPOCHS = {t.epochs if epochs is None else epochs!r}",
        f"{prefix}LAYERS = {literal(layer_plan(config.model, input_shape, image_shape), room=0)}",
        f"{prefix}TRAINING = {literal(training_plan(t, config.early_stopping), room=0)}",
    ]


#: ``model.fit`` as every program calls it (a branch adds its ``initial_epoch``).
FIT = """    history = model.fit(
        x_train,
        y_train,
        batch_size={batch_size},
        epochs={epochs},{initial_epoch}
        validation_data=(x_val, y_val),
        callbacks=callbacks,
        shuffle=True,
        verbose=0,
    )
"""

#: The delivered model judged once on the test part, after fit, before the history's line.
JUDGE = """    x_test, y_test = test_part or (None, None)
    if x_test is not None:  # the data has a test part: nothing above has seen it
        early = [c for c in callbacks if isinstance(c, keras.callbacks.EarlyStopping)]
        epoch = delivered_epoch(early[0] if early else None, {epochs_run})
        rows = chunk_rows(widest_layer(LAYERS, x_train.shape[1:]))
        test = evaluate_delivered(model, x_test, y_test, epoch, rows_per_call=rows)
        print(json.dumps({{"test": test}}))
"""
