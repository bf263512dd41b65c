"""The data of a run: reading a source, splitting it, preparing its arrays.

- ``readers``: one reader per file kind (CSV, NPZ, image folder, Keras cache), each
  returning ``RawData``.
- ``datasets``: the built-in sets, ``read_source`` and ``load_dataset`` (split,
  subsample, label noise, scaling) and ``preview`` for the open-data dialog.
- ``splits`` and ``sklearn_sets``: scikit-learn's split and toy sets, drawn without
  importing scikit-learn.
"""
