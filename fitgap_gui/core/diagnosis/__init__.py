"""What a history says: a verdict with its advice, and what the network learned.

- ``verdict``: ``diagnose(history, config)``: verdict, onset, numbers.
- ``advice``: ranked advice for a verdict, and what early stopping would have done.
- ``own_model``: the same for a user's own model recorded by ``FitGapCallback``.
- ``insights``: confusion matrix, confident mistakes, decision grids as plain arrays.
"""
