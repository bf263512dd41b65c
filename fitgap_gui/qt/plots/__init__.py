"""The loss, accuracy and gap plots (pyqtgraph), their hover readout and the light and dark
themes."""
