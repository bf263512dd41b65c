"""What runs produce, as plain records, and the statistics over several of them.

- ``records``: ``EpochMetrics`` per epoch and ``RunResult`` per run.
- ``stats``: means with their 95 % intervals, and paired comparisons over seeds.
"""
