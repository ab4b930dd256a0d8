"""Small Streamlit-side helpers of dashboard/auth.py that need no running app."""

from __future__ import annotations

from dashboard.auth import _progress_callback


class Bar:
    def __init__(self):
        self.calls = []

    def progress(self, value, text=None):
        self.calls.append((round(value, 3), text))


def test_progress_callback_accepts_the_shapes_a_builder_may_report():
    bar = Bar()
    report = _progress_callback(bar)
    report(0.25, "customers")
    report(3, 4)
    report(50)
    report(1.0, "done")
    assert bar.calls[0] == (0.25, "customers")
    assert bar.calls[1][0] == 0.75
    assert bar.calls[2][0] == 0.5
    assert bar.calls[3] == (1.0, "done")
