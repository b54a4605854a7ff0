"""The Upstream contract: every provider kind answers, streams and fails the same way.

Real HTTP against the scriptable fake upstream (it speaks both wire formats); each test runs once
per kind. Kind-specific behaviour (request shape on the wire) is at the bottom."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from adapters.providers import Profile, ProviderUpstream
from domain.catalog import Offer, Provider, ProviderKind
from domain.inference import Chunk, Completion, InferenceRequest, Operation
from domain.upstream import UpstreamError
from tests.fakes.upstream import FakeUpstream, Script

pytestmark = pytest.mark.asyncio

KEY = "sk-test-0123456789abcdefghijklmnop"
CONTENT = "Hello from the fake upstream."
MESSAGES = [{"role": "system", "content": "Be brief"}, {"role": "user", "content": "Say hello please"}]
WEATHER = [{"name": "get_weather", "arguments": '{"city":"Paris"}'}]


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


class Rig:
    """One provider of the kind under test, pointed at the fake, and helpers to call it."""

    def __init__(self, kind: str, fake: FakeUpstream) -> None:
        self.kind, self.fake = kind, fake
        self.provider = self.provider_at(fake.url + "/v1")
        self.offer = Offer(provider=self.provider.slug, native_id="fake-model",
                           input_per_mtok=Decimal(1), output_per_mtok=Decimal(2))
        self.env = {self.provider.api_key_env: KEY}
        self.opened: list[ProviderUpstream] = []
        self.upstream = self.make()

    def provider_at(self, base_url: str, slug: str | None = None) -> Provider:
        return Provider(slug=slug or f"fake-{self.kind}", name="Fake", kind=ProviderKind(self.kind),
                        base_url=base_url, api_key_env=f"FAKE_{self.kind.upper()}_API_KEY")

    def make(self, env: dict[str, str] | None = None, **options: Any) -> ProviderUpstream:
        upstream = ProviderUpstream(env if env is not None else self.env, **options)
        self.opened.append(upstream)
        return upstream

    def script(self, **fields: Any) -> None:
        self.fake.script(self.offer.native_id, Script(**fields))

    @staticmethod
    def request(stream: bool = False, **body: Any) -> InferenceRequest:
        return InferenceRequest(operation=Operation.CHAT, model="m", stream=stream,
                                body={"model": "m", "messages": MESSAGES, **body})

    async def infer(self, upstream: ProviderUpstream | None = None, provider: Provider | None = None) -> Completion:
        return await (upstream or self.upstream).infer(provider or self.provider, self.offer, self.request())

    async def stream(self, upstream: ProviderUpstream | None = None, provider: Provider | None = None,
                     into: list[Chunk] | None = None) -> list[Chunk]:
        chunks = into if into is not None else []
        async for chunk in (upstream or self.upstream).infer_stream(provider or self.provider, self.offer,
                                                                    self.request(stream=True)):
            chunks.append(chunk)
        return chunks


@pytest.fixture
async def fake() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream() as f:
        yield f


@pytest.fixture(params=["openai", "anthropic"])
async def rig(request: pytest.FixtureRequest, fake: FakeUpstream) -> AsyncIterator[Rig]:
    r = Rig(request.param, fake)
    yield r
    for upstream in r.opened:
        await upstream.close()


def message(completion: Completion) -> dict[str, Any]:
    return completion.body["choices"][0]["message"]  # type: ignore[no-any-return]


def tool_arguments(chunks: list[Chunk]) -> dict[int, str]:
    args: dict[int, str] = {}
    for chunk in chunks:
        for choice in chunk.data["choices"]:
            for call in choice["delta"].get("tool_calls") or ():
                args[call["index"]] = args.get(call["index"], "") + call["function"].get("arguments", "")
    return args


# ---------------------------------------------------------------- answers


async def test_a_whole_answer_is_an_openai_completion_with_the_providers_usage(rig: Rig) -> None:
    completion = await rig.infer()
    assert completion.body["object"] == "chat.completion"
    assert message(completion)["content"] == CONTENT
    assert completion.body["choices"][0]["finish_reason"] == "stop"
    assert completion.usage.completion_tokens == 5 and completion.usage.prompt_tokens > 0
    assert not completion.usage.estimated


async def test_a_stream_yields_the_text_in_order_and_the_usage_last(rig: Rig) -> None:
    rig.script(stream_chunks=5)
    chunks = await rig.stream()
    assert [c.text for c in chunks if c.text] == ["Hello", " from", " the", " fake", " upstream."]
    assert all(c.data["object"] == "chat.completion.chunk" for c in chunks)
    with_usage = [c for c in chunks if c.usage is not None]
    assert len(with_usage) == 1 and with_usage[0] is chunks[-1]
    assert with_usage[0].usage is not None and with_usage[0].usage.completion_tokens == 5
    assert [c.data["choices"][0]["finish_reason"] for c in chunks if c.data["choices"]][-1] == "stop"


async def test_tool_calls_come_back_with_json_string_arguments(rig: Rig) -> None:
    rig.script(tool_calls=WEATHER)
    completion = await rig.infer()
    call = message(completion)["tool_calls"][0]
    assert call["type"] == "function" and call["function"]["name"] == "get_weather"
    assert msgspec.json.decode(call["function"]["arguments"]) == {"city": "Paris"}
    assert completion.body["choices"][0]["finish_reason"] == "tool_calls"


async def test_streamed_tool_calls_assemble_into_the_arguments(rig: Rig) -> None:
    rig.script(tool_calls=WEATHER)
    chunks = await rig.stream()
    names = [call["function"].get("name") for c in chunks if c.data["choices"]
             for call in c.data["choices"][0]["delta"].get("tool_calls") or () if "id" in call]
    assert names == ["get_weather"]
    assert msgspec.json.decode(tool_arguments(chunks)[0]) == {"city": "Paris"}
    assert chunks[-1].usage is not None


# ---------------------------------------------------------------- usage


async def test_a_whole_answer_without_usage_gets_an_estimate(rig: Rig) -> None:
    rig.script(omit_usage=True)
    usage = (await rig.infer()).usage
    assert usage.estimated and usage.prompt_tokens > 0 and usage.completion_tokens > 0


async def test_a_stream_without_usage_yields_no_usage_but_all_its_text(rig: Rig) -> None:
    rig.script(omit_usage=True)
    chunks = await rig.stream()
    assert all(c.usage is None for c in chunks)
    assert "".join(c.text for c in chunks) == CONTENT


# ---------------------------------------------------------------- failures


async def test_an_upstream_429_fails_over_with_its_retry_after(rig: Rig) -> None:
    rig.script(status=429, retry_after="7", error_message="Rate limit reached")
    for call in (rig.infer, rig.stream):
        with pytest.raises(UpstreamError) as caught:
            await call()
        err = caught.value
        assert (err.status, err.retry_after, err.provider) == (429, "7", rig.provider.slug)
        assert err.fails_over and "Rate limit reached" in err.message


async def test_an_upstream_500_fails_over(rig: Rig) -> None:
    rig.script(status=503, error_message="overloaded")
    with pytest.raises(UpstreamError) as caught:
        await rig.stream()
    assert caught.value.status == 503 and caught.value.fails_over


async def test_an_upstream_400_goes_back_to_the_client_sanitised(rig: Rig) -> None:
    leaky = (f"messages.0: invalid role for key {KEY} at {rig.fake.url}/v1/chat/completions "
             "(Authorization: Bearer abc.def.ghi, host 127.0.0.1)")
    rig.script(status=400, error_message=leaky)
    for call in (rig.infer, rig.stream):
        with pytest.raises(UpstreamError) as caught:
            await call()
        err = caught.value
        assert err.status == 400 and not err.fails_over
        assert "messages.0: invalid role" in err.message
        for secret in (KEY, "sk-test", "abc.def.ghi", "127.0.0.1", rig.fake.url):
            assert secret not in err.message and secret not in str(err)


async def test_a_stream_cut_after_content_raises_after_the_chunks_it_delivered(rig: Rig) -> None:
    rig.script(stream_chunks=5, drop_after_chunks=2)
    chunks: list[Chunk] = []
    with pytest.raises(UpstreamError) as caught:
        await rig.stream(into=chunks)
    assert "".join(c.text for c in chunks) == "Hello from"
    assert caught.value.status is None and caught.value.fails_over
    assert KEY not in caught.value.message


async def test_a_stream_cut_before_any_content_raises_before_the_first_chunk(rig: Rig) -> None:
    rig.script(stream_chunks=5, drop_after_chunks=0)
    chunks: list[Chunk] = []
    with pytest.raises(UpstreamError):
        await rig.stream(into=chunks)
    assert chunks == []  # nothing reached the pipeline: it may still fail over


async def test_a_connection_dropped_before_the_answer_has_no_status(rig: Rig) -> None:
    rig.script(drop_after_chunks=0)
    with pytest.raises(UpstreamError) as caught:
        await rig.infer()
    assert caught.value.status is None and not caught.value.timeout and caught.value.fails_over


async def test_a_closed_port_is_a_connection_error(rig: Rig) -> None:
    provider = rig.provider_at(closed_port_url())
    for call in (rig.infer, rig.stream):
        with pytest.raises(UpstreamError) as caught:
            await call(provider=provider)
        assert caught.value.status is None and not caught.value.timeout and caught.value.fails_over
        assert "127.0.0.1" not in caught.value.message


async def test_a_slow_answer_is_a_timeout(rig: Rig) -> None:
    rig.script(delay_s=0.5)
    for options in ({"read_timeout_s": 0.1}, {"first_byte_timeout_s": 0.1}):
        upstream = rig.make(**options)
        for call in (rig.infer, rig.stream):
            with pytest.raises(UpstreamError) as caught:
                await call(upstream=upstream)
            assert caught.value.timeout and caught.value.status is None and caught.value.fails_over


async def test_a_stall_mid_stream_is_a_timeout_after_the_chunks_delivered(rig: Rig) -> None:
    rig.script(stream_chunks=3, chunk_delay_s=0.5)
    chunks: list[Chunk] = []
    with pytest.raises(UpstreamError) as caught:
        await rig.stream(upstream=rig.make(read_timeout_s=0.2), into=chunks)
    assert caught.value.timeout
    assert "".join(c.text for c in chunks) == "Hello"


# ---------------------------------------------------------------- configuration


async def test_the_key_goes_in_the_kinds_header(rig: Rig) -> None:
    await rig.infer()
    headers = rig.fake.requests[-1].headers
    if rig.kind == "openai":
        assert headers["authorization"] == f"Bearer {KEY}"
    else:
        assert headers["x-api-key"] == KEY and headers["anthropic-version"] == "2023-06-01"
        assert "authorization" not in headers
    assert rig.fake.requests[-1].json["model"] == "fake-model"


async def test_a_provider_is_usable_only_with_its_key(rig: Rig) -> None:
    assert rig.upstream.usable(rig.provider)
    assert not rig.make({rig.provider.api_key_env: ""}).usable(rig.provider)
    assert not rig.make({}).usable(rig.provider)


async def test_the_base_url_env_var_overrides_the_catalog(rig: Rig) -> None:
    provider = rig.provider_at(closed_port_url(), slug=f"fake-{rig.kind}-eu")
    env = {**rig.env, f"FAKE_{rig.kind.upper()}_EU_BASE_URL": rig.fake.url + "/v1"}
    completion = await rig.infer(upstream=rig.make(env), provider=provider)
    assert message(completion)["content"] == CONTENT


async def test_profile_headers_are_sent(rig: Rig) -> None:
    upstream = rig.make(profiles={rig.provider.slug: Profile(headers=(("X-Title", "Gatewayz"),))})
    await rig.infer(upstream=upstream)
    assert rig.fake.requests[-1].headers["x-title"] == "Gatewayz"


# ---------------------------------------------------------------- kind-specific wire shape


async def test_openai_streams_always_ask_for_usage(fake: FakeUpstream) -> None:
    rig = Rig("openai", fake)
    await rig.stream()
    sent = fake.requests[-1].json
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    quiet = rig.make(profiles={rig.provider.slug: Profile(stream_options=False)})
    await rig.stream(upstream=quiet)
    assert "stream_options" not in fake.requests[-1].json
    await rig.infer()
    assert "stream" not in fake.requests[-1].json
    for upstream in rig.opened:
        await upstream.close()


async def test_openai_kind_serves_completions_and_embeddings(fake: FakeUpstream) -> None:
    rig = Rig("openai", fake)
    legacy = InferenceRequest(operation=Operation.COMPLETION, model="m", body={"model": "m", "prompt": "Say hi"})
    completion = await rig.upstream.infer(rig.provider, rig.offer, legacy)
    assert completion.body["choices"][0]["text"] == CONTENT and fake.requests[-1].path == "/v1/completions"
    legacy.stream = True
    texts = [c.text async for c in rig.upstream.infer_stream(rig.provider, rig.offer, legacy)]
    assert "".join(texts) == CONTENT
    embed = InferenceRequest(operation=Operation.EMBEDDING, model="m", body={"model": "m", "input": "two words"})
    completion = await rig.upstream.infer(rig.provider, rig.offer, embed)
    assert len(completion.body["data"]) == 1 and completion.usage.prompt_tokens == 2
    await rig.upstream.close()


async def test_anthropic_kind_refuses_other_operations_so_they_fail_over(fake: FakeUpstream) -> None:
    rig = Rig("anthropic", fake)
    embed = InferenceRequest(operation=Operation.EMBEDDING, model="m", body={"model": "m", "input": "x"})
    with pytest.raises(UpstreamError) as caught:
        await rig.upstream.infer(rig.provider, rig.offer, embed)
    assert caught.value.status == 404 and caught.value.fails_over and fake.requests == []
    await rig.upstream.close()


async def test_anthropic_kind_translates_an_openai_request(fake: FakeUpstream) -> None:
    rig = Rig("anthropic", fake)
    await rig.infer()
    sent = fake.requests[-1]
    assert sent.path == "/v1/messages"
    assert sent.json["system"] == "Be brief" and sent.json["max_tokens"] == 4096
    assert sent.json["messages"] == [{"role": "user", "content": "Say hello please"}]
    await rig.upstream.close()


async def test_anthropic_kind_passes_an_anthropic_request_through(fake: FakeUpstream) -> None:
    rig = Rig("anthropic", fake)
    native = {"model": "claude", "max_tokens": 77, "system": [{"type": "text", "text": "Be brief"}],
              "messages": [{"role": "user", "content": "hi"}], "metadata": {"user_id": "u1"}}
    request = rig.request(stream=True)
    request.anthropic_body = native
    chunks = [c async for c in rig.upstream.infer_stream(rig.provider, rig.offer, request)]
    assert fake.requests[-1].json == {**native, "model": "fake-model", "stream": True}
    assert "".join(c.text for c in chunks) == CONTENT
    await rig.upstream.close()
