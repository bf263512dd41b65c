"""Build and compile the Keras model of a RunConfig: plain Keras, nothing added.

The layer stack is exactly the one in DESIGN.md's faithfulness contract, so a run
can be repeated by the plain program that "Export as Keras script" writes.
"""

from __future__ import annotations

from .config import ModelConfig, TrainingConfig


def kernel_regularizer(model_cfg: ModelConfig):
    """Keras's own L1/L2 penalty for the hidden layers' kernels, or None."""
    from keras import regularizers

    if model_cfg.l1 and model_cfg.l2:
        return regularizers.l1_l2(l1=model_cfg.l1, l2=model_cfg.l2)
    if model_cfg.l2:
        return regularizers.l2(model_cfg.l2)
    if model_cfg.l1:
        return regularizers.l1(model_cfg.l1)
    return None


def make_optimizer(training_cfg: TrainingConfig):
    from keras import optimizers

    classes = {
        "adam": optimizers.Adam,
        "adamw": optimizers.AdamW,
        "sgd": optimizers.SGD,
        "rmsprop": optimizers.RMSprop,
        "nadam": optimizers.Nadam,
    }
    return classes[training_cfg.optimizer](learning_rate=training_cfg.learning_rate)


def build_model(model_cfg: ModelConfig, input_shape: tuple[int, ...], n_classes: int):
    """The uncompiled Sequential model: [Flatten], (Dense [+ Dropout]) per layer, softmax."""
    import keras

    layers: list = [keras.Input(shape=input_shape)]
    if len(input_shape) > 1:
        layers.append(keras.layers.Flatten())
    for units in model_cfg.hidden_units:
        layers.append(
            keras.layers.Dense(
                units,
                activation=model_cfg.activation,
                kernel_regularizer=kernel_regularizer(model_cfg),
            )
        )
        if model_cfg.dropout > 0:
            layers.append(keras.layers.Dropout(model_cfg.dropout))
    layers.append(keras.layers.Dense(n_classes, activation="softmax"))
    return keras.Sequential(layers)


def compile_model(model, training_cfg: TrainingConfig, steps_per_execution: int = 1) -> None:
    model.compile(
        optimizer=make_optimizer(training_cfg),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
    )
