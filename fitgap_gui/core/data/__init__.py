"""The data of a run: reading a source, splitting it, preparing its arrays.

- ``readers``: one reader per file kind (table files, NPZ, image folder, Keras cache),
  each returning ``RawData`` (with the source's own validation and test parts, if any);
  ``readers.tablefile.inspect_table`` reports a table's columns for the preview.
- ``datasets``: ``read_source`` and ``load_dataset`` (the checks, the splits, then the
  steps) and ``preview`` for the open-data dialog.
- ``steps``: the test part (drawn first, on its own stream), the validation split,
  subsample, label noise (training labels only) and scaling; ``toys``: the drawn
  built-in sets.  Plain numpy, so the exported Keras script carries them.
- ``tableprep``: a table's preparation (pandas and scikit-learn's ColumnTransformer),
  fitted on the training rows; the exported Keras script carries it too.
- ``splits`` and ``sklearn_sets``: scikit-learn's split and toy sets, drawn without
  importing scikit-learn.
"""
