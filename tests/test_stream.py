"""Flow control between a Run and a front-end: capture never waits, the newest frame wins, history completes."""

import threading
import time

import pytest

from nnviz_widgets.widgets import _stream


class FakeWidget:
    """Stands in for the comm: records every message; ``gate`` can hold sends to mimic a stuck browser."""

    def __init__(self, delay=0.0):
        self.messages = []
        self.delay = delay
        self.gate = threading.Event()
        self.gate.set()

    def send(self, content, buffers):
        self.gate.wait()
        time.sleep(self.delay)
        self.messages.append((content, buffers))

    def indices(self):
        return [f["index"] for content, _ in self.messages for f in content["frames"]]


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    monkeypatch.setattr(_stream, "IDLE", 0.05)
    monkeypatch.setattr(_stream, "BACKFILL_RATE", 1e9)


def wait_for(predicate, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.005)
    return False


def test_burst_of_1000_captures_is_coalesced_then_completed(rec, monkeypatch):
    # captures faster than the live interval coalesce; on a loaded machine a capture can take longer than the
    # default 40 ms, so the interval is widened to keep "faster than the interval" true whatever the load
    monkeypatch.setattr(_stream, "LIVE_INTERVAL", 0.2)
    widget = FakeWidget(delay=0.002)
    sender = _stream.FrameSender(widget, rec.run, ("boundary", "predictions"))
    for _ in range(1000):
        rec.capture()
    assert sender.wait_idle(30)
    got = widget.indices()
    assert sorted(set(got)) == list(range(1000))  # complete history
    assert len(got) == 1000  # each frame sent once: no resend without a sync
    assert len(widget.messages) < 1000  # backfill batches frames; live sends only the newest
    content, buffers = widget.messages[-1]
    frames = content["frames"]
    assert content["type"] == "frames" and content["total"] == 1000
    assert len(buffers) == 2 * len(frames)
    assert frames[0]["arrays"]["boundary"] == {**rec.run[frames[0]["index"]].arrays["boundary"].header, "buffer": 0}
    assert frames[-1]["arrays"]["predictions"]["buffer"] == 2 * len(frames) - 1
    assert buffers[0] == rec.run[frames[0]["index"]].arrays["boundary"].data
    sender.close()


def test_capture_never_waits_for_a_stuck_front_end(rec):
    widget = FakeWidget()
    widget.gate.clear()  # the browser takes nothing
    sender = _stream.FrameSender(widget, rec.run, ("boundary",))
    done = threading.Event()

    def train():
        for _ in range(200):
            rec.capture()
        done.set()

    threading.Thread(target=train, daemon=True).start()
    assert done.wait(30), "capture() blocked behind a front-end that never took a message"
    widget.gate.set()
    assert sender.wait_idle(30)
    assert sorted(set(widget.indices())) == list(range(200))
    sender.close()


def test_live_sends_the_newest_frame(rec, monkeypatch):
    monkeypatch.setattr(_stream, "IDLE", 5.0)  # stay in live mode for the whole test
    widget = FakeWidget()
    widget.gate.clear()  # the browser is busy: at most one message (the first frame) is on its way
    sender = _stream.FrameSender(widget, rec.run, ("boundary",))
    for _ in range(50):
        rec.capture()
    widget.gate.set()
    assert wait_for(lambda: len(widget.messages) >= 2)
    first, second = (content["frames"] for content, _ in widget.messages[:2])
    assert len(first) == len(second) == 1  # live: one frame per message
    assert 49 in (first[0]["index"], second[0]["index"])  # then the newest, not the next in line
    sender.close()


def test_sync_resends_what_the_browser_lacks(rec):
    widget = FakeWidget()
    sender = _stream.FrameSender(widget, rec.run, ("boundary",))
    for _ in range(30):
        rec.capture()
    assert sender.wait_idle(10) and wait_for(lambda: len(widget.indices()) == 30)
    last_seq = widget.messages[-1][0]["seq"]
    widget.messages.clear()
    sender.sync([[0, 10], [20, 30]], seen_seq=last_seq)  # frames 10..19 were lost on the way
    assert wait_for(lambda: sorted(widget.indices()) == list(range(10, 20)))
    widget.messages.clear()
    sender.sync([], seen_seq=None)  # a reloaded page holds nothing and has seen nothing
    assert wait_for(lambda: sorted(widget.indices()) == list(range(30)))
    sender.close()


