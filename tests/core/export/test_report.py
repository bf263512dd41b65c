"""The lab report (`fitgap export report`): sections, escaping, self-contained HTML."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from support.runs import store_test

from fitgap_gui.cli import main
from fitgap_gui.core.export.report import delivered_row, render_report, statistics
from fitgap_gui.core.results.records import EpochMetrics, RunResult, best_epoch
from fitgap_gui.core.run.session import run_recorded
from fitgap_gui.core.store.runstore import RunStore

HOSTILE = "<script>alert(1)</script>\"'&<img src=x onerror=alert(2)>"
HISTORY = {
    "loss": [1.9, 1.2, 0.8, 0.5, 0.3, 0.2],
    "accuracy": [0.3, 0.6, 0.8, 0.9, 0.95, 0.97],
    "val_loss": [1.8, 1.3, 1.2, 1.25, 1.4, 1.6],
    "val_accuracy": [0.3, 0.55, 0.6, 0.6, 0.58, 0.57],
}


def _record(store, config, name, history, **kwargs) -> int:
    run_id = store.create_run(config, name=name, **kwargs)
    n = len(history["loss"])
    for epoch in range(1, n + 1):
        store.append_epoch(
            run_id, EpochMetrics(epoch, {k: v[epoch - 1] for k, v in history.items()})
        )
    result = RunResult(config, history, "completed", n, best_epoch(history), run_id=run_id)
    result.diagnosis = {
        "verdict": "overfitting",
        "onset_epoch": 3,
        "summary": f"summary of {name}",
        "numbers": {},
        "advice": [{"key": "k", "title": f"advice {name}", "why": "because", "changes": {}}],
    }
    store.finish_run(run_id, result)
    return run_id


class _Collect(HTMLParser):
    """Every tag and attribute of a document, to check what it would load."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_report_has_every_section_and_repeats_fitgap_runs(tiny_config, tmp_path, capsys):
    store = RunStore()
    trained = run_recorded(tiny_config, store, name="trained")  # provenance + a script
    a = _record(store, tiny_config.replace({"training.seed": 1}), "seed 1", HISTORY)
    b = _record(store, tiny_config.replace({"training.seed": 2}), "seed 2", HISTORY)
    out = tmp_path / "report.html"
    assert main(["export", "report", str(trained.run_id), str(a), str(b), "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    html = out.read_text()
    for section in ("runs", "levers", "delivered", "best", "diagnosis", "statistics", "repeat"):
        assert f'<section id="{section}">' in html
    # Plots: inline SVG polylines for the loss and accuracy curves of each run.
    assert html.count("<svg") >= 6 and "<polyline" in html
    # Levers side by side, the differing seed highlighted.
    assert re.search(r'<tr class="differs"><th>training\.seed</th>', html)
    # The three runs repeat one setup apart from the seed: their statistics are shown.
    assert f"Runs {trained.run_id}, {a}, {b}" in html and "<th>mean</th>" in html
    # What repeating needs: versions, seed, fingerprints, and FitGap's own script.
    assert "sha256:" in html and "tensorflow" in html and "keras" in html
    assert "model.fit(" in html  # the standalone Keras script of the trained run
    assert "summary of seed 1" in html and "advice seed 2" in html


def test_report_escapes_every_user_string(tiny_config, tmp_path):
    store = RunStore()
    run_id = _record(
        store,
        tiny_config,
        HOSTILE,
        HISTORY,
        kind="callback",
        levers={
            "layers": [{"name": HOSTILE, "class": HOSTILE, "params": 3}],
            "dropout": [{"layer": HOSTILE, "rate": 0.5}],
            "regularizers": [],
            "loss": HOSTILE,
            "optimizer": {"class": HOSTILE, "learning_rate": 0.01},
            "callbacks": [HOSTILE],
            "measured": HOSTILE,
        },
        provenance={
            "versions": {HOSTILE: HOSTILE},
            "seed": None,
            "fingerprints": {},
            "note": HOSTILE,
        },
    )
    store.fail_run(run_id, HOSTILE, status="interrupted")
    out = tmp_path / "hostile.html"
    assert main(["export", "report", str(run_id), "-o", str(out)]) == 0
    html = out.read_text()
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    parser = _Collect()
    parser.feed(html)
    assert not any(name.startswith("on") for _, attrs in parser.tags for name in attrs)


def test_report_is_self_contained(tiny_config, tmp_path):
    store = RunStore()
    run_id = _record(store, tiny_config, "plain", HISTORY)
    out = tmp_path / "r.html"
    assert main(["export", "report", str(run_id), "-o", str(out)]) == 0
    html = out.read_text()
    parser = _Collect()
    parser.feed(html)
    tags = {tag for tag, _ in parser.tags}
    assert not tags & {"script", "link", "img", "iframe", "object", "embed"}
    for _, attrs in parser.tags:
        for name in ("src", "href", "xlink:href", "action"):
            assert name not in attrs
    assert "http://" not in html and "https://" not in html and "url(" not in html


def test_report_refuses_a_wrong_suffix_and_unknown_runs(tiny_config, tmp_path, capsys):
    store = RunStore()
    run_id = _record(store, tiny_config, "plain", HISTORY)
    assert main(["export", "report", str(run_id), "-o", str(tmp_path / "r.txt")]) == 2
    assert ".html" in capsys.readouterr().err
    assert main(["export", "report", "999", "-o", str(tmp_path / "r.html")]) == 2
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize("values", [[None, 1.0, None], [2.0]])
def test_charts_break_at_missing_values_and_draw_single_epochs(values):
    from fitgap_gui.core.export.report import LOSS_LINES, chart

    c = chart({"loss": values, "val_loss": values}, LOSS_LINES, "Loss")
    assert c is not None
    (first, *_) = c["lines"]
    assert len(first["segments"]) == 1
    assert len(first["single"]) == 1  # one finite value: drawn as a dot


def test_report_of_a_run_without_epochs_and_a_diverged_one(tiny_config):
    store = RunStore()
    empty = store.create_run(tiny_config, name="just started")
    diverged = {k: [*v[:2], None] for k, v in HISTORY.items()}
    broken = _record(store, tiny_config, "diverged", diverged)
    html = render_report(store.get_runs([empty, broken]))
    assert "No finite loss or accuracy was recorded." in html
    assert "No diagnosis stored" in html
    assert html.count("<polyline") >= 4  # the diverged run's finite prefix is drawn


def test_report_statistics_give_intervals_and_a_paired_verdict(tiny_config, tmp_path):
    """Two groups of three seeds: each group's mean and 95 % t interval of the best
    validation cross-entropy, and the second compared with the first seed by seed,
    all checked against scipy here."""
    import numpy as np
    from scipy import stats

    store = RunStore()
    bases, arms = [0.50, 0.55, 0.52], [0.45, 0.49, 0.48]  # the arm is lower on every seed
    ids = []
    for values, l2 in ((bases, 0.0), (arms, 0.001)):
        for seed, best in enumerate(values):
            history = dict(HISTORY)
            history["val_cross_entropy"] = [best + 0.3, best + 0.1, best, best + 0.05]
            history["train_eval_cross_entropy"] = [1.0, 0.6, 0.4, 0.3]
            history = {k: v[:4] for k, v in history.items()}
            config = tiny_config.replace({"training.seed": seed, "model.l2": l2})
            ids.append(_record(store, config, f"l2 {l2} seed {seed}", history))
    groups = statistics(store.get_runs(ids))
    assert [g["run_ids"] for g in groups] == [ids[:3], ids[3:]]
    column = {c["name"]: c for c in groups[0]["columns"]}["val_cross_entropy"]
    low, high = stats.t.interval(0.95, 2, loc=np.mean(bases), scale=stats.sem(bases))
    assert (column["mean"], column["low"], column["high"]) == pytest.approx(
        (np.mean(bases), low, high)
    )
    gap = {c["name"]: c for c in groups[0]["columns"]}["gap"]
    assert gap["mean"] == pytest.approx(np.mean(bases) - 0.4)  # val CE - train CE at best
    assert groups[0]["versus"] is None
    versus = groups[1]["versus"]
    assert stats.ttest_rel(arms, bases).pvalue < 0.05 and versus["verdict"] == "better"
    assert "3 of 3 seeds agree" in versus["sentence"]
    out = tmp_path / "report.html"
    assert main(["export", "report", *map(str, ids), "-o", str(out)]) == 0
    assert "versus the baseline" in out.read_text()


def test_report_leads_with_the_delivered_model_and_its_epoch(tiny_config):
    """Each run's card and the delivered table give the model the run delivers: its
    epoch, its test numbers and the gap read there; the best epoch is the detail."""
    store = RunStore()
    tested = _record(store, tiny_config, "tested", HISTORY)
    store_test(store, tested, {"epoch": 6, "cross_entropy": 0.7812, "accuracy": 0.8014, "n": 360})
    old = _record(store, tiny_config, "old", HISTORY)
    runs = store.get_runs([tested, old])
    html = render_report(runs)
    # HISTORY ends at 97 % training and 57 % validation accuracy (best epoch 3: +20 pp).
    assert (
        "Delivered model (epoch 6, the last): test accuracy 80.1%, test cross-entropy 0.7812 "
        "on 360 rows; training − validation accuracy +40.0 pp at epoch 6." in html
    )
    assert "Delivered model (epoch 6, the last): no test part;" in html
    row = delivered_row(runs[0])
    assert (row["epoch"], row["test_accuracy"], row["test_n"]) == (6, 0.8014, 360)
    assert row["gap_at_delivered"] == pytest.approx(0.40)
    assert delivered_row(runs[1])["test"] is False
    delivered_table = html[
        html.index('<section id="delivered">') : html.index('<section id="best">')
    ]
    assert "0.8014" in delivered_table and "0.7812" in delivered_table
    assert '<td colspan="3" class="muted">no test part</td>' in delivered_table
    assert "Best epochs (chosen on validation)" in html
    # The curves mark the delivered epoch beside the best one.
    assert "grey dashed vertical: epoch 6, the delivered model's" in html
    assert "dash-dot: best epoch 3 (chosen on validation)" in html


def test_report_statistics_compare_the_delivered_models_on_the_test_part(tiny_config):
    """Runs with a test part are compared on their delivered models' test cross-entropy,
    not on the best validation cross-entropy chosen on those same rows."""
    store = RunStore()
    ids = []
    # The arm is better on the test part on every seed, but its best validation numbers
    # are the baseline's: the best-epoch comparison alone would not tell them apart.
    for tests, l2 in (([0.80, 0.84, 0.82], 0.0), ([0.60, 0.66, 0.61], 0.001)):
        for seed, test_ce in enumerate(tests):
            config = tiny_config.replace({"training.seed": seed, "model.l2": l2})
            run_id = _record(store, config, f"l2 {l2} seed {seed}", HISTORY)
            store_test(
                store, run_id, {"epoch": 6, "cross_entropy": test_ce, "accuracy": 0.8, "n": 9}
            )
            ids.append(run_id)
    groups = statistics(store.get_runs(ids))
    columns = {c["name"]: c for c in groups[1]["columns"]}
    assert columns["test_cross_entropy"]["mean"] == pytest.approx(sum([0.60, 0.66, 0.61]) / 3)
    assert columns["test_cross_entropy"]["label"] == "test cross-entropy (delivered model)"
    versus = groups[1]["versus"]
    assert versus["metric"] == "test_cross_entropy" and versus["verdict"] == "better"
    assert "test cross-entropy of the delivered models" in versus["sentence"]
    # Without a test part (old runs), the best validation numbers are compared, and said so.
    old_ids = []
    for l2 in (0.0, 0.01):
        for seed in range(3):
            config = tiny_config.replace({"training.seed": seed, "model.l2": l2})
            history = {
                **HISTORY,
                "val_cross_entropy": [1.0, 0.8, 0.6 - l2 - seed / 100, 0.7, 0.8, 0.9],
            }
            old_ids.append(_record(store, config, f"old {l2} {seed}", history))
    versus = statistics(store.get_runs(old_ids))[1]["versus"]
    assert versus["metric"] == "val_cross_entropy"
    assert "chosen on validation: no test part" in versus["sentence"]
