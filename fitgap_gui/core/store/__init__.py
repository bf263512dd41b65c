"""The run store: SQLite in the user's data folder.

- ``runstore``: ``RunStore``: create, append, finish, read, rename and delete runs.
- ``stored``: ``StoredRun``, a run as the store holds it.
- ``tables``: the schema, and the columns added to stores written before them.
- ``owners``: which process owns a running run, and whether it still lives.
- ``faults``: faults of the store itself, as one ``StoreError`` line each.
- ``repair``: the integrity check and the salvage of a damaged store.
"""
