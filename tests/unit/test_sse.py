"""The SSE decoder: frames arrive split anywhere, with any line ending, and it must not care."""

from __future__ import annotations

import pytest

from adapters.providers.sse import Event, SSEDecoder

OPENAI = (b'data: {"choices":[{"delta":{"content":"Hel"}}]}\n\n'
          b": keep-alive\n\n"
          b'data: {"choices":[{"delta":{"content":"lo"}}]}\n\n'
          b"data: [DONE]\n\n")
ANTHROPIC = (b"event: message_start\ndata: {\"type\":\"message_start\"}\n\n"
             b"event: ping\ndata: {\"type\": \"ping\"}\n\n"
             b"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")


def decode(*pieces: bytes) -> list[Event]:
    decoder = SSEDecoder()
    events = [e for piece in pieces for e in decoder.feed(piece)]
    return events + decoder.close()


def test_data_lines_come_out_as_the_exact_json_bytes() -> None:
    assert [e.data for e in decode(OPENAI)] == [
        b'{"choices":[{"delta":{"content":"Hel"}}]}', b'{"choices":[{"delta":{"content":"lo"}}]}', b"[DONE]",
    ]


def test_event_names_are_kept_and_reset_after_each_event() -> None:
    events = decode(ANTHROPIC + b"data: x\n\n")
    assert [e.event for e in events] == [b"message_start", b"ping", b"message_stop", b""]
    assert events[1].data == b'{"type": "ping"}'


@pytest.mark.parametrize("stream", [OPENAI, ANTHROPIC], ids=["openai", "anthropic"])
def test_a_stream_split_at_any_byte_decodes_the_same(stream: bytes) -> None:
    whole = decode(stream)
    for at in range(1, len(stream)):
        assert decode(stream[:at], stream[at:]) == whole, at
    assert decode(*(stream[i:i + 1] for i in range(len(stream)))) == whole


@pytest.mark.parametrize("ending", [b"\r\n", b"\r"], ids=["crlf", "cr"])
def test_crlf_and_cr_line_endings_are_lines_too(ending: bytes) -> None:
    stream = OPENAI.replace(b"\n", ending)
    assert decode(stream) == decode(OPENAI)
    for at in range(1, len(stream)):  # includes every split between \r and \n
        assert decode(stream[:at], stream[at:]) == decode(OPENAI), at


def test_comments_and_unknown_fields_are_ignored() -> None:
    stream = b": hello\nid: 7\nretry: 100\nfoo: bar\ndata: x\n\n:only a comment\n\n"
    assert decode(stream) == [Event(b"", b"x")]


def test_multi_line_data_joins_with_newlines() -> None:
    assert decode(b"data: {\ndata:  \"a\": 1\ndata: }\n\n") == [Event(b"", b'{\n "a": 1\n}')]


def test_only_one_space_after_the_colon_is_stripped_and_none_is_needed() -> None:
    assert decode(b"data:x\n\ndata:  y\n\n") == [Event(b"", b"x"), Event(b"", b" y")]


def test_an_event_without_data_is_not_dispatched() -> None:
    assert decode(b"event: ping\n\ndata: x\n\n") == [Event(b"", b"x")]


def test_a_bare_data_field_is_an_empty_payload() -> None:
    assert decode(b"data\n\n") == [Event(b"", b"")]


def test_a_last_event_without_its_blank_line_is_flushed_on_close() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: 1\n\ndata: [DONE]") == [Event(b"", b"1")]
    assert decoder.close() == [Event(b"", b"[DONE]")]


def test_several_events_in_one_read_come_out_in_order() -> None:
    decoder = SSEDecoder()
    assert [e.data for e in decoder.feed(b"data: 1\n\ndata: 2\n\ndata: 3")] == [b"1", b"2"]
    assert [e.data for e in decoder.feed(b"\n\n")] == [b"3"]
