"""The run store: SQLite in the user's data folder.

- ``runstore``: ``RunStore``, the store's one entry point (it re-exports the names below).
- ``tables``: the schema, and the columns added on open to stores written before them.
- ``faults``: ``StoreError`` and the one line for each fault of the store itself.
- ``owners``: which process owns a running run, and whether it is still alive.
- ``stored``: ``StoredRun``, a run as the store holds it.
- ``repair``: the integrity check and the salvage of a damaged store.
"""
