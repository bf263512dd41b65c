"""The exported script carries the engine's own code, and that code can travel alone.

A carried module (``export.script_text.carried``) goes into the program without its
imports, so it may import only what every program imports (the standard library's
``math`` and ``numbers``, numpy) or another carried module; Keras, scikit-learn and
Pillow only inside a function.
"""

from __future__ import annotations

import ast
import inspect

import pytest

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data import sklearn_sets, splits, steps, tableprep, toys
from fitgap_gui.core.export.script import keras_script
from fitgap_gui.core.export.script_branch import CARRIED, BranchPlan
from fitgap_gui.core.model import layers, measurements, optimizer

CARRIED_MODULES = (layers, optimizer, measurements, splits, steps, toys, sklearn_sets, tableprep)
PROGRAM_IMPORTS = {"__future__", "math", "numbers", "typing", "numpy"}


@pytest.mark.parametrize("module", CARRIED_MODULES, ids=lambda m: m.__name__)
def test_a_carried_module_imports_only_what_the_program_has(module):
    carried_names = {m.__name__ for m in CARRIED_MODULES}
    tree = ast.parse(inspect.getsource(module))
    for node in tree.body:
        if isinstance(node, ast.Import):
            assert {a.name for a in node.names} <= PROGRAM_IMPORTS, ast.unparse(node)
        elif isinstance(node, ast.ImportFrom):
            assert node.module in PROGRAM_IMPORTS | carried_names, ast.unparse(node)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    names = [inner.module] if isinstance(inner, ast.ImportFrom) else []
                    names += [a.name for a in getattr(inner, "names", [])]
                    assert not any("fitgap" in str(n) for n in names), ast.unparse(inner)


def test_the_program_holds_the_engines_functions_verbatim():
    parent = RunConfig().replace({"model.dropout": 0.2, "data.label_noise": 0.1})
    child = parent.replace({"model.dropout": 0.4})
    text = keras_script(child, input_shape=(64,), image_shape=(8, 8), branch=BranchPlan(parent, 2))
    functions = [layers.make_layer, optimizer.compile_model, optimizer.learning_rate_log]
    functions += [measurements.make_train_eval_callback, steps.prepare, splits.split_rows]
    for f in [*functions, *CARRIED]:
        assert inspect.getsource(f) in text, f.__name__
    assert "fitgap" not in "".join(
        ast.unparse(n)
        for n in ast.walk(ast.parse(text))
        if isinstance(n, ast.Import | ast.ImportFrom)
    )
