"""One run, from a config to a finished store row.

- ``training``: ``train`` with plain Keras ``model.fit``, streaming each epoch.
- ``session``: ``run_recorded``: load, train and keep every epoch in the store.
- ``branching``: pause, continue and branch a run.
- ``live``: plain records of the runs the window shows.
- ``insights_probe``: the insight views, computed on the training thread.
- ``provenance``: versions, seeds and data fingerprints, to repeat a run.
"""
