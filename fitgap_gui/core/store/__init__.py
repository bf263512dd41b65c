"""The run store: SQLite in the user's data folder.

- ``runstore``: ``RunStore``, ``StoredRun``, ``StoreError``.
- ``repair``: the integrity check and the salvage of a damaged store.
"""
