"""A real SMTP server for tests (aiosmtpd, on its own thread): every message the gateway sends lands
in `messages`."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller


class _Collect:
    def __init__(self, sink: FakeSmtp) -> None:
        self._sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self._sink.arrived(email.message_from_bytes(envelope.content))
        return "250 OK"


class FakeSmtp:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._controller = Controller(_Collect(self), hostname="127.0.0.1", port=self.port)

    def env(self) -> dict[str, str]:
        return {"NOTIFIER": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(self.port), "SMTP_STARTTLS": "false",
                "EMAIL_FROM": "Gatewayz <noreply@gatewayz.test>"}

    def start(self) -> FakeSmtp:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def arrived(self, message: Message) -> None:
        """Called on the server's thread: wake every waiting test loop thread-safely."""
        with self._lock:
            self.messages.append(message)
            waiters = list(self._waiters)
        for loop, event in waiters:
            loop.call_soon_threadsafe(event.set)

    async def wait_for(self, count: int, *, within_s: float = 10.0) -> list[Message]:
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        with self._lock:
            self._waiters.append(entry)
        try:
            async with asyncio.timeout(within_s):
                while len(self.messages) < count:
                    event.clear()
                    if len(self.messages) >= count:
                        break
                    await event.wait()
        finally:
            with self._lock:
                self._waiters.remove(entry)
        return list(self.messages)


def text_body(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError("no text/plain part")
