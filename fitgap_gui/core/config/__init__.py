"""What a run is: its settings (``RunConfig``), the levers and data sources they name.

- ``schema``: ``RunConfig`` and its four sections, validated, with a JSON round trip.
- ``levers``: every lever defined once (key, label, range, tooltip, wording).
- ``sources``: every data source defined once (name, label, kind, handicaps).
- ``monitor``: which way a monitored metric improves, and ``RunningBest``, the one
  running best (min_delta, ties, NaN).
- ``presets`` and ``defaults``: partial config files, and the window's default setup.
"""
