"""``python -m fitgap_gui.cli``: the ``fitgap`` command."""

from fitgap_gui.cli.main import run

if __name__ == "__main__":  # pragma: no cover
    run()
