"""Chat history over HTTP on PostgreSQL (#1691-#1705): the seed's bodies field by field, the same 404
for missing, foreign and deleted objects, 401s, 422 bounds, dedup under concurrency, and the statement
counts of search and stats (measured with a SQLAlchemy event hook)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.tables import audit_log, chat_messages
from tests.harness import Running, bearer, running_app

API_KEY_REQUIRED = {"detail": "API key required"}
INVALID_KEY = {"detail": "Invalid API key"}
SESSION_FIELDS = {"id", "user_id", "title", "model", "created_at", "updated_at", "is_active", "messages"}
MESSAGE_FIELDS = {"id", "session_id", "role", "content", "model", "tokens", "created_at"}
FEEDBACK_FIELDS = {"id", "session_id", "message_id", "user_id", "feedback_type", "rating", "comment", "model",
                   "metadata", "created_at", "updated_at"}


@pytest.fixture
async def app(postgres_url: str) -> AsyncIterator[Running]:
    async with running_app(postgres_url) as r:
        yield r


@dataclass
class Person:
    r: Running
    user_id: int
    key: str

    async def call(self, method: str, path: str, **kw: Any) -> Any:
        return await self.r.client.request(method, path, headers=bearer(self.key), **kw)

    async def session(self, **body: Any) -> dict[str, Any]:
        resp = await self.call("POST", "/v1/chat/sessions", json=body)
        assert resp.status_code == 200, resp.text
        return resp.json()["data"]  # type: ignore[no-any-return]

    async def message(self, session_id: int, content: str, **body: Any) -> dict[str, Any]:
        resp = await self.call("POST", f"/v1/chat/sessions/{session_id}/messages",
                               json={"role": "user", "content": content, **body})
        assert resp.status_code == 200, resp.text
        return resp.json()["data"]  # type: ignore[no-any-return]


async def person(r: Running) -> Person:
    user_id, key = await r.user(f"chat-{uuid.uuid4().hex[:10]}@example.com")
    return Person(r, user_id, key)


@pytest.fixture
async def ada(app: Running) -> Person:
    return await person(app)


@pytest.fixture
async def bob(app: Running) -> Person:
    return await person(app)


ROUTES = [("POST", "/v1/chat/sessions"), ("GET", "/v1/chat/sessions"), ("GET", "/v1/chat/sessions/1"),
          ("PUT", "/v1/chat/sessions/1"), ("DELETE", "/v1/chat/sessions/1"),
          ("POST", "/v1/chat/sessions/1/messages"), ("POST", "/v1/chat/sessions/1/messages/batch"),
          ("POST", "/v1/chat/search"), ("GET", "/v1/chat/stats"), ("POST", "/v1/chat/feedback"),
          ("GET", "/v1/chat/feedback"), ("GET", "/v1/chat/feedback/stats"), ("GET", "/v1/chat/sessions/1/feedback"),
          ("PUT", "/v1/chat/feedback/1"), ("DELETE", "/v1/chat/feedback/1")]


async def test_every_chat_history_route_needs_a_valid_key(app: Running) -> None:
    for method, path in ROUTES:
        body = {"query": "x"} if method in ("POST", "PUT") else None
        resp = await app.client.request(method, path, json=body)
        assert (resp.status_code, resp.json()) == (401, API_KEY_REQUIRED), (method, path)
        resp = await app.client.request(method, path, json=body, headers=bearer("gw_live_" + "x" * 43))
        assert (resp.status_code, resp.json()) == (401, INVALID_KEY), (method, path)


async def test_a_session_is_created_listed_shown_renamed_and_soft_deleted(ada: Person) -> None:
    before = datetime.now(UTC)
    resp = await ada.call("POST", "/v1/chat/sessions", json={})
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"success", "data", "message"}
    assert (body["success"], body["message"]) == (True, "Chat session created successfully")
    created = body["data"]
    assert set(created) == SESSION_FIELDS
    assert re.fullmatch(r"Chat \d{4}-\d\d-\d\d \d\d:\d\d", created["title"])
    assert created["title"] in {f"Chat {before:%Y-%m-%d %H:%M}", f"Chat {datetime.now(UTC):%Y-%m-%d %H:%M}"}
    assert (created["user_id"], created["model"], created["is_active"], created["messages"]) == (
        ada.user_id, "openai/gpt-3.5-turbo", True, [])
    named = await ada.session(title="Trip", model="anthropic/claude-3-5-haiku")
    assert (named["title"], named["model"]) == ("Trip", "anthropic/claude-3-5-haiku")
    assert (await ada.session(title=None))["title"].startswith("Chat ")

    listed = (await ada.call("GET", "/v1/chat/sessions")).json()
    assert set(listed) == {"success", "data", "count", "message"}
    assert [s["id"] for s in listed["data"]][:2] == [listed["data"][0]["id"], named["id"]]
    assert listed["count"] == len(listed["data"]) == 3 and listed["message"] == "Found 3 sessions"
    assert all(s["messages"] == [] for s in listed["data"])
    page = (await ada.call("GET", "/v1/chat/sessions", params={"limit": 1, "offset": 1})).json()
    assert [s["id"] for s in page["data"]] == [named["id"]] and page["message"] == "Found 1 sessions"

    m1 = await ada.message(named["id"], "first", tokens=None)
    m2 = await ada.message(named["id"], "second", role="assistant", model="m", tokens=9, created_at="1999-01-01")
    assert set(m1) == MESSAGE_FIELDS and (m1["role"], m1["content"], m1["model"], m1["tokens"]) == (
        "user", "first", None, 0)
    assert not m2["created_at"].startswith("1999") and m2["tokens"] == 9
    shown = (await ada.call("GET", f"/v1/chat/sessions/{named['id']}")).json()
    assert (shown["success"], shown["message"]) == (True, "Session retrieved successfully")
    assert [m["id"] for m in shown["data"]["messages"]] == [m1["id"], m2["id"]]
    assert shown["data"]["messages"][1] == m2 and shown["data"]["model"] == "m"  # a message's model moves the session

    kept = (await ada.call("PUT", f"/v1/chat/sessions/{named['id']}", json={"title": "", "model": ""})).json()
    assert (kept["success"], kept["message"]) == (True, "Chat session updated successfully")
    assert (kept["data"]["title"], kept["data"]["model"]) == ("Trip", "m")
    assert kept["data"]["updated_at"] > shown["data"]["updated_at"] and len(kept["data"]["messages"]) == 2
    renamed = (await ada.call("PUT", f"/v1/chat/sessions/{named['id']}", json={"title": "Trip 2"})).json()
    assert renamed["data"]["title"] == "Trip 2"

    gone = await ada.call("DELETE", f"/v1/chat/sessions/{named['id']}")
    assert (gone.status_code, gone.json()) == (200, {"success": True, "message": "Chat session deleted successfully"})
    again = await ada.call("DELETE", f"/v1/chat/sessions/{named['id']}")
    assert (again.status_code, again.json()) == (404, {"detail": "Chat session not found"})
    assert named["id"] not in [s["id"] for s in (await ada.call("GET", "/v1/chat/sessions")).json()["data"]]


async def test_missing_foreign_and_deleted_objects_are_the_same_404(ada: Person, bob: Person) -> None:
    theirs = await bob.session(title="bob's")
    [their_message] = [await bob.message(theirs["id"], "secret")]
    mine = await ada.session()
    deleted = await ada.session()
    await ada.call("DELETE", f"/v1/chat/sessions/{deleted['id']}")
    feedback = (await bob.call("POST", "/v1/chat/feedback", json={"feedback_type": "thumbs_up"})).json()["data"]
    for sid in (theirs["id"], deleted["id"], 10**12):
        for method, path, body, detail in [
                ("GET", f"/v1/chat/sessions/{sid}", None, "Session not found"),
                ("PUT", f"/v1/chat/sessions/{sid}", {"title": "x"}, "Chat session not found"),
                ("DELETE", f"/v1/chat/sessions/{sid}", None, "Chat session not found"),
                ("POST", f"/v1/chat/sessions/{sid}/messages", {"role": "user", "content": "x"}, "Session not found"),
                ("POST", f"/v1/chat/sessions/{sid}/messages/batch", {"messages": []}, "Session not found"),
                ("GET", f"/v1/chat/sessions/{sid}/feedback", None, "Chat session not found"),
                ("POST", "/v1/chat/feedback", {"feedback_type": "thumbs_up", "session_id": sid},
                 "Chat session not found")]:
            resp = await ada.call(method, path, json=body)
            assert (resp.status_code, resp.json()) == (404, {"detail": detail}), (method, path)
    for body in ({"feedback_type": "thumbs_down", "message_id": their_message["id"]},
                 {"feedback_type": "thumbs_down", "message_id": 10**12},
                 {"feedback_type": "thumbs_down", "message_id": their_message["id"], "session_id": mine["id"]}):
        resp = await ada.call("POST", "/v1/chat/feedback", json=body)
        assert (resp.status_code, resp.json()) == (404, {"detail": "Message not found"}), body
    for method, body in (("PUT", {"rating": 2}), ("DELETE", None)):
        resp = await ada.call(method, f"/v1/chat/feedback/{feedback['id']}", json=body)
        assert (resp.status_code, resp.json()) == (404, {"detail": "Feedback not found"})
    assert (await ada.call("GET", "/v1/chat/feedback")).json()["data"] == []
    shown = (await bob.call("GET", f"/v1/chat/sessions/{theirs['id']}")).json()["data"]
    assert shown["title"] == "bob's" and [m["content"] for m in shown["messages"]] == ["secret"]


@pytest.mark.parametrize(("method", "path", "kw"), [
    ("GET", "/v1/chat/sessions", {"params": {"limit": 0}}),
    ("GET", "/v1/chat/sessions", {"params": {"limit": 101}}),
    ("GET", "/v1/chat/sessions", {"params": {"offset": -1}}),
    ("GET", "/v1/chat/sessions/abc", {}),
    ("GET", "/v1/chat/sessions/0", {}),
    ("POST", "/v1/chat/sessions", {"json": {"title": "t" * 256}}),
    ("POST", "/v1/chat/sessions", {"json": {"model": "m" * 256}}),
    ("POST", "/v1/chat/sessions/1/messages", {"json": {"role": "", "content": "x"}}),
    ("POST", "/v1/chat/sessions/1/messages", {"json": {"role": "r" * 33, "content": "x"}}),
    ("POST", "/v1/chat/sessions/1/messages", {"json": {"role": "user", "content": "x", "tokens": -1}}),
    ("POST", "/v1/chat/sessions/1/messages", {"json": {"role": "user"}}),
    ("POST", "/v1/chat/sessions/1/messages/batch",
     {"json": {"messages": [{"role": "user", "content": str(i)} for i in range(101)]}}),
    ("POST", "/v1/chat/search", {"json": {"query": "x", "limit": 0}}),
    ("POST", "/v1/chat/search", {"json": {"query": "x", "limit": 101}}),
    ("POST", "/v1/chat/search", {"json": {"query": "q" * 501}}),
    ("POST", "/v1/chat/search", {"json": {}}),
    ("POST", "/v1/chat/feedback", {"json": {"feedback_type": "love"}}),
    ("POST", "/v1/chat/feedback", {"json": {"feedback_type": "thumbs_up", "rating": 6}}),
    ("POST", "/v1/chat/feedback", {"json": {"feedback_type": "thumbs_up", "rating": 0}}),
    ("POST", "/v1/chat/feedback", {"json": {"feedback_type": "thumbs_up", "comment": "c" * 5001}}),
    ("POST", "/v1/chat/feedback", {"json": {"feedback_type": "thumbs_up", "metadata": {"k": "v" * 16_384}}}),
    ("GET", "/v1/chat/feedback", {"params": {"limit": 101}}),
    ("GET", "/v1/chat/feedback/stats", {"params": {"days": 366}}),
    ("GET", "/v1/chat/feedback/stats", {"params": {"days": 0}}),
    ("PUT", "/v1/chat/feedback/1", {"json": {"rating": 6}}),
    ("PUT", "/v1/chat/feedback/1", {"json": {"feedback_type": "love"}}),
])
async def test_out_of_bounds_input_is_a_422_naming_the_field_and_changes_nothing(
        ada: Person, method: str, path: str, kw: dict[str, Any]) -> None:
    resp = await ada.call(method, path, **kw)
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"][0]["loc"], resp.text
    assert (await ada.call("GET", "/v1/chat/sessions")).json()["data"] == []
    assert (await ada.call("GET", "/v1/chat/feedback")).json()["data"] == []


async def test_a_repeated_message_is_returned_not_stored_and_twenty_concurrent_posts_store_one(ada: Person) -> None:
    s = await ada.session()
    first = await ada.message(s["id"], "retry me")
    assert (await ada.message(s["id"], "retry me")) == first
    answers = await asyncio.gather(*(ada.call("POST", f"/v1/chat/sessions/{s['id']}/messages",
                                              json={"role": "user", "content": "burst"}) for _ in range(20)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["data"]["id"] for a in answers}) == 1
    shown = (await ada.call("GET", f"/v1/chat/sessions/{s['id']}")).json()["data"]["messages"]
    assert [m["content"] for m in shown] == ["retry me", "burst"]


async def test_a_batch_saves_each_message_dedups_and_reports_a_refused_row(ada: Person) -> None:
    s = await ada.session()
    empty = (await ada.call("POST", f"/v1/chat/sessions/{s['id']}/messages/batch", json={"messages": []})).json()
    assert empty == {"success": True, "data": {"saved": [], "failed": [], "total": 0, "success_count": 0,
                                               "failure_count": 0}, "message": "Saved 0/0 messages successfully"}
    nul = "bad\x00" + "n" * 60
    resp = await ada.call("POST", f"/v1/chat/sessions/{s['id']}/messages/batch", json={"messages": [
        {"role": "user", "content": "one"}, {"role": "assistant", "content": nul, "tokens": 2},
        {"role": "assistant", "content": "two", "model": "m", "tokens": 4}, {"role": "user", "content": "one"}]})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["success"], body["message"]) == (False, "Saved 3/4 messages successfully")
    data = body["data"]
    assert (data["total"], data["success_count"], data["failure_count"]) == (4, 3, 1)
    assert [i["data"]["content"] for i in data["saved"]] == ["one", "two", "one"]
    assert all(i["success"] is True and i["message_id"] == i["data"]["id"] for i in data["saved"])
    assert data["saved"][0]["message_id"] == data["saved"][2]["message_id"]
    [failed] = data["failed"]
    assert failed["success"] is False and failed["content_preview"] == nul[:50]
    assert "NUL" in failed["error"] and "INSERT" not in failed["error"]
    shown = (await ada.call("GET", f"/v1/chat/sessions/{s['id']}")).json()["data"]
    assert [m["content"] for m in shown["messages"]] == ["one", "two"] and shown["model"] == "m"
    single = await ada.call("POST", f"/v1/chat/sessions/{s['id']}/messages", json={"role": "user", "content": nul})
    assert single.status_code == 422


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every SQL statement the engine sends while the block runs."""
    seen: list[str] = []

    def hook(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", hook)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", hook)


