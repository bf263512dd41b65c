"""The network of a run: building and compiling it, and what it measures on top of Keras.

- ``build``: the plans, a run's network (``layer_plan``) and training
  (``training_plan``) as plain data, and the engine's entry points that build from them.
- ``layers``, ``optimizer``: Keras from a plan; plain Keras code, carried whole by the
  exported script.
- ``measurements``: the inference-mode measurements of the training set, each epoch,
  and the delivered model's test numbers, once at a run's end (``evaluate_delivered``).
- ``memory``: what a model will need, estimated before TensorFlow builds a layer.
"""
