"""The worker on its own: sequences of runs, progress, and error messages."""

from __future__ import annotations

import pytest

from fitgap_gui.core.errors import DataError
from fitgap_gui.core.store.runstore import RunStore
from fitgap_gui.qt.runtime.worker import NO_RUN, TrainingController, error_message


def test_run_many_trains_each_config_in_turn_with_progress(qtbot, tiny_config):
    controller = TrainingController(RunStore())
    worker = controller
    started, finished, progress = [], [], []
    worker.started.connect(lambda run_id, _request: started.append(run_id))
    worker.finished.connect(lambda run_id, result: finished.append((run_id, result)))
    worker.progress.connect(lambda done, total: progress.append((done, total)))
    configs = [
        tiny_config.replace({"training.epochs": 2}),
        tiny_config.replace({"model.dropout": 0.5, "training.epochs": 2}),
    ]
    with qtbot.waitSignal(controller.idle, timeout=60_000):
        controller.start(configs)
    assert len(started) == 2 and started[0] != started[1]
    assert [r.config for _, r in finished] == configs
    assert progress == [(1, 2), (2, 2)]
    assert not controller.is_busy()
    assert controller.shutdown(10_000) and not controller.thread_running()


def test_an_error_stops_the_sequence_and_is_emitted(qtbot, tiny_config, tmp_path):
    controller = TrainingController(RunStore())
    worker = controller
    started, errors = [], []
    worker.started.connect(lambda run_id, _request: started.append(run_id))
    worker.errored.connect(lambda run_id, exc: errors.append((run_id, str(exc))))
    bad = tiny_config.replace({"data.source": "npz", "data.path": str(tmp_path / "gone.npz")})
    with qtbot.waitSignal(controller.idle, timeout=60_000):
        controller.start([bad, tiny_config])
    assert started == []  # the good config after the bad one never ran
    ((run_id, message),) = errors
    assert run_id == NO_RUN and "gone.npz" in message
    assert controller.shutdown(10_000)


def test_error_messages_keep_fitgap_errors_and_name_other_types():
    assert error_message(DataError("x.npz: no key y_val")) == "x.npz: no key y_val"
    assert error_message(ValueError("bad shape\nmore")) == "ValueError: bad shape"
    assert error_message(RuntimeError()) == "RuntimeError"


def test_each_event_of_the_training_thread_becomes_its_signal(qapp, tiny_config):
    """The task's events are typed objects; the controller emits one signal per class."""
    from fitgap_gui.core.results.records import EpochMetrics, RunResult
    from fitgap_gui.core.run.live import RunRequest
    from fitgap_gui.qt.runtime import worker as w

    controller = TrainingController(RunStore())
    names = ("started", "dataset_ready", "epoch_done", "insight_ready", "finished")
    names += ("errored", "progress", "paused", "aborted")
    seen: list[tuple] = []
    for name in names:
        getattr(controller, name).connect(lambda *args, n=name: seen.append((n, *args)))
    request = RunRequest(tiny_config, "a")
    metrics = EpochMetrics(1, {"loss": 1.0})
    stopped = RunResult(tiny_config, {}, "stopped", 1)
    error = ValueError("x")
    events = [
        w.Started(3, request),
        w.DatasetLoaded(3, "data"),
        w.EpochDone(3, metrics),
        w.InsightReady(3, "boundary", {"k": 1}),
        w.Paused(3, 1),
        w.Finished(3, stopped),
        w.Failed(NO_RUN, error),
        w.Progress(1, 2),
    ]
    for event in events:
        controller._dispatch(event)
    assert seen == [
        ("started", 3, request),
        ("dataset_ready", 3, "data"),
        ("epoch_done", 3, metrics),
        ("insight_ready", 3, "boundary", {"k": 1}),
        ("paused", 3, 1),
        ("aborted", 3),  # a run stopped by the user: aborted, then finished
        ("finished", 3, stopped),
        ("errored", NO_RUN, error),
        ("progress", 1, 2),
    ]
    with pytest.raises(TypeError):
        controller._dispatch(("epoch", 3, metrics))  # the old tuples are no events
