"""The CLI's SSE reader against the HTML standard's rules, on lines and on a response."""

from __future__ import annotations

import httpx

from hive.cli.sse import ServerSentEvent, events, parse


def test_fields_make_an_event_and_a_blank_line_sends_it() -> None:
    lines = ["event: log", "id: 12", 'data: {"text": "hi"}', ""]
    assert list(parse(lines)) == [ServerSentEvent("log", "12", '{"text": "hi"}')]


def test_data_lines_join_with_newlines_and_one_leading_space_goes() -> None:
    lines = ["data: first", "data:second", "data:  third", "data", ""]
    [event] = parse(lines)
    assert event == ServerSentEvent("message", None, "first\nsecond\n third\n")


def test_comments_are_heartbeats_not_events() -> None:
    lines = [": ping - 2026-12-01", "", "data: x", ": inside one", ""]
    assert list(parse(lines)) == [ServerSentEvent("message", None, "x")]


def test_the_last_id_stays_until_another_and_the_type_resets() -> None:
    lines = ["event: a", "id: 1", "data: one", "", "data: two", "", "id: 3", "", "data: 4", ""]
    assert list(parse(lines)) == [
        ServerSentEvent("a", "1", "one"),
        ServerSentEvent("message", "1", "two"),
        ServerSentEvent("message", "3", "4"),  # an id alone is not sent, but kept
    ]


def test_an_id_with_nul_is_ignored_as_are_unknown_fields() -> None:
    lines = ["id: 1", "data: a", "", "id: 2\0", "retry: 10", "colour: red", "data: b", ""]
    assert [e.id for e in parse(lines)] == ["1", "1"]


def test_an_event_the_stream_ends_inside_is_dropped() -> None:
    assert list(parse(["data: complete", "", "data: cut off"])) == [
        ServerSentEvent("message", None, "complete")
    ]


def test_a_response_with_any_line_ending() -> None:
    body = b"event: log\r\nid: 7\r\ndata: a\r\n\r\nevent: end\rdata: b\r\r: bye\n"
    response = httpx.Response(200, content=body)
    assert list(events(response)) == [
        ServerSentEvent("log", "7", "a"),
        ServerSentEvent("end", "7", "b"),
    ]


def test_an_event_without_data_is_not_sent_and_its_type_does_not_linger() -> None:
    assert list(parse(["event: lonely", "", "data: x", ""])) == [
        ServerSentEvent("message", None, "x")
    ]
