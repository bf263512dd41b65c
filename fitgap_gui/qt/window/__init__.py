"""The main window: layout and the run lifecycle, its menus (file, view, help, presets),
exports, settings and the busy indicator."""
