"""``python -m fitgap_gui``: the ``fitgap`` command (alone, it opens the window).

The desktop launcher starts FitGap this way, with the interpreter it was installed from.
"""

from fitgap_gui.cli import run

run()
