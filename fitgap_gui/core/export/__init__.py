"""What leaves FitGap: files, the lab report, the standalone Keras script, text tables.

- ``files``: CSV, JSON, model, TensorBoard and report exports of stored runs.
- ``report``: the self-contained HTML lab report (``templates/report.html.j2``).
- ``script`` (with ``script_branch``, ``script_data``, ``script_text``): the exported
  Keras script, the run's plans printed as literals and the engine's code carried.
- ``summary``: lever summaries and the text table of ``fitgap runs list``.
"""
