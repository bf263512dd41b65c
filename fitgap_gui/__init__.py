"""FitGap: see the train/validation gap and close it, with real Keras."""

__version__ = "0.1.0"
