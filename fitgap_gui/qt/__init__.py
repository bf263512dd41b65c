"""The Qt face of FitGap: PySide6 widgets and pyqtgraph plots over fitgap_gui.core."""
