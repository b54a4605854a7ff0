"""What the inference integration and end-to-end tests share: the test catalog, the environment that
points its providers at a fake upstream, and SSE parsing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.services import free_port

CATALOG = Path(__file__).resolve().parents[1] / "fixtures" / "catalog.yaml"

# Key-shaped secrets: the sanitiser must keep every one of them out of client-facing messages.
KEYS = {
    "ALPHA_API_KEY": "sk-alpha-0123456789abcdefXYZ",
    "BETA_API_KEY": "sk-beta-0123456789abcdefXYZ",
    "CLAUDE_API_KEY": "sk-ant-claude-0123456789abcdef",
    "DEAD_API_KEY": "sk-dead-0123456789abcdefXYZ",
}
REPLY = "Hello from the fake upstream."
MESSAGES = [{"role": "system", "content": "Be brief"}, {"role": "user", "content": "Say hello please"}]
PROMPT_TOKENS = (2 + 3) + (3 + 3)  # the fake counts words + 3 per message
REPLY_TOKENS = len(REPLY.split())


def closed_port_url() -> str:
    """A base URL nothing listens on: connecting is refused at once."""
    return f"http://127.0.0.1:{free_port()}/v1"


def provider_env(fake_url: str, **extra: Any) -> dict[str, str]:
    """Provider keys, and every provider's base URL: the fake, except "dead" (refuses connections)."""
    env = {**KEYS, "ALPHA_BASE_URL": fake_url + "/v1", "BETA_BASE_URL": fake_url + "/v1",
           "CLAUDE_BASE_URL": fake_url + "/v1", "DEAD_BASE_URL": closed_port_url()}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def sse_data(text: str) -> list[str]:
    """The `data:` payloads of an SSE body, in order."""
    return [line[len("data: "):] for line in text.split("\n") if line.startswith("data: ")]


def sse_json(text: str) -> list[dict[str, Any]]:
    """The JSON payloads of an OpenAI-style SSE body (the final [DONE] left out)."""
    return [json.loads(d) for d in sse_data(text) if d != "[DONE]"]


def sse_events(text: str) -> list[tuple[str | None, dict[str, Any]]]:
    """(event name, data) pairs of an Anthropic-style SSE body."""
    out = []
    for block in text.split("\n\n"):
        name, data = None, None
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[len("event: "):]
            elif line.startswith("data: "):
                data = json.loads(line[len("data: "):])
        if data is not None:
            out.append((name, data))
    return out


def chunk_text(chunks: list[dict[str, Any]]) -> str:
    return "".join((c.get("delta") or {}).get("content") or "" for chunk in chunks for c in chunk.get("choices") or ())
