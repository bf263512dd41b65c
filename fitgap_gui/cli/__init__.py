"""The ``fitgap`` command line: one module per group of commands, on the same engine.

``main`` parses and dispatches (``cli/main.py``); ``common`` holds what every command
shares; ``train``, ``runs`` (with ``store`` and ``export``) and ``experiments`` (``sweep``,
``compare``) hold the commands.
"""

from fitgap_gui.cli.common import executor_from_args
from fitgap_gui.cli.main import build_parser, main, run

__all__ = ["build_parser", "executor_from_args", "main", "run"]
