"""What leaves FitGap: files, the lab report, the standalone Keras script, text tables.

- ``files``: CSV, JSON, model, TensorBoard and report exports of stored runs.
- ``report``: the self-contained HTML lab report (``templates/report.html.j2``).
- ``script``, ``script_branch``, ``script_data``: the exported Keras script.
- ``summary``: lever summaries and the text table of ``fitgap runs list``.
"""
