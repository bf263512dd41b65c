"""The live plots (pyqtgraph): ``PlotsPanel`` in plots.py and its parts, one module per
responsibility (curves, paint scheduling, ranges, bands, hover, countdown), and the themes."""
