"""A scriptable fake of OpenAI-compatible providers and Anthropic's Messages API.

Integration tests, end-to-end tests (as a separate process) and the benchmark point
the gateway at this server instead of real providers, so it speaks the real wire
formats (see upstream_wire.py), is deterministic and keeps its hot path lean: no
per-request logging, bodies built with msgspec, unpaced streams written in one go.

    async with FakeUpstream() as fake:
        fake.script("gpt-4o", Script(status=429, retry_after="1", times=1))
        ...  # point a provider base_url at fake.url (with or without /v1)

Standalone: python -m tests.fakes.upstream --port 9999 --delay-ms 20 --chunks 64
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from aiohttp import web

from .upstream_wire import (
    Script,
    anthropic_error,
    chat_body,
    chat_stream,
    completion_body,
    completion_stream,
    dumps,
    embeddings_body,
    input_tokens,
    loads,
    messages_body,
    messages_stream,
    openai_error,
    plan,
    prompt_tokens_messages,
)

__all__ = ["FakeUpstream", "Recorded", "Script"]

_SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}


@dataclass(slots=True)
class Recorded:
    """One request as received; header names are lower-cased for easy lookup."""

    path: str
    headers: dict[str, str]
    json: dict[str, Any]


class FakeUpstream:
    """aiohttp server answering /v1/... and /... routes according to per-model Scripts."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        default: Script | None = None,
        max_recorded: int | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.requests: list[Recorded] = []
        self._default = default or Script()  # survives reset(): standalone CLI defaults
        self._max_recorded = max_recorded
        self._scripts: dict[str, list[list[Any]]] = {}  # model -> [[Script, remaining|None], ...]
        self._seq = 0
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        for prefix in ("/v1", ""):
            app.router.add_post(prefix + "/chat/completions", self._chat)
            app.router.add_post(prefix + "/completions", self._completions)
            app.router.add_post(prefix + "/embeddings", self._embeddings)
            app.router.add_post(prefix + "/messages", self._messages)
            app.router.add_get(prefix + "/models", self._models)
        app.router.add_get("/_fake/requests", self._debug_requests)
        app.router.add_post("/_fake/script", self._debug_script)
        app.router.add_post("/_fake/reset", self._debug_reset)
        return app

    async def start(self) -> FakeUpstream:
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeUpstream:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------ scripting

    def script(self, model: str, script: Script) -> None:
        """Script a native model name ("*" = all). Timed scripts queue ahead of the permanent one."""
        entries = self._scripts.setdefault(model, [])
        if script.times is None:
            entries[:] = [e for e in entries if e[1] is not None] + [[script, None]]
        elif script.times > 0:
            at = next((i for i, e in enumerate(entries) if e[1] is None), len(entries))
            entries.insert(at, [script, script.times])

    def reset(self) -> None:
        self._scripts.clear()
        self.requests.clear()

    def count(self, model: str | None = None) -> int:
        if model is None:
            return len(self.requests)
        return sum(1 for r in self.requests if r.json.get("model") == model)

    def _pick(self, model: str) -> Script:
        for key in (model, "*"):
            entries = self._scripts.get(key)
            if entries:
                entry = entries[0]
                if entry[1] is not None:
                    entry[1] -= 1
                    if entry[1] <= 0:
                        entries.pop(0)
                return cast(Script, entry[0])
        return self._default

    # ------------------------------------------------------------ plumbing

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    @staticmethod
    def _json(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
        return web.Response(body=body, status=status, headers=headers, content_type="application/json")

    def _error(
        self, anthropic: bool, status: int, message: str, retry_after: str | None = None
    ) -> web.Response:
        body = anthropic_error(status, message) if anthropic else openai_error(status, message)
        return self._json(body, status, {"retry-after": retry_after} if retry_after else None)

    async def _begin(
        self, request: web.Request, anthropic: bool
    ) -> web.StreamResponse | tuple[dict[str, Any], Script]:
        """Record, authenticate, validate, pick the script and apply delay/status/drop."""
        raw = await request.read()
        try:
            body = loads(raw) if raw else {}
        except Exception:
            body = None
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.requests.append(Recorded(request.path, headers, body if isinstance(body, dict) else {}))
        if self._max_recorded and len(self.requests) > self._max_recorded:
            del self.requests[: len(self.requests) // 2]
        if not self._authorized(headers, anthropic):
            msg = (
                "invalid x-api-key or missing anthropic-version"
                if anthropic
                else "Incorrect API key provided."
            )
            return self._error(anthropic, 401, msg)
        if not isinstance(body, dict):
            return self._error(anthropic, 400, "request body is not valid JSON")
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return self._error(anthropic, 400, "model: Field required")
        if anthropic and not isinstance(body.get("max_tokens"), int):
            return self._error(anthropic, 400, "max_tokens: Field required")
        script = self._pick(model)
        if script.delay_s:
            await asyncio.sleep(script.delay_s)
        if script.status != 200:
            return self._error(anthropic, script.status, script.error_message, script.retry_after)
        if script.drop_after_chunks is not None and not body.get("stream"):
            self._drop(request)  # non-stream: the connection dies before any response byte
            return web.Response()
        return body, script

    @staticmethod
    def _authorized(headers: dict[str, str], anthropic: bool) -> bool:
        """OpenAI: Bearer. Anthropic: anthropic-version plus x-api-key, or a Bearer token
        (OAuth-style; the installed anthropic SDK sends api_key that way)."""
        auth = headers.get("authorization", "")
        bearer = auth[:7].lower() == "bearer " and bool(auth[7:].strip())
        if anthropic:
            return bool(headers.get("anthropic-version")) and (bool(headers.get("x-api-key")) or bearer)
        return bearer

    @staticmethod
    def _drop(request: web.Request) -> None:
        if request.transport is not None:
            request.transport.close()  # flushes what was written, then FIN mid-body

    async def _stream(
        self, request: web.Request, script: Script, frames: Iterable[tuple[bool, bytes]]
    ) -> web.StreamResponse:
        """Write SSE frames; pace and/or cut the connection after N content chunks."""
        resp = web.StreamResponse(headers=_SSE_HEADERS)
        drop, pace = script.drop_after_chunks, script.chunk_delay_s
        try:
            await resp.prepare(request)
            if drop is None and not pace:
                await resp.write(b"".join(f for _, f in frames))
            else:
                sent = 0
                for is_content, frame in frames:
                    if is_content:
                        if drop is not None and sent >= drop:
                            self._drop(request)
                            return resp
                        if sent and pace:
                            await asyncio.sleep(pace)
                        sent += 1
                    await resp.write(frame)
            await resp.write_eof()
        except ConnectionError:  # client went away: normal for cancellation tests
            pass
        return resp

    # ------------------------------------------------------------ OpenAI routes

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        r = await self._begin(request, anthropic=False)
        if isinstance(r, web.StreamResponse):
            return r
        body, script = r
        seq, model, created = self._next(), body["model"], int(time.time())
        max_tokens = body.get("max_completion_tokens")
        max_tokens = body.get("max_tokens") if max_tokens is None else max_tokens
        p = plan(script, prompt_tokens_messages(body.get("messages")), max_tokens, seq, "call_fake")
        rid = f"chatcmpl-fake{seq:08d}"
        if body.get("stream"):
            usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return await self._stream(request, script, chat_stream(p, model, rid, created, usage))
        return self._json(chat_body(p, model, rid, created))

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        r = await self._begin(request, anthropic=False)
        if isinstance(r, web.StreamResponse):
            return r
        body, script = r
        seq, model, created = self._next(), body["model"], int(time.time())
        p = plan(script, input_tokens(body.get("prompt")), body.get("max_tokens"), seq, "call_fake")
        rid = f"cmpl-fake{seq:08d}"
        if body.get("stream"):
            usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return await self._stream(request, script, completion_stream(p, model, rid, created, usage))
        return self._json(completion_body(p, model, rid, created))

    async def _embeddings(self, request: web.Request) -> web.StreamResponse:
        r = await self._begin(request, anthropic=False)
        if isinstance(r, web.StreamResponse):
            return r
        body, script = r
        inputs = body.get("input")
        tokens = script.prompt_tokens if script.prompt_tokens is not None else input_tokens(inputs)
        out = embeddings_body(
            inputs, body["model"], body.get("encoding_format"), tokens, not script.omit_usage
        )
        return self._json(out)

    async def _models(self, request: web.Request) -> web.Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.requests.append(Recorded(request.path, headers, {}))
        anthropic = "anthropic-version" in headers
        if not self._authorized(headers, anthropic):
            return self._error(anthropic, 401, "invalid credentials")
        names = [m for m in self._scripts if m != "*"]
        if anthropic:
            data = [
                {"type": "model", "id": m, "display_name": m, "created_at": "2024-01-01T00:00:00Z"}
                for m in names
            ]
            first, last = (names[0], names[-1]) if names else (None, None)
            return self._json(dumps({"data": data, "has_more": False, "first_id": first, "last_id": last}))
        models = [{"id": m, "object": "model", "created": 1700000000, "owned_by": "fake"} for m in names]
        return self._json(dumps({"object": "list", "data": models}))

    # ------------------------------------------------------------ Anthropic route

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        r = await self._begin(request, anthropic=True)
        if isinstance(r, web.StreamResponse):
            return r
        body, script = r
        seq, model = self._next(), body["model"]
        prompt = prompt_tokens_messages(body.get("messages"), body.get("system"))
        p = plan(script, prompt, body.get("max_tokens"), seq, "toolu_fake")
        rid = f"msg_fake{seq:08d}"
        if body.get("stream"):
            return await self._stream(request, script, messages_stream(p, model, rid))
        return self._json(messages_body(p, model, rid), headers={"request-id": f"req_fake{seq:08d}"})

    # ------------------------------------------------------------ debugging / remote control

    async def _debug_requests(self, request: web.Request) -> web.Response:
        return self._json(dumps([dataclasses.asdict(r) for r in self.requests]))

    async def _debug_script(self, request: web.Request) -> web.Response:
        """POST {"model": "*", ...Script fields}: lets e2e tests script a separate process."""
        body = loads(await request.read())
        model = body.pop("model", "*")
        self.script(model, Script(**body))
        return self._json(b'{"ok":true}')

    async def _debug_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return self._json(b'{"ok":true}')


# ---------------------------------------------------------------- standalone process


def _parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m tests.fakes.upstream", description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9999, help="0 = pick a free port (printed on stdout)")
    ap.add_argument("--delay-ms", type=float, default=0.0, help="delay before response headers")
    ap.add_argument("--chunk-delay-ms", type=float, default=0.0, help="pacing between stream chunks")
    ap.add_argument("--chunks", type=int, default=None, help="content chunks per reply")
    ap.add_argument(
        "--content",
        default=os.environ.get("FAKE_UPSTREAM_CONTENT", Script.content),
        help="reply text (env FAKE_UPSTREAM_CONTENT)",
    )
    ap.add_argument("--max-recorded", type=int, default=10_000, help="bound on kept request records")
    return ap.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    default = Script(
        delay_s=args.delay_ms / 1000,
        chunk_delay_s=args.chunk_delay_ms / 1000,
        stream_chunks=args.chunks,
        content=args.content,
    )
    fake = await FakeUpstream(args.host, args.port, default=default, max_recorded=args.max_recorded).start()
    print(f"fake upstream listening on {fake.url}", flush=True)  # e2e harness waits for this line
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await fake.stop()


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    try:
        import uvloop
    except ImportError:
        asyncio.run(_serve(args))
    else:
        uvloop.run(_serve(args))


if __name__ == "__main__":
    main()
