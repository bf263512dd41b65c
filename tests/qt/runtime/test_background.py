"""BackgroundTask: the one way FitGap works off the GUI thread, and its signal vocabulary."""

from __future__ import annotations

import threading

from fitgap_gui.qt.runtime.background import BackgroundTask, active_tasks


def _collect(task: BackgroundTask) -> list[tuple]:
    seen: list[tuple] = []
    for name in ("started", "yielded", "returned", "errored", "aborted", "finished"):
        getattr(task, name).connect(lambda *args, n=name: seen.append((n, *args)))
    return seen


def test_a_function_returns_its_value_in_the_gui_thread(qtbot):
    gui = threading.get_ident()
    task = BackgroundTask(lambda a, b=0: (a + b, threading.get_ident()), 2, b=3)
    seen = _collect(task)
    with qtbot.waitSignal(task.finished, timeout=10_000):
        task.start()
    assert [s[0] for s in seen] == ["started", "returned", "finished"]
    value, worker = seen[1][1]
    assert value == 5 and worker != gui
    assert task not in active_tasks() and not task.thread_running()


def test_a_generator_yields_in_order_and_stops_when_aborted(qtbot):
    release = threading.Event()

    def count():
        for i in range(1000):
            yield i
            release.wait(5)

    task = BackgroundTask(count)
    seen = _collect(task)
    task.start()
    qtbot.waitUntil(lambda: any(s[0] == "yielded" for s in seen), timeout=10_000)
    task.abort()
    release.set()
    qtbot.waitUntil(lambda: not task.is_running(), timeout=10_000)
    names = [s[0] for s in seen]
    assert names[0] == "started" and names[-2:] == ["aborted", "finished"]
    values = [s[1] for s in seen if s[0] == "yielded"]
    assert values == list(range(len(values))) and len(values) < 1000


def test_an_exception_reaches_errored_as_the_object(qtbot):
    def broken():
        raise KeyError("lost")

    task = BackgroundTask(broken)
    seen = _collect(task)
    with qtbot.waitSignal(task.finished, timeout=10_000):
        task.start()
    assert [s[0] for s in seen] == ["started", "errored", "finished"]
    assert isinstance(seen[1][1], KeyError)


def test_a_state_reports_from_callbacks(qtbot):
    def work(state, n):
        for i in range(n):
            state.report(i)
        return state.abort_requested()

    task = BackgroundTask(work, 3, pass_state=True)
    seen = _collect(task)
    with qtbot.waitSignal(task.finished, timeout=10_000):
        task.start()
    assert seen[1:] == [
        ("yielded", 0),
        ("yielded", 1),
        ("yielded", 2),
        ("returned", False),
        ("finished",),
    ]
