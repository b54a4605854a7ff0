"""A TCP proxy a test can cut and restore: "Redis stopped" without stopping the shared Redis."""

from __future__ import annotations

import asyncio
import contextlib


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target. `stop()` refuses new connections and drops open
    ones; `start()` again serves on the same port; `blackhole=True` accepts but never answers;
    `mute=True` forwards requests but drops the answers (the command runs, its reply is lost)."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0
        self.blackhole = False
        self.mute = False

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            await self._server.wait_closed()
            self._server = None
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        if self.blackhole:
            with contextlib.suppress(Exception):
                await reader.read()  # swallow until the client gives up
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.close()
            return
        self._writers.add(up_writer)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer, answers=True),
                             return_exceptions=True)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, answers: bool = False) -> None:
        try:
            while data := await reader.read(65536):
                if answers and self.mute:
                    continue
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()
            self._writers.discard(writer)