def test_sync_does_not_resend_frames_still_in_flight(rec):
    widget = FakeWidget()
    sender = _stream.FrameSender(widget, rec.run, ("boundary",))
    for _ in range(5):
        rec.capture()
    assert wait_for(lambda: len(widget.indices()) == 5)
    widget.messages.clear()
    sender.sync([], seen_seq=0)  # sent after seq 0: on their way, not lost
    time.sleep(0.2)
    assert widget.indices() == []
    sender.close()


def test_frames_existing_before_the_view_wait_for_the_browsers_first_sync(rec):
    for _ in range(3):
        rec.capture()
    widget = FakeWidget()
    sender = _stream.FrameSender(widget, rec.run, ("boundary",))
    time.sleep(0.2)
    assert widget.indices() == []
    sender.sync([], seen_seq=None)  # what a new view sends 300 ms after it starts
    assert wait_for(lambda: sorted(widget.indices()) == [0, 1, 2])
    sender.close()


def test_close_stops_the_thread_and_unsubscribes(rec):
    widget = FakeWidget()
    sender = _stream.FrameSender(widget, rec.run, ("boundary",))
    rec.capture()  # a frame to send: the thread runs
    thread = sender._thread
    assert thread is not None
    sender.close()
    thread.join(5)
    assert not thread.is_alive() and sender._thread is None
    before = sender.pending
    rec.capture()
    assert sender._thread is None  # a closed sender starts no thread again
    assert sender.pending == before  # and hears of no new frame


def test_non_finite_metrics_travel_as_null(rec):
    rec.capture(loss=float("nan"))
    content, _ = _stream.frames_message(rec.run, [0], (), seq=1)
    assert content["frames"][0]["metrics"]["loss"] is None and content["frames"][0]["arrays"] == {}


def test_closing_a_view_never_waits_for_a_lock_another_thread_holds(rec):
    """Widget.__del__ closes a view from whatever thread the garbage collector runs in, once a thread that a
    listener was starting while Run.append held the run's lock: waiting for a lock there deadlocked training."""
    widget = FakeWidget()
    sender = _stream.FrameSender(widget, rec.run, ("boundary",))
    unsubscribe = rec.run.subscribe(lambda frame: None)
    done = threading.Event()

    def close_both():
        unsubscribe()
        sender.close()
        done.set()

    with rec.run._lock, sender._cond:  # as append holds the run's lock while a listener holds its own
        closer = threading.Thread(target=close_both)
        closer.start()
        assert done.wait(5), "closing waited for a lock"
    closer.join()
    rec.capture()  # the dead listener is dropped, the closed sender sends nothing
    assert sender.wait_idle(5) and widget.messages == []


# -- the live clock: every view on one tick, ticks spaced by what a tick costs ---------------------------------
@pytest.fixture
def clock(monkeypatch):
    fresh = _stream.LiveClock()
    monkeypatch.setattr(_stream, "CLOCK", fresh)
    return fresh


def test_the_clock_spaces_ticks_by_the_pages_reported_cost_and_ignores_what_is_not_a_duration(clock):
    assert clock.interval() == pytest.approx(_stream.PAGE_PRIOR / _stream.LIVE_SHARE)  # until the page reports
    for _ in range(8):
        clock.drawn(200.0)  # a moving average: near 200 ms after a few reports
    slow = clock.interval()
    assert slow > 0.19 / _stream.LIVE_SHARE
    for bad in ("200", None, -5, float("nan"), float("inf"), 1e9, _stream.PAGE_MAX_MS + 1, True):
        clock.drawn(bad)
    assert clock.interval() == slow
    for _ in range(20):
        clock.drawn(0.0)  # a fast page: the floor
    assert clock.interval() == pytest.approx(_stream.LIVE_INTERVAL, abs=1e-3)


