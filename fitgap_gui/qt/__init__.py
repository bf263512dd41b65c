"""The Qt face of FitGap: PySide6 widgets and pyqtgraph plots over fitgap_gui.core.

One model, many views (docs/ARCHITECTURE.md, "Modules", qt/):

- ``runtime/``: work off the GUI thread and the model it feeds: ``background``
  (``BackgroundTask``, the one way to run work on a thread), ``worker``
  (``TrainingController``, the training thread) and ``live_runs`` (``LiveRuns``, the
  runs on screen, with each run's view state).
- ``plots/``: the curve plots (``plots``: ``PlotsPanel``; curves, markers, ranges, the
  paint scheduler, bands, hover, countdown and themes each in a module of its own).
- ``panels/``: the views beside the plots, each handed the model in its constructor:
  controls, runs, diagnosis, experiments, insights.
- ``dialogs/``: open data, plan a sweep.
- ``window/``: ``MainWindow`` (layout and the run lifecycle), ``PlotsAdapter`` (the model
  drawn on the plots), and its menus and helpers: settings, view and help menus, presets,
  exports, the busy indicator; they reach the window through the Protocols of ``host``.
"""
