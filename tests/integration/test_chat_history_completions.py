"""`POST /v1/chat/completions?session_id=N` through the fake upstream, on SQLite and on PostgreSQL +
Redis (the journaled settlement path): a completed answer lands in the session as one assistant
message (written behind, flushed on shutdown); failures save nothing; a session that is not the
caller's is refused before any provider is called."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.catalog_file.loader import load_catalog_file
from tests.fakes.upstream import FakeUpstream, Script
from tests.harness import Running, bearer, running_app
from tests.integration.inference_kit import CATALOG, MESSAGES, REPLY, REPLY_TOKENS, provider_env, sse_json
from tests.services import unique_name


@dataclass
class Chat:
    r: Running
    fake: FakeUpstream
    key: str

    async def call(self, method: str, path: str, *, key: str | None = "mine", **kw: Any) -> Any:
        headers = bearer(self.key if key == "mine" else key) if key else {}
        return await self.r.client.request(method, path, headers=headers, timeout=30, **kw)

    async def session(self, key: str | None = "mine") -> int:
        resp = await self.call("POST", "/v1/chat/sessions", json={"title": "t", "model": "start"}, key=key)
        assert resp.status_code == 200, resp.text
        return resp.json()["data"]["id"]  # type: ignore[no-any-return]

    async def complete(self, session_id: Any, *, key: str | None = "mine", **body: Any) -> Any:
        return await self.call("POST", "/v1/chat/completions", key=key, params={"session_id": session_id},
                               json={"model": "chat", "messages": MESSAGES, **body})

    async def messages(self, session_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The session and its messages once everything written behind is in the database."""
        await self.r.written()
        await (await self.r.service("assistant_messages")).flush()
        data = (await self.call("GET", f"/v1/chat/sessions/{session_id}")).json()["data"]
        return data, data["messages"]


@pytest.fixture(params=["sqlite", "postgres"])
async def chat(request: pytest.FixtureRequest) -> AsyncIterator[Chat]:
    env: dict[str, Any] = {}
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        env = {"REDIS_URL": request.getfixturevalue("redis_url"),
               "REDIS_PREFIX": request.getfixturevalue("redis_prefix")}
    else:
        url = request.getfixturevalue("sqlite_url")
    async with FakeUpstream() as fake, running_app(url, **provider_env(fake.url), **env) as r:
        await (await r.service("load_catalog"))(*load_catalog_file(CATALOG))
        _, key = await r.user(unique_name("chatter") + "@example.com", credits=10)
        yield Chat(r, fake, key)


async def test_a_whole_answer_is_saved_as_one_assistant_message_of_the_serving_model(chat: Chat) -> None:
    sid = await chat.session()
    resp = await chat.complete(sid)
    assert resp.status_code == 200, resp.text
    assert resp.json()["choices"][0]["message"]["content"] == REPLY
    session, [saved] = await chat.messages(sid)
    assert (saved["role"], saved["content"], saved["model"], saved["tokens"]) == (
        "assistant", REPLY, "acme/chat", REPLY_TOKENS)
    assert session["model"] == "acme/chat" and session["updated_at"] >= saved["created_at"]
    plain = await chat.call("POST", "/v1/chat/completions", json={"model": "chat", "messages": MESSAGES})
    assert plain.status_code == 200
    assert len((await chat.messages(sid))[1]) == 1  # without session_id nothing is saved


async def test_a_stream_is_saved_with_its_text_and_completion_tokens(chat: Chat) -> None:
    sid = await chat.session()
    resp = await chat.complete(sid, stream=True, stream_options={"include_usage": True})
    assert resp.status_code == 200, resp.text
    chunks = sse_json(resp.text)
    text = "".join((c.get("delta") or {}).get("content") or "" for ch in chunks for c in ch.get("choices") or ())
    assert text == REPLY
    _, [saved] = await chat.messages(sid)
    assert (saved["role"], saved["content"], saved["model"], saved["tokens"]) == (
        "assistant", REPLY, "acme/chat", REPLY_TOKENS)


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
async def test_tool_calls_are_saved_as_their_json(chat: Chat, stream: bool) -> None:
    chat.fake.script("chat-a", Script(tool_calls=[{"id": "call_1", "name": "lookup", "arguments": {"q": "x y"}}]))
    sid = await chat.session()
    resp = await chat.complete(sid, stream=stream)
    assert resp.status_code == 200, resp.text
    _, [saved] = await chat.messages(sid)
    [call] = json.loads(saved["content"])
    assert (call["id"], call["type"], call["function"]["name"]) == ("call_1", "function", "lookup")
    assert json.loads(call["function"]["arguments"]) == {"q": "x y"}


async def test_a_failed_request_saves_nothing(chat: Chat) -> None:
    for native in ("chat-a", "chat-b", "chat-c"):
        chat.fake.script(native, Script(status=500))
    sid = await chat.session()
    assert (await chat.complete(sid)).status_code == 502
    session, messages = await chat.messages(sid)
    assert messages == [] and session["model"] == "start"


async def test_a_session_not_the_callers_is_refused_before_any_provider_is_called(chat: Chat) -> None:
    other_id, other_key = await chat.r.user(unique_name("other") + "@example.com", credits=10)
    theirs = await chat.session(key=other_key)
    deleted = await chat.session()
    await chat.call("DELETE", f"/v1/chat/sessions/{deleted}")
    for sid in (theirs, deleted, 10**12):
        for stream in (False, True):
            resp = await chat.complete(sid, stream=stream)
            assert resp.status_code == 404, resp.text
            error = resp.json()["error"]
            assert (error["code"], error["message"], error["type"]) == (
                "session_not_found", "Session not found", "not_found_error")
    anonymous = await chat.complete(theirs, key=None)
    assert anonymous.status_code == 401
    for bad in ("abc", "0", "-3", str(2**63)):
        resp = await chat.complete(bad)
        assert resp.status_code == 422 and resp.json()["error"]["param"] == "session_id", (bad, resp.text)
    assert chat.fake.count() == 0
    await chat.r.written()
    await (await chat.r.service("assistant_messages")).flush()
    store = await chat.r.service("chat_history_store")
    assert (await store.session_messages(other_id, theirs))[1] == []  # flushed: nothing was written


async def test_buffered_answers_are_flushed_on_shutdown(sqlite_url: str, tmp_path: Path) -> None:
    async with FakeUpstream() as fake:
        async with running_app(sqlite_url, **provider_env(fake.url)) as r:
            await (await r.service("load_catalog"))(*load_catalog_file(CATALOG))
            user_id, key = await r.user(unique_name("leaver") + "@example.com", credits=10)
            created = await r.client.post("/v1/chat/sessions", json={}, headers=bearer(key))
            sid = created.json()["data"]["id"]
            await (await r.service("assistant_messages")).stop()  # no periodic flush: only shutdown's
            resp = await r.client.post("/v1/chat/completions", params={"session_id": sid}, headers=bearer(key),
                                       json={"model": "chat", "messages": MESSAGES})
            assert resp.status_code == 200
            await r.written()
            store = await r.service("chat_history_store")
            assert (await store.session_messages(user_id, sid))[1] == []  # still in the buffer
        async with running_app(sqlite_url, **provider_env(fake.url)) as again:
            store = await again.service("chat_history_store")
            found = await store.session_messages(user_id, sid)
    assert found is not None and [m.content for m in found[1]] == [REPLY]
