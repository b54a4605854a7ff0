"""ChatCompletion: the request pipeline every inference route shares.

1 authenticate (done by the inbound guard: the caller arrives resolved), 2 resolve, 3 admit,
4 hold, 5 dispatch, 6 stream or return, 7 settle (always, in `finally`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import msgspec

from domain.catalog import Model, Offer, Provider
from domain.inference import Caller, Chunk, Completion, InferenceRequest, Usage, estimate_tokens
from domain.requests import RequestRecord
from domain.routing import Route, candidate_routes, check_anonymous, resolve_model
from domain.services.dispatch import Dispatch, OpenedStream
from domain.upstream import UpstreamError
from ports.catalog import CatalogSource
from ports.clock import Clock
from ports.ids import IdGenerator
from ports.requests import RequestLog
from ports.telemetry import InferenceMetrics
from ports.upstream import Upstream


class Reply(msgspec.Struct, kw_only=True):
    request_id: str
    model: Model
    provider: Provider
    offer: Offer
    completion: Completion
    upstream_s: float


class StreamReply(msgspec.Struct, kw_only=True):
    """An opened stream. Iterating `chunks` forwards it; settlement runs when iteration ends,
    fails, or is abandoned by a disconnecting client (the generator's `finally`)."""

    request_id: str
    model: Model
    provider: Provider
    offer: Offer
    ttfb_s: float
    chunks: AsyncIterator[Chunk]


class ChatCompletion:
    def __init__(self, catalog: CatalogSource, upstream: Upstream, dispatch: Dispatch, request_log: RequestLog,
                 metrics: InferenceMetrics, clock: Clock, ids: IdGenerator,
                 anonymous_models: frozenset[str] = frozenset()) -> None:
        self._catalog = catalog
        self._upstream = upstream
        self._dispatch = dispatch
        self._log = request_log
        self._metrics = metrics
        self._clock = clock
        self._ids = ids
        self._anonymous_models = anonymous_models

    async def __call__(self, request: InferenceRequest, caller: Caller) -> Reply | StreamReply:
        started = self._clock.monotonic()
        request_id = self._ids.request_id()
        model_id = request.model
        try:
            model, routes = self._resolve(request, caller)
            model_id = model.id
            if request.stream:
                opened = await self._dispatch.open_stream(routes, request)
                return StreamReply(request_id=request_id, model=model, provider=opened.provider, offer=opened.offer,
                                   ttfb_s=opened.ttfb_s,
                                   chunks=self._forward(request, caller, request_id, model, opened, started))
            served = await self._dispatch.infer(routes, request)
        except BaseException as exc:
            await self._settle(request_id, caller, request, model_id, None, None, started, None, exc)
            raise
        await self._settle(request_id, caller, request, model.id, served.provider, served.completion.usage,
                           started, None, None)
        return Reply(request_id=request_id, model=model, provider=served.provider, offer=served.offer,
                     completion=served.completion, upstream_s=served.upstream_s)

    def _resolve(self, request: InferenceRequest, caller: Caller) -> tuple[Model, list[Route]]:
        catalog = self._catalog.current()
        model = resolve_model(catalog, request.model)
        if caller.anonymous:
            check_anonymous(request.model, model, self._anonymous_models)
        return model, candidate_routes(catalog, model, pin=request.provider, usable=self._upstream.usable)

    async def _forward(self, request: InferenceRequest, caller: Caller, request_id: str, model: Model,
                       opened: OpenedStream, started: float) -> AsyncIterator[Chunk]:
        usage: Usage | None = None
        produced: list[str] = []
        error: BaseException | None = None
        ttft_ms = int((self._clock.monotonic() - started) * 1000)
        self._metrics.first_chunk(provider=opened.provider.slug, model=model.id, seconds=opened.ttfb_s)
        try:
            chunk = opened.first
            while True:
                if chunk.usage is not None:
                    usage = chunk.usage
                if chunk.text:
                    produced.append(chunk.text)
                yield chunk
                try:
                    chunk = await anext(opened.rest)
                except StopAsyncIteration:
                    break
        except UpstreamError as exc:
            error = exc
            await self._dispatch.record_midstream_failure(opened.provider.slug, exc)
            raise
        except BaseException as exc:  # client went away (GeneratorExit / cancellation)
            error = exc
            raise
        finally:
            if usage is None:
                usage = Usage(prompt_tokens=request.prompt_tokens_estimate,
                              completion_tokens=estimate_tokens("".join(produced)), estimated=True)
            await self._settle(request_id, caller, request, model.id, opened.provider, usage, started, ttft_ms,
                               error)
            aclose = getattr(opened.rest, "aclose", None)
            if aclose is not None:
                await aclose()

    async def _settle(self, request_id: str, caller: Caller, request: InferenceRequest, model_id: str,
                      provider: Provider | None, usage: Usage | None, started: float, ttft_ms: int | None,
                      error: BaseException | None) -> None:
        elapsed = self._clock.monotonic() - started
        usage = usage or Usage()
        disconnected = isinstance(error, GeneratorExit | asyncio.CancelledError)
        # A client that leaves after a provider answered was served (and is billed): completed.
        failed = error is not None and not (disconnected and provider is not None)
        message = None
        if error is not None:
            message = "client disconnected" if disconnected else getattr(error, "message", None) or type(error).__name__
        await self._log.record(RequestRecord(
            request_id=request_id, created_at=self._clock.now(), model=model_id,
            status="failed" if failed else "completed", user_id=caller.user_id, api_key_id=caller.api_key_id,
            provider=provider.slug if provider else None, input_tokens=usage.prompt_tokens,
            output_tokens=usage.completion_tokens, processing_time_ms=int(elapsed * 1000),
            time_to_first_token_ms=ttft_ms, error_message=message, is_anonymous=caller.anonymous,
            usage_estimated=usage.estimated, operation=request.operation.value,
        ))
        if provider is not None:
            self._metrics.completed(provider=provider.slug, model=model_id, success=not failed, seconds=elapsed,
                                    prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
                                    cost=None)

