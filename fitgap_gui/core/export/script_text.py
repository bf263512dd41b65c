"""The pieces of text every part of an exported Keras script is written with.

User text (a run's name, a path, a CSV header) only ever enters the program through
``literal`` (a value), ``comment_text`` (a ``#`` comment) or ``docstring_text``;
FitGap's own code enters it through ``copied`` (the source of the engine's functions,
``inspect.getsource``), and the run's plan through ``plan_literal``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.model.build import layer_plan, training_plan


class ScriptExportError(FitGapError):
    """A run whose settings the Keras script generator cannot write out faithfully."""


def literal(value: object) -> str:
    """Python source for a plain value, built by ``repr`` so that any string round-trips
    (quotes, backslashes, newlines, controls escaped; emoji kept whole, never split into
    surrogates); strings in double quotes when that needs no escape, as ruff formats them."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        inner = ", ".join(literal(v) for v in value) + ("," if len(value) == 1 else "")
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    text = repr(value)
    # repr picks single quotes unless the string holds one; with no double quote in
    # it either, the same body is valid between double quotes.
    if isinstance(value, str) and text.startswith("'") and '"' not in value:
        text = '"' + text[1:-1] + '"'
    return text


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
        plan_literal(f"{prefix}LAYERS", layer_plan(config.model, input_shape, image_shape)),
        plan_literal(f"{prefix}TRAINING", training_plan(t, config.early_stopping)),
    ]


def plan_literal(name: str, value: list | dict) -> str:
    """``NAME = value``, one item or entry per line, as ruff would lay it out."""
    return f"{name} = {_laid_out(value, 0, 0)}"


def _laid_out(value: Any, indent: int, room: int) -> str:
    """``literal(value)`` on one line when it fits in ``room`` columns, else one item per
    line (each laid out in turn)."""
    one = literal(value)
    if len(one) <= room or not isinstance(value, list | dict) or not value:
        return one
    pad = " " * (indent + 4)
    pairs = value.items() if isinstance(value, dict) else (("", v) for v in value)
    lines = []
    for key, item in pairs:
        head = f"{pad}{literal(key)}: " if isinstance(value, dict) else pad
        lines.append(f"{head}{_laid_out(item, indent + 4, 99 - len(head))},\n")
    brackets = "{}" if isinstance(value, dict) else "[]"
    return brackets[0] + "\n" + "".join(lines) + " " * indent + brackets[1]


def _escape_unprintable(text: str, extra: dict[str, str]) -> str:
    """Each character of ``text`` that is not printable as ``repr`` escapes it (so no
    newline, CR, U+2028 or control survives), and each one in ``extra`` as given."""
    return "".join(
        extra[ch] if ch in extra else ch if ch.isprintable() else repr(ch)[1:-1] for ch in text
    )


def comment_text(text: str) -> str:
    """``text`` for the rest of a ``#`` comment line: nothing in it can end the line."""
    return _escape_unprintable(text, {})


def docstring_text(text: str) -> str:
    """``text`` for the inside of a triple-double-quoted string whose value is then
    ``text`` exactly: backslashes and double quotes are escaped, so nothing in it can
    end the string, start an escape of its own, or end the line."""
    return _escape_unprintable(text, {"\\": "\\\\", '"': '\\"'})


def copied(*functions: Callable[..., Any] | type) -> str:
    """The source of FitGap's own functions (or classes), two blank lines apart: the
    program runs the engine's code, not a second implementation of it."""
    return "\n\n".join(inspect.getsource(f) for f in functions)


def section(name: str) -> str:
    return f"# -- {name} " + "-" * (86 - len(name)) + "\n\n\n"
