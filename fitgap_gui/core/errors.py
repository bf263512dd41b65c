"""FitGap's own error types: bad input the user can fix, said in one line."""

from __future__ import annotations


class FitGapError(ValueError):
    """Bad input the user can fix: a config value, a data file, a run id.

    The message is one line that says what is wrong and where; the CLI prints it
    as ``error: <message>`` and exits with 2, the window shows it in a dialog.
    """


class ConfigError(FitGapError):
    """A run configuration with an unknown key or an out-of-range value."""


class DataError(FitGapError):
    """A data source that cannot be loaded or is unfit for training."""


class RunNotFoundError(FitGapError):
    """A run id that the store does not hold."""
