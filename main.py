#!/usr/bin/env python3
"""Double-click entry point: start the FitGap window from a checkout.

A file manager runs this with whatever ``python3`` is first on the PATH, which is
often not the one FitGap was installed into.  When the dependencies are missing
here but the README's ``.venv`` sits next to this file, hand over to that
interpreter; otherwise say how to install, instead of a traceback.
"""

import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
NEEDED = ("PySide6", "pyqtgraph", "platformdirs")


def _venv_python() -> str | None:
    for relative in (".venv/bin/python", ".venv/Scripts/python.exe"):
        candidate = os.path.join(HERE, relative)
        if os.path.isfile(candidate):
            return candidate
    return None


def _missing() -> list[str]:
    return [name for name in NEEDED if importlib.util.find_spec(name) is None]


if __name__ == "__main__":
    missing = _missing()
    if missing:
        venv = _venv_python()
        # A venv's python is a link to the base interpreter, so compare prefixes, and
        # hand over once only.
        venv_prefix = os.path.join(HERE, ".venv")
        if (
            venv
            and os.path.abspath(sys.prefix) != venv_prefix
            and "FITGAP_HANDED_OVER" not in os.environ
        ):
            os.environ["FITGAP_HANDED_OVER"] = "1"
            os.execv(venv, [venv, os.path.abspath(__file__), *sys.argv[1:]])
        print(
            f"FitGap needs {', '.join(missing)}, which this Python ({sys.executable}) lacks.\n"
            f"Install it once with:\n  cd {HERE}\n"
            "  python3.11 -m venv .venv && .venv/bin/pip install -e .\n"
            "then start it with .venv/bin/python main.py (or double-click main.py again).",
            file=sys.stderr,
        )
        sys.exit(2)
    # Run from a plain checkout too: the package sits next to this file.
    sys.path.insert(0, HERE)
    from fitgap_gui.app import main

    sys.exit(main(sys.argv))
