"""ProviderUpstream: the one `Upstream` the gateway uses, dispatching on `provider.kind` to a wire
kind (OpenAI-compatible or Anthropic) over pooled sessions and the shared SSE decoder.

The HTTP mechanics (timeouts, status handling, stream reading, error mapping) live here once; a
wire kind only builds the request and reads the answer, so kinds cannot drift on failure rules."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

import aiohttp
import msgspec

from adapters.providers.anthropic_kind import AnthropicKind
from adapters.providers.errors import transport_error
from adapters.providers.openai_kind import OpenAIKind
from adapters.providers.profiles import PROFILES, Profile, profile_for
from adapters.providers.session import SessionPool
from adapters.providers.sse import Event, SSEDecoder
from adapters.providers.target import Target, base_url_env
from domain.catalog import Offer, Provider, ProviderKind
from domain.inference import Chunk, Completion, InferenceRequest
from domain.upstream import UpstreamError

# aiohttp errors are re-raised as UpstreamError `from None`: a ClientResponseError's repr carries the
# request headers (the provider key), and no log may show it.
_TRANSPORT = (aiohttp.ClientError, TimeoutError)


class StreamState(Protocol):
    done: bool  # the upstream said the stream is over: stop reading

    def on_event(self, event: Event) -> Chunk | None: ...

    def close(self) -> Chunk | None:
        """At end of body before `done`: a last chunk, or raise UpstreamError if the answer is cut."""
        ...


class WireKind(Protocol):
    def headers(self, key: str) -> dict[str, str]: ...

    def prepare(self, target: Target, offer: Offer, request: InferenceRequest, stream: bool) -> tuple[str, bytes]: ...

    def completion(self, target: Target, data: dict[str, Any], request: InferenceRequest) -> Completion: ...

    def stream(self, target: Target, request: InferenceRequest) -> StreamState: ...


class ProviderUpstream:
    """Upstream over HTTP. `first_byte_timeout_s` bounds the wait for the answer to begin (headers,
    and a stream's first bytes); `read_timeout_s` bounds every later gap between reads."""

    def __init__(self, env: Mapping[str, str], *, connect_timeout_s: float = 5.0, read_timeout_s: float = 120.0,
                 first_byte_timeout_s: float = 60.0, pool_limit: int = 512,
                 profiles: Mapping[str, Profile] = PROFILES) -> None:
        self._env = dict(env)
        self._first_byte_s = first_byte_timeout_s
        self._profiles = profiles
        self._sessions = SessionPool(connect_timeout_s=connect_timeout_s, read_timeout_s=read_timeout_s,
                                     limit=pool_limit)
        self._kinds: dict[ProviderKind, WireKind] = {ProviderKind.OPENAI: OpenAIKind(),
                                                     ProviderKind.ANTHROPIC: AnthropicKind()}
        self._targets: dict[Provider, Target] = {}

    def usable(self, provider: Provider) -> bool:
        return bool(self._env.get(provider.api_key_env))

    async def close(self) -> None:
        await self._sessions.close()

    async def infer(self, provider: Provider, offer: Offer, request: InferenceRequest) -> Completion:
        kind = self._kinds[provider.kind]
        target = self._target(provider, kind)
        url, payload = kind.prepare(target, offer, request, False)
        session = self._sessions.get(provider.slug)
        try:
            async with asyncio.timeout(self._first_byte_s):
                response = await session.post(url, data=payload, headers=target.headers)
            try:
                body = await response.read()
            finally:
                response.release()
        except _TRANSPORT as exc:
            raise transport_error(exc, provider=provider.slug) from None
        if not 200 <= response.status < 300:
            raise target.status_error(response.status, body, response.headers)
        return kind.completion(target, _json_object(target, body), request)

    async def infer_stream(self, provider: Provider, offer: Offer, request: InferenceRequest) -> AsyncIterator[Chunk]:
        """Chunks as they arrive. Opening chunks that carry nothing (role only) are held back until the
        first real one, so a failure before any content still raises before the first yield."""
        kind = self._kinds[provider.kind]
        target = self._target(provider, kind)
        url, payload = kind.prepare(target, offer, request, True)
        session = self._sessions.get(provider.slug)
        state = kind.stream(target, request)
        decoder = SSEDecoder()
        pending: list[Chunk] = []
        started = False
        response: aiohttp.ClientResponse | None = None
        deadline = asyncio.get_running_loop().time() + self._first_byte_s
        try:
            async with asyncio.timeout_at(deadline):
                response = await session.post(url, data=payload, headers=target.headers)
            if not 200 <= response.status < 300:
                raise target.status_error(response.status, await response.read(), response.headers)
            if "json" in response.content_type:  # an error (or an ignored stream flag) answered as JSON
                raise _not_a_stream(target, await response.read())
            content = response.content
            received = False
            while not state.done:
                if received:  # from here on only the session's read-gap timeout applies
                    data = await content.readany()
                else:  # asyncio.timeout never spans a yield: it would cancel the consumer's task
                    async with asyncio.timeout_at(deadline):
                        data = await content.readany()
                    received = bool(data)
                for event in decoder.feed(data) if data else decoder.close():
                    chunk = state.on_event(event)
                    if chunk is not None:
                        if started:
                            yield chunk
                        elif is_preamble(chunk):
                            pending.append(chunk)
                        else:
                            started = True
                            for held in pending:
                                yield held
                            yield chunk
                    if state.done:
                        break
                if not data:  # end of body
                    tail = None if state.done else state.close()
                    if tail is not None and started:
                        yield tail
                    elif tail is not None:
                        pending.append(tail)
                    break
            if not started:  # no content at all (an empty answer): deliver what there was
                for held in pending:
                    yield held
        except _TRANSPORT as exc:
            raise transport_error(exc, provider=provider.slug) from None
        finally:
            if response is not None:
                response.release()

    def _target(self, provider: Provider, kind: WireKind) -> Target:
        target = self._targets.get(provider)
        if target is None:
            key = self._env.get(provider.api_key_env) or ""
            if not key:
                raise UpstreamError("Provider has no API key configured", status=401, provider=provider.slug)
            profile = profile_for(provider.slug, self._profiles)
            target = Target(slug=provider.slug, base=self._env.get(base_url_env(provider.slug)) or provider.base_url,
                            key=key, headers={**kind.headers(key), **dict(profile.headers)}, profile=profile)
            self._targets[provider] = target
        return target


def is_preamble(chunk: Chunk) -> bool:
    """A chunk that only opens the answer (role, empty content, no finish, no usage)."""
    if chunk.text or chunk.usage is not None:
        return False
    for choice in chunk.data.get("choices") or ():
        if not isinstance(choice, dict) or choice.get("finish_reason"):
            return False
        delta = choice.get("delta")
        if isinstance(delta, dict):
            for name, value in delta.items():
                if name != "role" and value:
                    return False
    return True


def _json_object(target: Target, body: bytes) -> dict[str, Any]:
    try:
        data = msgspec.json.decode(body)
    except msgspec.DecodeError:
        raise target.protocol_error("Upstream returned a body that is not JSON") from None
    if not isinstance(data, dict):
        raise target.protocol_error("Upstream returned an unexpected JSON body")
    return data


def _not_a_stream(target: Target, body: bytes) -> UpstreamError:
    data = _json_object(target, body)
    if "error" in data or data.get("type") == "error":
        return target.payload_error(data)
    return target.protocol_error("Upstream answered a stream request without a stream")
