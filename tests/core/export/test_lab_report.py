"""The lab experiments in the HTML report, recomputed from the stored runs."""

from __future__ import annotations

from support.runs import commit_run

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.experiments.lab_results import double_descent_payload, lr_range_payload
from fitgap_gui.core.experiments.labstore import save_record
from fitgap_gui.core.export.files import export_report
from fitgap_gui.core.store.runstore import RunStore


def _test(accuracy: float) -> dict:
    return {"epoch": 3, "cross_entropy": 0.5, "accuracy": accuracy, "n": 100}


def test_report_draws_double_descent_and_the_range_test_of_the_setup(tmp_path):
    store = RunStore()
    base = RunConfig.from_dict({"model": {"hidden_units": [4]}, "training": {"epochs": 3}})
    ids = [
        commit_run(store, base.replace({"model.hidden_units": [w]}), 3, f"lab width {w}", _test(a))
        for w, a in ((4, 0.6), (16, 0.8))
    ]
    rows = [
        {
            "width": w,
            "params": 64 * w + w + 10 * w + 10,
            "run_id": i,
            "history": {},
            "test": _test(a),
        }
        for w, i, a in ((4, ids[0], 0.6), (16, ids[1], 0.8))
    ]
    data = {"n_train": 1000, "n_classes": 10, "input_dim": 64}
    save_record(
        store,
        "double-descent",
        {"widths": [4, 16], "label_noise": 0.2},
        double_descent_payload(rows),
        data,
    )
    rates = [1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    losses = [2.3, 2.2, 1.5, 1.0, 9.0]
    settings = {"min": 1e-4, "max": 1.0, "steps": 5, "base_config": base.to_dict()}
    save_record(store, "lr-range", settings, lr_range_payload(rates, losses, losses), data)
    other = {"min": 1e-4, "max": 1.0, "steps": 5, "base_config": {"model": {"hidden_units": [99]}}}
    save_record(store, "lr-range", other, lr_range_payload(rates, losses, losses), data)

    (path,) = export_report(store, [ids[0]], tmp_path / "report.html")
    html = path.read_text(encoding="utf-8")
    assert "Double descent (label noise 0.2)" in html
    assert '<td class="num">40%</td>' in html  # width 4's test error, from its stored run
    assert "params = n_train" in html and "hidden width (log)" in html
    assert html.count("<h3>Learning-rate range test</h3>") == 1  # only the reported setup's
    assert 'aria-label="Double descent' in html


def test_report_of_runs_outside_any_lab_experiment_has_no_lab_section(tmp_path):
    store = RunStore()
    run_id = commit_run(store, RunConfig(), 2, "plain", _test(0.5))
    (path,) = export_report(store, [run_id], tmp_path / "report.html")
    assert "Lab experiments" not in path.read_text(encoding="utf-8")
