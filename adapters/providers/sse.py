"""The shared Server-Sent Events decoder every provider kind streams through.

It works on bytes (no str round trip) because each OpenAI data line is forwarded as the exact JSON
bytes it arrived as, and it keeps state across reads because TCP splits frames anywhere: inside a
line, between `\\r` and `\\n`, or between two lines of one event. Rules follow the WHATWG
text/event-stream grammar: `\\n`, `\\r\\n` and `\\r` end lines; a blank line dispatches; `:` starts a
comment; multi-line `data:` joins with `\\n`; `event:` names the event; `id:`/`retry:` are ignored.
"""

from __future__ import annotations

from typing import NamedTuple

_CR = b"\r"
_LF = b"\n"


class Event(NamedTuple):
    event: bytes  # b"" when the stream gave no `event:` line (the spec's "message")
    data: bytes   # data lines joined by b"\n"; the exact bytes after `data: `


class SSEDecoder:
    """Incremental decoder: `feed()` each read, `close()` at end of stream."""

    __slots__ = ("_buf", "_data", "_event")

    def __init__(self) -> None:
        self._buf = b""
        self._data: list[bytes] = []
        self._event = b""

    def feed(self, chunk: bytes) -> list[Event]:
        """Events completed by this chunk, in order."""
        buf = self._buf + chunk if self._buf else chunk
        hold = b""
        if _CR in buf:
            if buf.endswith(_CR):  # maybe the first half of a CRLF split across reads
                buf, hold = buf[:-1], _CR
            buf = buf.replace(b"\r\n", _LF).replace(_CR, _LF)
        lines = buf.split(_LF)
        self._buf = lines.pop() + hold
        events: list[Event] = []
        for line in lines:
            self._line(line, events)
        return events

    def close(self) -> list[Event]:
        """Flush at end of stream: a last event without its blank line is still delivered (lenient)."""
        events: list[Event] = []
        if self._buf:
            line, self._buf = self._buf.rstrip(_CR), b""
            self._line(line, events)
        self._line(b"", events)
        return events

    def _line(self, line: bytes, events: list[Event]) -> None:
        if not line:
            if self._data:
                data = self._data[0] if len(self._data) == 1 else _LF.join(self._data)
                events.append(Event(self._event, data))
                self._data = []
            self._event = b""
            return
        if line[0] == 58:  # b":" comment (keep-alive)
            return
        name, _, value = line.partition(b":")
        if value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data.append(value)
        elif name == b"event":
            self._event = value
