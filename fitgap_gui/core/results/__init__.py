"""What runs produce, as plain records, and the rules read from them.

- ``records``: ``EpochMetrics`` per epoch and ``RunResult`` per run; ``best_epoch``.
- ``status``: a run's final status, decided once (FitGap's engine and ``FitGapCallback``).
- ``early_stopping``: Keras's early-stopping rule replayed on a history.
- ``stats``: means with their 95 % intervals, and paired comparisons over seeds.
"""
