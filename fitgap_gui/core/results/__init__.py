"""What runs produce, as plain records, and the statistics over several of them.

- ``records``: ``EpochMetrics`` per epoch and ``RunResult`` per run.
- ``early_stopping``: Keras's early-stopping rule replayed on a history.
- ``status``: ``final_status``, a run's status from what happened during ``fit``.
- ``stats``: means with their 95 % intervals, and paired comparisons over seeds.
"""
