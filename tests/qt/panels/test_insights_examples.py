"""Insights → Examples: the data map, the suspects' lists, the margin of one, the buttons."""

from __future__ import annotations

import numpy as np

from fitgap_gui.core.results.examples import ExampleDynamics


def _dynamics(noisy: bool = True) -> ExampleDynamics:
    """Six examples over three epochs; rows 1 and 4 flipped (noisy) and kept low."""
    given = np.array([0, 1, 2, 0, 1, 2])
    original = np.array([0, 2, 2, 0, 0, 2]) if noisy else given
    dyn = ExampleDynamics(
        rows=np.arange(6), given=given, source_rows=np.arange(10, 16), original=original
    )
    rng = np.random.default_rng(0)
    for epoch in (1, 2, 3):
        logits = rng.normal(size=(6, 3))
        logits[np.arange(6), given] += 2.0 * epoch
        logits[[1, 4], given[[1, 4]]] -= 3.0 * epoch  # the flipped stay unlearned
        dyn.update(epoch, logits)
    return dyn


def _view(qtbot):
    from fitgap_gui.qt.panels.insights_examples import ExamplesView

    view = ExamplesView()
    qtbot.addWidget(view)
    view.resize(600, 900)
    view.show()
    return view


def test_the_view_shows_the_map_the_suspects_and_a_chosen_margin(qtbot):
    view = _view(qtbot)
    view.begin_run(7)
    dyn = _dynamics()
    view.show_dynamics(dyn)
    view.add_memorized(3, 0.5)
    view.repaint_now()
    x, y = view.scatter.getData()
    np.testing.assert_allclose(x, dyn.variability())
    np.testing.assert_allclose(y, dyn.confidence())
    first = [view.lowest_list.item(i).text() for i in range(2)]
    assert all("flipped from" in text for text in first)  # the two flipped are lowest
    assert (
        "precision 100%" in view.headline.text() and "random choice: 33.3%" in view.headline.text()
    )
    assert view.forgotten_list.count() == 6
    view.lowest_list.setCurrentRow(0)
    chosen = view.lowest_list.item(0).data(256)  # Qt.UserRole: its position
    _, margins = view.margin_curve.getData()
    np.testing.assert_allclose(margins, dyn.margin_matrix()[:, chosen])
    assert not view.drop_button.isEnabled()  # not before the run's end


def test_the_buttons_ask_for_a_cleaned_run_once_the_run_ended(qtbot):
    view = _view(qtbot)
    view.begin_run(7)
    view.show_dynamics(_dynamics(noisy=False), final=True)
    view.repaint_now()
    assert "no labels flipped" in view.headline.text()
    assert view.k_box.value() == 1 and view.drop_button.isEnabled()
    view.k_box.setValue(2)
    with qtbot.waitSignal(view.clean_requested, timeout=1000) as caught:
        view.relabel_button.click()
    assert caught.args == [7, "relabel", 2]


def test_a_stored_run_in_focus_is_read_from_the_store(qtbot, tiny_config):
    from types import SimpleNamespace

    from fitgap_gui.qt.panels.insights_panel import InsightsPanel

    dyn = _dynamics()
    stored = {5: dyn.to_bytes()}
    panel = InsightsPanel(
        load_examples=lambda run_id: (
            ExampleDynamics.from_bytes(stored[run_id]) if run_id in stored else None
        )
    )
    qtbot.addWidget(panel)
    history = {"memorized_noise": [0.1, 0.4, 0.9]}
    panel.on_focus(SimpleNamespace(run_id=5, config=tiny_config, history=history))
    view = panel.examples
    qtbot.waitUntil(lambda: view.lowest_list.count() == 6)
    assert view.final and view.drop_button.isEnabled()
    assert list(view.memorized_curve.getData()[1]) == [0.1, 0.4, 0.9]
    assert not view.lowest_list.item(0).icon().isNull()  # digits: a thumbnail each
    panel.on_focus(SimpleNamespace(run_id=6, config=tiny_config, history={}))
    assert "has no per-example record" in view.headline.text()


def test_the_dark_theme_reaches_the_examples_plots(qtbot):
    from fitgap_gui.qt.plots.theme import DARK

    view = _view(qtbot)
    view.begin_run(7)
    view.show_dynamics(_dynamics())
    view.apply_theme(DARK)
    view.repaint_now()
    assert view.map_plot.backgroundBrush().color().name() == DARK.background
    assert view.map_plot.plotItem.titleLabel.opts["color"] == DARK.foreground


def test_a_run_from_a_worker_shows_its_stored_record_when_it_ends(qtbot, tiny_config):
    from types import SimpleNamespace

    from fitgap_gui.qt.panels.insights_panel import InsightsPanel

    stored: dict[int, bytes] = {}
    panel = InsightsPanel(
        load_examples=lambda run_id: (
            ExampleDynamics.from_bytes(stored[run_id]) if run_id in stored else None
        )
    )
    qtbot.addWidget(panel)
    panel.on_run_started(9, tiny_config)  # no live examples come from a worker process
    stored[9] = _dynamics().to_bytes()
    panel.on_run_finished(9, SimpleNamespace(run_id=9, config=tiny_config, history={}))
    qtbot.waitUntil(lambda: panel.examples.lowest_list.count() == 6)
    assert panel.examples.final
