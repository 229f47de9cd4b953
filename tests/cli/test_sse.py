"""The SSE reader: fields, multi-line data, comments, events without a blank line yet."""

from __future__ import annotations

from hive.cli.sse import SseEvent, parse_sse


def test_events_end_at_blank_lines_with_their_fields() -> None:
    lines = [
        ": ping",
        "id: 7",
        "event: timing",
        'data: {"step":',
        'data:  "run_setup"}',
        "",
        "data: plain",
        "",
        "",
        "id: 9",
        "event: cell",
    ]
    got = list(parse_sse(lines))
    assert got == [
        SseEvent("timing", "7", '{"step":\n "run_setup"}'),
        SseEvent("message", None, "plain"),
    ], "an event without its blank line is not complete"
    assert got[0].json() == {"step": "run_setup"}


def test_comments_alone_make_no_event_and_unknown_fields_are_ignored() -> None:
    assert list(parse_sse([": heartbeat", "", "retry: 100", "", ": x"])) == []


def test_an_id_alone_is_an_event_with_no_data() -> None:
    [event] = parse_sse(["id: 3", ""])
    assert event == SseEvent("message", "3", "") and event.json() is None
