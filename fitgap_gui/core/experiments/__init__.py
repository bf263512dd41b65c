"""Experiments made of several runs, and where their runs train.

- ``plans``: compare remedies (each remedy's ladder), sweeps, validation and learning
  curves: plans, and running them.
- ``tables``: one row per run (the delivered model's test numbers, the best epoch's
  beside them) and one summary per arm, as text, JSON and CSV.
- ``executors``: this process, N worker processes, or a Ray cluster.
"""
