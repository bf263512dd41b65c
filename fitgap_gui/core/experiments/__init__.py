"""Experiments made of several runs, and where their runs train.

- ``plans``: compare remedies, sweeps, validation and learning curves: plans and rows.
- ``executors``: this process, N worker processes, or a Ray cluster.
"""