def chat_statements(seen: list[str]) -> list[str]:
    return [s for s in seen if "chat_" in s]


async def test_search_finds_title_or_content_once_never_another_users_and_in_one_statement(
        app: Running, ada: Person, bob: Person) -> None:
    by_title = await ada.session(title="Budget for 100% of Q3")
    by_both = await ada.session(title="budget talk")
    await ada.message(by_both["id"], "the BUDGET is tight")
    await ada.message(by_both["id"], "budget again")
    by_content = await ada.session(title="misc")
    await ada.message(by_content["id"], "about the budget_v2 file")
    gone = await ada.session(title="budget deleted")
    await ada.call("DELETE", f"/v1/chat/sessions/{gone['id']}")
    theirs = await bob.session(title="bob")
    await bob.message(theirs["id"], "bob's budget")

    async def search(body: dict[str, Any]) -> dict[str, Any]:
        resp = await ada.call("POST", "/v1/chat/search", json=body)
        assert resp.status_code == 200, resp.text
        return resp.json()  # type: ignore[no-any-return]

    found = await search({"query": "Budget"})
    assert set(found) == {"success", "data", "count", "message"}
    assert [s["id"] for s in found["data"]] == [by_content["id"], by_both["id"], by_title["id"]]
    assert found["count"] == 3 and found["message"] == "Found 3 sessions"
    assert all(s["messages"] == [] and set(s) == SESSION_FIELDS for s in found["data"])
    assert [s["id"] for s in (await search({"query": "budget", "limit": 1}))["data"]] == [by_content["id"]]
    assert [s["id"] for s in (await search({"query": "100%"}))["data"]] == [by_title["id"]]
    assert [s["id"] for s in (await search({"query": "%"}))["data"]] == [by_title["id"]]
    assert [s["id"] for s in (await search({"query": "budget_"}))["data"]] == [by_content["id"]]  # not "budget "
    assert [s["id"] for s in (await search({"query": "_v2"}))["data"]] == [by_content["id"]]
    assert len((await search({"query": "", "limit": None}))["data"]) == 3
    assert (await search({"query": "bob's"}))["data"] == []

    engine: AsyncEngine = await app.service("engine")
    await search({"query": "budget"})  # warm: the key lookup is cached from here on
    with statements(engine) as before:
        await search({"query": "budget"})
    async with engine.begin() as conn:  # 10,000 messages of another user, all matching
        await conn.execute(insert(chat_messages), [
            {"session_id": theirs["id"], "role": "user", "content": f"budget {i}", "tokens": 1,
             "created_at": datetime.now(UTC)} for i in range(10_000)])
    with statements(engine) as after:
        again = await search({"query": "budget"})
    assert [s["id"] for s in again["data"]] == [by_content["id"], by_both["id"], by_title["id"]]
    assert len(chat_statements(before)) == len(chat_statements(after)) == 1
    assert len(before) == len(after)
    print(f"\nSTATEMENTS search: {len(after)} in total, {len(chat_statements(after))} on chat tables "
          f"(10,000 foreign messages present)")


