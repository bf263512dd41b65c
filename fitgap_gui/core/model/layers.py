"""The Keras model of a layer plan: the code both the engine and the exported script run.

A layer plan (``core.model.build.layer_plan``) is plain data, a list of dicts such as
``{"layer": "Dense", "units": 128, "activation": "relu", "l1": 0.0, "l2": 0.0}``: what
Keras's ``get_config()`` is to a model.  The functions below turn it into a model.  They
import Keras inside themselves (a deferred heavy import) and nothing from FitGap, so the
script writer copies their source into the standalone program (docs/ARCHITECTURE.md,
"Export as Keras script"): the program builds its model with this very code.
"""


def kernel_regularizer(l1, l2):
    """Keras's own L1/L2 penalty for a layer's kernel, or None."""
    import keras  # deferred: Keras is a heavy import

    if l1 and l2:
        return keras.regularizers.l1_l2(l1=l1, l2=l2)
    if l2:
        return keras.regularizers.l2(l2)
    if l1:
        return keras.regularizers.l1(l1)
    return None


def make_layer(spec):
    """One Keras layer of a plan: ``spec["layer"]`` names the class, the other keys are
    its arguments, except ``l1``/``l2``, which make its kernel regularizer."""
    import keras  # deferred: Keras is a heavy import

    args = {key: value for key, value in spec.items() if key not in ("layer", "l1", "l2")}
    if "l1" in spec or "l2" in spec:
        args["kernel_regularizer"] = kernel_regularizer(spec.get("l1"), spec.get("l2"))
    return getattr(keras.layers, spec["layer"])(**args)


def build_model(layers, input_shape, n_classes):
    """The uncompiled Sequential model: the Input, the plan's layers, the softmax output."""
    import keras  # deferred: Keras is a heavy import

    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            *(make_layer(spec) for spec in layers),
            keras.layers.Dense(n_classes, activation="softmax"),
        ]
    )
