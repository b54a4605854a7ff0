"""ChatCompletion: the request pipeline every inference route shares.

1 authenticate (done by the inbound guard: the caller arrives resolved), 2 resolve, 3 admit,
4 hold, 5 dispatch, 6 stream or return, 7 settle (always, in `finally`).

With the response cache on, 3a looks the answer up after admission: a hit replays it (no hold, no
provider, no charge) and a completed miss is stored after its settlement. With it off (`cache` None)
the pipeline does no cache work."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from decimal import Decimal
from typing import Any

import msgspec

from domain.catalog import Model, Offer, Provider
from domain.chat_history import StreamedAnswer, answer_text
from domain.errors import AuthenticationRequired
from domain.inference import Caller, Chunk, Completion, InferenceRequest, Usage, estimate_tokens
from domain.limits import Admission, rate_limit_headers
from domain.requests import RequestRecord
from domain.response_cache import (
    COMPLETE,
    MISS_METADATA,
    CachedAnswer,
    CacheStatus,
    from_completion,
    hit_metadata,
    replayed_chunks,
    replayed_completion,
)
from domain.routing import Route, candidate_routes, check_anonymous, resolve_model
from domain.services.admit_request import AdmitRequest
from domain.services.dispatch import Dispatch, OpenedStream
from domain.services.hold_credits import HoldCredits
from domain.services.response_caching import ResponseCaching
from domain.services.session_history import SessionHistory
from domain.services.settle_request import SettleRequest
from domain.upstream import UpstreamError
from ports.catalog import CatalogSource
from ports.clock import Clock
from ports.ids import IdGenerator
from ports.requests import RequestLog
from ports.telemetry import InferenceMetrics
from ports.upstream import Upstream


class Reply(msgspec.Struct, kw_only=True):
    """A whole answer, already settled (the hold closed and, with a journaled hold store, the charge
    and request row durable), so no answer leaves unbilled. The rest of its bookkeeping (lease,
    request record when not journaled, metrics) runs in `finish`, which the inbound adapter awaits
    once the response is sent (or could not be). `finish` is idempotent."""

    request_id: str
    model: Model
    provider: Provider
    offer: Offer
    completion: Completion
    upstream_s: float
    cost: Decimal
    elapsed_s: float
    limit_headers: dict[str, str]
    finish: Callable[[], Awaitable[None]]
    cache: str = CacheStatus.DISABLED
    savings: Decimal | None = None  # a cache hit: what the original answer cost (and this one did not)


class StreamReply(msgspec.Struct, kw_only=True):
    """An opened stream. Iterating `chunks` forwards it; settlement runs when iteration ends,
    fails, or is abandoned by a disconnecting client (the generator's `finally`)."""

    request_id: str
    model: Model
    provider: Provider
    offer: Offer
    ttfb_s: float
    chunks: AsyncIterator[Chunk]
    limit_headers: dict[str, str]
    upstream_s: float = 0.0  # waiting on providers until the first chunk, failed attempts included
    cache: str = CacheStatus.DISABLED


class _Billed(msgspec.Struct, kw_only=True):
    """The outcome of settlement: the request row, and whether it went with the settlement."""

    record: RequestRecord
    elapsed_s: float
    journaled: bool = False


class _Context(msgspec.Struct, kw_only=True):
    """What settlement needs to know about one request, gathered as the pipeline runs."""

    request_id: str
    caller: Caller
    request: InferenceRequest
    started: float
    model_id: str
    model: Model | None = None
    admission: Admission | None = None
    held: Decimal | None = None
    session_id: int | None = None                 # chat history: the session the answer goes to
    answer: StreamedAnswer | str | None = None
    cache_key: str | None = None                  # a cache miss to store once completed
    streamed: StreamedAnswer | None = None        # a streamed miss, assembled for the cache


class ChatCompletion:
    def __init__(self, catalog: CatalogSource, upstream: Upstream, dispatch: Dispatch, request_log: RequestLog,
                 metrics: InferenceMetrics, clock: Clock, ids: IdGenerator, hold: HoldCredits,
                 settle: SettleRequest, admit: AdmitRequest, anonymous_models: frozenset[str] = frozenset(),
                 history: SessionHistory | None = None, cache: ResponseCaching | None = None) -> None:
        self._history = history
        self._cache = cache
        self.caching = cache is not None  # the inbound side reads the bypass headers only then
        self._admit = admit
        self._catalog = catalog
        self._upstream = upstream
        self._dispatch = dispatch
        self._log = request_log
        self._metrics = metrics
        self._clock = clock
        self._ids = ids
        self._hold = hold
        self._settle_billing = settle
        self._anonymous_models = anonymous_models
        self._settling: set[asyncio.Task[Any]] = set()  # settlements outliving a cancelled request

    async def __call__(self, request: InferenceRequest, caller: Caller,
                       session_id: int | None = None) -> Reply | StreamReply:
        ctx = _Context(request_id=request.request_id or self._ids.request_id(), caller=caller, request=request,
                       started=self._clock.monotonic(), model_id=request.model, session_id=session_id)
        try:
            if session_id is not None:
                await self._session_history().check(caller, session_id)             # before any provider
            ctx.model, routes = self._resolve(request, caller)                      # 2 resolve
            ctx.model_id = ctx.model.id
            ctx.admission = await self._admit(caller, request)                      # 3 admit
            cache = CacheStatus.DISABLED
            if self._cache is not None:                                              # 3a cache
                lookup = await self._cache.lookup(caller, ctx.model.id, request, bypass=request.cache_bypass)
                cache = lookup.status
                if lookup.answer is not None:
                    replay = self._replay(ctx, lookup.answer)
                    if replay is not None:
                        return replay
                    cache = CacheStatus.MISS
                ctx.cache_key = lookup.key
                if lookup.key is not None and request.stream:
                    ctx.streamed = StreamedAnswer()
            ctx.held = await self._hold(caller, ctx.request_id, ctx.model, routes, request)  # 4 hold
            if request.stream:
                opened = await self._dispatch.open_stream(routes, request)          # 5 dispatch
                chunks = self._forward(ctx, opened)
                if session_id is not None:
                    chunks = _tapped(ctx, chunks)
                return StreamReply(request_id=ctx.request_id, model=ctx.model, provider=opened.provider,
                                   offer=opened.offer, ttfb_s=opened.ttfb_s, chunks=chunks,
                                   upstream_s=opened.upstream_s, limit_headers=rate_limit_headers(ctx.admission),
                                   cache=cache)
            served = await self._dispatch.infer(routes, request)                     # 5 dispatch
        except BaseException as exc:
            await self._shielded(self._settle(ctx, None, None, None, exc, produced_output=False))  # 7 (release)
            raise
        usage = served.completion.usage
        if session_id is not None:
            ctx.answer = answer_text(served.completion.body)
        answered_at = self._clock.monotonic()
        billed = await self._shielded(self._bill(ctx, served.provider, served.offer, usage, None,  # 7 settle
                                                 produced_output=True, answered_at=answered_at))
        settled = False

        async def finish() -> None:                                                   # 7 the rest
            nonlocal settled
            if not settled:
                settled = True
                await self._close(ctx, billed, served.provider, usage)
                if ctx.cache_key is not None:
                    await self._keep(ctx.cache_key, billed, from_completion(
                        served.completion.body, usage, served.provider.slug, billed.record.cost_usd or Decimal(0)))

        return Reply(request_id=ctx.request_id, model=ctx.model, provider=served.provider, offer=served.offer,
                     completion=served.completion, upstream_s=served.upstream_s,
                     cost=self._settle_billing.cost(served.offer, usage),
                     elapsed_s=self._clock.monotonic() - ctx.started,
                     limit_headers=rate_limit_headers(ctx.admission), finish=finish, cache=cache)  # 6 return

    async def _keep(self, key: str, billed: _Billed, answer: CachedAnswer | None) -> None:
        """Store a completed, charged, complete answer (never a failure or a settlement that failed)."""
        if (self._cache is not None and answer is not None and billed.record.status == "completed"
                and billed.record.cost_usd is not None):
            await self._cache.store(key, answer)

    def _replay(self, ctx: _Context, answer: CachedAnswer) -> Reply | StreamReply | None:
        """A hit: the kept answer in the route's shape, free. Its row (cost 0, the seed's metadata) and
        the lease are settled when it has been sent. None when its provider left the catalog (a miss)."""
        assert ctx.model is not None and ctx.admission is not None
        provider = self._catalog.current().providers.get(answer.provider)
        if provider is None:
            return None
        offer = next((o for o in ctx.model.offers if o.provider == provider.slug), None) or Offer(
            provider=provider.slug, native_id=ctx.model.id, input_per_mtok=None, output_per_mtok=None)
        now = self._clock.now()
        created = int(now.timestamp())
        elapsed = self._clock.monotonic() - ctx.started
        record = RequestRecord(
            request_id=ctx.request_id, created_at=now, model=ctx.model_id, status="completed",
            user_id=ctx.caller.user_id, api_key_id=ctx.caller.api_key_id, provider=provider.slug,
            input_tokens=answer.prompt_tokens, output_tokens=answer.completion_tokens,
            processing_time_ms=int(elapsed * 1000), cost_usd=Decimal(0), operation=ctx.request.operation.value,
            client_request_id=ctx.request.client_request_id, metadata=hit_metadata(answer.cost))
        billed = _Billed(record=record, elapsed_s=elapsed)
        headers = rate_limit_headers(ctx.admission)
        if ctx.request.stream:
            record = msgspec.structs.replace(record, time_to_first_token_ms=int(elapsed * 1000))
            chunks = self._replayed(ctx, msgspec.structs.replace(billed, record=record), answer)
            if ctx.session_id is not None:
                chunks = _tapped(ctx, chunks)
            return StreamReply(request_id=ctx.request_id, model=ctx.model, provider=provider, offer=offer, ttfb_s=0.0,
                               chunks=chunks, limit_headers=headers, cache=CacheStatus.HIT)
        completion = replayed_completion(answer, request_id=ctx.request_id, model=ctx.model.id, created=created,
                                         operation=ctx.request.operation)
        if ctx.session_id is not None:
            ctx.answer = answer_text(completion.body)
        settled = False

        async def finish() -> None:
            nonlocal settled
            if not settled:
                settled = True
                await self._close(ctx, billed, None, Usage())  # a hit uses no tokens of the token windows

        return Reply(request_id=ctx.request_id, model=ctx.model, provider=provider, offer=offer,
                     completion=completion, upstream_s=0.0, cost=Decimal(0), elapsed_s=elapsed,
                     limit_headers=headers, finish=finish, cache=CacheStatus.HIT, savings=answer.cost)

    async def _replayed(self, ctx: _Context, billed: _Billed, answer: CachedAnswer) -> AsyncIterator[Chunk]:
        assert ctx.model is not None
        try:
            for chunk in replayed_chunks(answer, request_id=ctx.request_id, model=ctx.model.id,
                                         created=int(billed.record.created_at.timestamp()),
                                         operation=ctx.request.operation):
                if chunk.usage is not None:
                    _attach_cost(chunk, Decimal(0))
                    chunk.data["gateway_usage"] = {"cost_usd": Decimal(0), "cache_savings_usd": answer.cost}
                yield chunk
        finally:
            await self._shielded(self._close(ctx, billed, None, Usage()))

    def _resolve(self, request: InferenceRequest, caller: Caller) -> tuple[Model, list[Route]]:
        catalog = self._catalog.current()
        if caller.anonymous and not self._anonymous_models:
            raise AuthenticationRequired()  # no model is open to anonymous callers: a key is required
        model = resolve_model(catalog, request.model)
        if caller.anonymous:
            check_anonymous(request.model, model, self._anonymous_models)
        return model, candidate_routes(catalog, model, pin=request.provider, usable=self._upstream.usable)

    async def _forward(self, ctx: _Context, opened: OpenedStream) -> AsyncIterator[Chunk]:
        """6 stream: forward chunks as they come; the usage chunk also tells the client the cost."""
        assert ctx.model is not None
        usage: Usage | None = None
        produced: list[str] = []
        error: BaseException | None = None
        ttft_ms = int((self._clock.monotonic() - ctx.started) * 1000)
        collect = ctx.streamed  # a cache miss: the answer assembled for the cache
        self._metrics.first_chunk(provider=opened.provider.slug, model=ctx.model.id, seconds=opened.ttfb_s)
        try:
            chunk = opened.first
            while True:
                if chunk.usage is not None:
                    usage = chunk.usage
                    _attach_cost(chunk, self._settle_billing.cost(opened.offer, usage))
                if chunk.text:
                    produced.append(chunk.text)
                if collect is not None:
                    collect.add(chunk.data)
                yield chunk
                try:
                    chunk = await anext(opened.rest)
                except StopAsyncIteration:
                    break
        except UpstreamError as exc:
            error = exc
            await self._dispatch.record_midstream_failure(opened.provider.slug, exc)
            raise
        except BaseException as exc:  # the client went away (GeneratorExit / cancellation)
            error = exc
            raise
        finally:
            text = "".join(produced)
            if usage is None:  # no usage from the provider: charge for what was produced
                usage = Usage(prompt_tokens=ctx.request.prompt_tokens_estimate,
                              completion_tokens=estimate_tokens(text), estimated=True)
            await self._shielded(self._end_stream(ctx, opened, usage, error, bool(text), ttft_ms))

    async def _end_stream(self, ctx: _Context, opened: OpenedStream, usage: Usage, error: BaseException | None,
                          produced_text: bool, ttft_ms: int) -> None:
        billed = await self._settle(ctx, opened.provider, opened.offer, usage, error,
                                    produced_output=produced_text or usage.completion_tokens > 0, ttft_ms=ttft_ms)
        streamed = ctx.streamed
        if (ctx.cache_key is not None and streamed is not None and error is None
                and streamed.finish_reason in COMPLETE):
            await self._keep(ctx.cache_key, billed, CachedAnswer(
                message=streamed.message(), finish_reason=streamed.finish_reason or "stop",
                prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
                provider=opened.provider.slug, cost=billed.record.cost_usd or Decimal(0)))
        aclose = getattr(opened.rest, "aclose", None)
        if aclose is not None:
            await aclose()

    async def _shielded(self, work: Coroutine[Any, Any, Any]) -> Any:
        """Run settlement to completion even when the caller is being cancelled: a client that
        disconnects cancels the task streaming to it (level-triggered, every later await in it is
        cancelled too), and settlement must still charge, release the hold and return the lease."""
        task = asyncio.ensure_future(work)
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)
        return await asyncio.shield(task)

    async def _settle(self, ctx: _Context, provider: Provider | None, offer: Offer | None, usage: Usage | None,
                      error: BaseException | None, *, produced_output: bool, ttft_ms: int | None = None) -> _Billed:
        """Charge (or release), return the concurrency lease, write the one request record."""
        billed = await self._bill(ctx, provider, offer, usage, error, produced_output=produced_output,
                                  ttft_ms=ttft_ms)
        await self._close(ctx, billed, provider, usage)
        return billed

    async def _bill(self, ctx: _Context, provider: Provider | None, offer: Offer | None, usage: Usage | None,
                    error: BaseException | None, *, produced_output: bool, ttft_ms: int | None = None,
                    answered_at: float | None = None) -> _Billed:
        """Charge (or release) and build the one request record, which a journaled hold store takes
        along with the settlement. Never raises for bookkeeping."""
        elapsed = self._clock.monotonic() - ctx.started
        disconnected = isinstance(error, GeneratorExit | asyncio.CancelledError)
        # A client that leaves after a provider answered was served (and is billed): completed.
        failed = error is not None and not (disconnected and provider is not None)
        message: str | None = None
        if error is not None:
            message = "client disconnected" if disconnected else getattr(error, "message", None) or type(error).__name__
        counted = usage or Usage()
        cost = (self._settle_billing.charge_for(offer, usage, produced_output=produced_output)
                if ctx.model is not None else None)
        record = RequestRecord(
            request_id=ctx.request_id, created_at=self._clock.now(), model=ctx.model_id,
            status="failed" if failed else "completed", user_id=ctx.caller.user_id,
            api_key_id=ctx.caller.api_key_id, provider=provider.slug if provider else None,
            input_tokens=counted.prompt_tokens, output_tokens=counted.completion_tokens,
            processing_time_ms=int(elapsed * 1000), time_to_first_token_ms=ttft_ms, error_message=message,
            cost_usd=cost, is_anonymous=ctx.caller.anonymous, usage_estimated=counted.estimated,
            operation=ctx.request.operation.value, client_request_id=ctx.request.client_request_id,
            metadata=MISS_METADATA if ctx.cache_key is not None else None,
        )
        if ctx.model is None:
            return _Billed(record=record, elapsed_s=elapsed)
        try:
            settlement = await self._settle_billing(ctx.caller, ctx.request_id, ctx.model, offer, usage, ctx.held,
                                                    produced_output=produced_output, record=record,
                                                    answered_at=answered_at)
        except Exception as exc:
            billing_error = f"settlement failed: {getattr(exc, 'message', type(exc).__name__)}"
            record = msgspec.structs.replace(record, cost_usd=None, error_message=message or billing_error)
            return _Billed(record=record, elapsed_s=elapsed)
        return _Billed(record=record, elapsed_s=elapsed, journaled=settlement.journaled)

    async def _close(self, ctx: _Context, billed: _Billed, provider: Provider | None, usage: Usage | None) -> None:
        """Return the concurrency lease, log the request record (unless it was journaled), count."""
        if ctx.admission is not None:
            await self._admit.settle(ctx.admission, usage.total_tokens if usage is not None else None)
        record = billed.record
        if not billed.journaled:
            await self._log.record(record)
        if provider is not None:
            self._metrics.completed(provider=provider.slug, model=ctx.model_id, success=record.status == "completed",
                                    seconds=billed.elapsed_s, prompt_tokens=record.input_tokens,
                                    completion_tokens=record.output_tokens, cost=record.cost_usd)
        if ctx.session_id is not None and record.status == "completed":
            answer = ctx.answer.text() if isinstance(ctx.answer, StreamedAnswer) else ctx.answer or ""
            await self._session_history().save(ctx.session_id, content=answer, model=ctx.model_id,
                                               tokens=record.output_tokens)

    def _session_history(self) -> SessionHistory:
        if self._history is None:
            raise RuntimeError("chat history is not wired into this pipeline")
        return self._history


async def _tapped(ctx: _Context, chunks: AsyncIterator[Chunk]) -> AsyncIterator[Chunk]:
    """Keeps what a stream with `session_id` says, for its session; closing it closes the stream
    under it, so settlement (and the save) runs when a client leaves too."""
    ctx.answer = answer = StreamedAnswer()
    try:
        async for chunk in chunks:
            answer.add(chunk.data)
            yield chunk
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()


def _attach_cost(chunk: Chunk, cost: Decimal) -> None:
    """`usage.cost` in the final usage chunk; the chunk is re-encoded, not forwarded raw."""
    usage = chunk.data.get("usage")
    if isinstance(usage, dict):
        usage["cost"] = cost
        chunk.raw = None