def test_the_kernels_sending_counts_while_a_view_sends(clock):
    for _ in range(20):
        clock.drawn(0.0)
    now, view = time.monotonic(), FakeWidget()
    clock.sent(view, 0.1, now)  # 100 ms of CPU for one live frame
    assert clock.interval(now) == pytest.approx(0.1 / _stream.LIVE_SHARE, rel=0.01)
    assert clock.interval(now + 60) == pytest.approx(_stream.LIVE_INTERVAL, abs=1e-3)  # a view long quiet: not


def test_views_of_one_kernel_send_on_the_same_tick(rec, clock, monkeypatch):
    monkeypatch.setattr(_stream, "IDLE", 5.0)  # live mode throughout
    clock.drawn(40.0)  # the page: 40 ms a tick, so ticks ~0.8 s apart (with the prior's average)
    widgets = [FakeWidget(), FakeWidget(), FakeWidget()]
    stamps = [[] for _ in widgets]
    for w, out in zip(widgets, stamps, strict=True):
        w.send = lambda content, buffers, out=out: out.append(time.monotonic())
    senders = [_stream.FrameSender(w, rec.run, ("boundary",)) for w in widgets]
    start = time.monotonic()
    while time.monotonic() - start < 2.0:  # captures every ~20 ms for 2 s
        rec.capture()
        time.sleep(0.02)
    gap = clock.interval()
    assert all(1 <= len(s) <= 2.0 / gap + 2 for s in stamps), (stamps, gap)  # far fewer than the ~100 captures
    for tick in range(min(len(s) for s in stamps)):  # the n-th live send of each view: within one join window
        times = [s[tick] for s in stamps]
        assert max(times) - min(times) <= _stream.LIVE_JOIN + 0.1, times
    for s in senders:
        s.close()


class CountingCondition(threading.Condition):
    """A condition that counts how often a wait on it returns (each is a wake-up of the waiting thread)."""

    wakeups = 0

    def wait(self, timeout=None):
        try:
            return super().wait(timeout)
        finally:
            self.wakeups += 1


def test_captures_between_ticks_do_not_wake_the_sender_or_the_curves(rec, clock, monkeypatch):
    import nnviz_widgets as nnv

    monkeypatch.setattr(_stream, "IDLE", 5.0)  # live mode throughout
    clock.drawn(40.0)  # ticks ~0.8 s apart, as in the test above
    widget = FakeWidget()
    sender = _stream.FrameSender(widget, rec.run, ("boundary",))
    sender._cond = sent = CountingCondition()
    curves = nnv.MetricCurves(rec)
    curves._cond = drawn = CountingCondition()
    start = time.monotonic()
    while time.monotonic() - start < 2.0:  # ~100 captures, ~3 ticks
        rec.capture(loss=1.0)
        time.sleep(0.02)
    ticks = 2.0 / clock.interval() + 3
    assert 1 <= len(widget.messages) <= ticks
    # a few wake-ups a tick (the floor, the tick, the end of a wait), not one per capture (36-55 here before)
    assert sent.wakeups <= 3 * ticks, f"the sender woke {sent.wakeups} times for {len(widget.messages)} sends"
    assert drawn.wakeups <= 3 * ticks, f"the curves' thread woke {drawn.wakeups} times"
    sender.close()
    curves.close()


def test_a_views_drawn_message_reaches_the_clock(rec, clock):
    import nnviz_widgets as nnv

    view = nnv.DecisionBoundary(rec)
    before = clock.interval()
    for _ in range(8):
        view._on_custom(view, {"type": "drawn", "ms": 500.0}, [])
    assert clock.interval() > 0.45 / _stream.LIVE_SHARE > before
    view._on_custom(view, {"type": "drawn", "ms": "500"}, [])  # not a number: ignored, no error
    view.close()
