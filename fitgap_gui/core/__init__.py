"""FitGap's engine: configuration, data, Keras model and training, run store.

Nothing in this package imports Qt or pyqtgraph (an import-linter contract in
pyproject.toml keeps it so), and TensorFlow is only imported by the modules that
build or train a model, so validating a config or a data file stays fast.
"""
