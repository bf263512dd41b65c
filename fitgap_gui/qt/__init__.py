"""The Qt face of FitGap: PySide6 widgets and pyqtgraph plots over fitgap_gui.core.

One model, many views (docs/ARCHITECTURE.md, "Modules", qt/):

- ``runtime/``: work off the GUI thread and the model it feeds: ``background``
  (``BackgroundTask``, the one way to run work on a thread), ``worker``
  (``TrainingController``, the training thread) and ``live_runs`` (``LiveRuns``, the
  runs on screen, and ``PlotsAdapter``, which draws them).
- ``plots/``: the three curve plots (``plots``, drawn items in ``plot_items``), their hover
  readout and the themes.
- ``panels/``: the views beside the plots, each handed the model in its constructor:
  controls, runs, diagnosis, experiments, insights.
- ``dialogs/``: open data, plan a sweep.
- ``window/``: ``MainWindow`` (layout and the run lifecycle) and its menus and helpers:
  settings, view and help menus, presets, exports, the busy indicator.
"""
