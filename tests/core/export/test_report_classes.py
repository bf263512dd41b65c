"""The lab report names a run's classes where they have names, escaped."""

from __future__ import annotations

from fitgap_gui.core.export.report import render_report
from fitgap_gui.core.results.records import EpochMetrics, RunResult
from fitgap_gui.core.store.runstore import RunStore


def _run(store: RunStore, config, class_names) -> int:
    run_id = store.create_run(config, name="classes")
    history = {"loss": [1.0, 0.8], "val_loss": [1.1, 0.9]}
    for epoch in (1, 2):
        store.append_epoch(
            run_id, EpochMetrics(epoch, {k: v[epoch - 1] for k, v in history.items()})
        )
    result = RunResult(config, history, "completed", 2, 2, run_id=run_id, class_names=class_names)
    store.finish_run(run_id, result)
    return run_id


def test_report_lists_class_names_and_keeps_quiet_about_numbers(tiny_config):
    store = RunStore()
    named = _run(store, tiny_config, ["Adelie", "Chinstrap", "<b>Gentoo</b>"])
    numbered = _run(store, tiny_config, ["0", "1"])
    html = render_report(store.get_runs([named]))
    assert "classes (3): Adelie, Chinstrap, &lt;b&gt;Gentoo&lt;/b&gt;" in html
    assert "classes (" not in render_report(store.get_runs([numbered]))
