"""The network of a run: building and compiling it, and what it measures on top of Keras.

- ``build``: the Keras model of a ``RunConfig``, its optimizer and schedule.
- ``measurements``: the inference-mode measurements of the training set, each epoch.
- ``memory``: what a model will need, estimated before TensorFlow builds a layer.
"""