async def test_stats_count_active_sessions_only_in_one_statement(app: Running, ada: Person, bob: Person) -> None:
    empty = (await ada.call("GET", "/v1/chat/stats")).json()
    assert empty == {"success": True, "message": "Chat statistics retrieved successfully",
                     "stats": {"total_sessions": 0, "total_messages": 0, "total_tokens": 0}}
    a = await ada.session()
    await ada.message(a["id"], "one", tokens=10)
    await ada.message(a["id"], "two", tokens=5)
    await ada.session()
    gone = await ada.session()
    await ada.message(gone["id"], "deleted", tokens=1000)
    await ada.call("DELETE", f"/v1/chat/sessions/{gone['id']}")
    theirs = await bob.session()
    await bob.message(theirs["id"], "bob", tokens=77)
    engine: AsyncEngine = await app.service("engine")
    with statements(engine) as seen:
        stats = (await ada.call("GET", "/v1/chat/stats")).json()
    assert stats["stats"] == {"total_sessions": 2, "total_messages": 2, "total_tokens": 15}
    assert len(chat_statements(seen)) == 1
    print(f"\nSTATEMENTS stats: {len(seen)} in total, {len(chat_statements(seen))} on chat tables")


async def test_feedback_is_submitted_listed_aggregated_updated_and_deleted(app: Running, ada: Person,
                                                                          bob: Person) -> None:
    s = await ada.session()
    answer = await ada.message(s["id"], "an answer", role="assistant")
    resp = await ada.call("POST", "/v1/chat/feedback", json={
        "feedback_type": "thumbs_up", "session_id": s["id"], "message_id": answer["id"], "rating": 5,
        "comment": "great", "model": "m1", "metadata": {"client": "web", "n": [1, 2]}})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["success"], body["message"]) == (True, "Feedback submitted successfully")
    first = body["data"]
    assert set(first) == FEEDBACK_FIELDS
    assert (first["session_id"], first["message_id"], first["user_id"], first["feedback_type"], first["rating"],
            first["comment"], first["model"], first["metadata"]) == (
        s["id"], answer["id"], ada.user_id, "thumbs_up", 5, "great", "m1", {"client": "web", "n": [1, 2]})
    for extra in ({"feedback_type": "thumbs_up", "rating": 4, "model": "m1"},
                  {"feedback_type": "thumbs_down", "model": "m1", "session_id": s["id"]},
                  {"feedback_type": "thumbs_up"}):
        assert (await ada.call("POST", "/v1/chat/feedback", json=extra)).status_code == 200
    await bob.call("POST", "/v1/chat/feedback", json={"feedback_type": "regenerate", "rating": 1, "model": "m1"})

    stats = (await ada.call("GET", "/v1/chat/feedback/stats")).json()
    assert stats == {"success": True, "message": None, "stats": {
        "total_feedback": 4, "thumbs_up": 3, "thumbs_down": 1, "regenerate": 0, "thumbs_up_rate": 75.0,
        "thumbs_down_rate": 25.0, "average_rating": 4.5,
        "by_model": {"m1": {"thumbs_up": 2, "thumbs_down": 1, "regenerate": 0, "total": 3},
                     "unknown": {"thumbs_up": 1, "thumbs_down": 0, "regenerate": 0, "total": 1}},
        "period_days": 30}}
    m1 = (await ada.call("GET", "/v1/chat/feedback/stats", params={"model": "m1", "days": 1})).json()["stats"]
    assert (m1["total_feedback"], m1["thumbs_up_rate"], m1["period_days"]) == (3, 66.67, 1)
    none = (await ada.call("GET", "/v1/chat/feedback/stats", params={"model": "nothing"})).json()["stats"]
    assert (none["total_feedback"], none["thumbs_up_rate"], none["average_rating"], none["by_model"]) == (
        0, 0.0, None, {})

    listed = (await ada.call("GET", "/v1/chat/feedback")).json()
    assert (listed["count"], listed["message"]) == (4, "Found 4 feedback entries")
    assert listed["data"][-1] == first and [f["id"] for f in listed["data"]] == sorted(
        (f["id"] for f in listed["data"]), reverse=True)
    assert (await ada.call("GET", "/v1/chat/feedback", params={"feedback_type": "love"})).json()["data"] == []
    downs = (await ada.call("GET", "/v1/chat/feedback", params={"feedback_type": "thumbs_down"})).json()["data"]
    assert [f["feedback_type"] for f in downs] == ["thumbs_down"]
    assert len((await ada.call("GET", "/v1/chat/feedback", params={"session_id": s["id"], "model": "m1"})
                ).json()["data"]) == 2
    assert len((await ada.call("GET", "/v1/chat/feedback", params={"limit": 1, "offset": 3})).json()["data"]) == 1
    on_session = (await ada.call("GET", f"/v1/chat/sessions/{s['id']}/feedback")).json()
    assert [f["id"] for f in on_session["data"]] == [downs[0]["id"], first["id"]]
    assert on_session["message"] == "Found 2 feedback entries"

    touched = (await ada.call("PUT", f"/v1/chat/feedback/{first['id']}", json={})).json()
    assert (touched["success"], touched["message"]) == (True, "Feedback updated successfully")
    assert {k: v for k, v in touched["data"].items() if k != "updated_at"} == {
        k: v for k, v in first.items() if k != "updated_at"}
    assert touched["data"]["updated_at"] > first["updated_at"]
    changed = (await ada.call("PUT", f"/v1/chat/feedback/{first['id']}", json={
        "feedback_type": "regenerate", "rating": 2, "comment": None})).json()["data"]
    assert (changed["feedback_type"], changed["rating"], changed["comment"]) == ("regenerate", 2, "great")
    gone = await ada.call("DELETE", f"/v1/chat/feedback/{first['id']}")
    assert (gone.status_code, gone.json()) == (200, {"success": True, "message": "Feedback deleted successfully"})
    again = await ada.call("DELETE", f"/v1/chat/feedback/{first['id']}")
    assert (again.status_code, again.json()) == (404, {"detail": "Feedback not found"})

    engine: AsyncEngine = await app.service("engine")
    async with engine.connect() as conn:
        events = (await conn.execute(select(audit_log.c.event_type, audit_log.c.details)
                                     .where(audit_log.c.user_id == ada.user_id))).all()
    kinds = [e for e, _ in events]
    assert kinds.count("chat.session_created") == 1 and kinds.count("chat.feedback_submitted") == 4
    assert {"session_id": s["id"], "model": "openai/gpt-3.5-turbo"} in [d for e, d in events
                                                                       if e == "chat.session_created"]
