"""FixGenerator over Anthropic's Messages API (the `anthropic` SDK's async client): two calls as in
the seed, an analysis (max_tokens 1,024) and a fix (max_tokens 2,048) whose reply must be the JSON
`{proposed_fix, code_changes: {path: content}, files_affected}`. No call is made at startup: the
key is checked for its `sk-ant-` shape only."""

from __future__ import annotations

import json
import re
from typing import Any

import anthropic

from domain.fixes import FixGenerationFailed, FixProposal, FixRequest

DEFAULT_MODEL = "claude-3-5-sonnet-20241022"  # the seed's; set ANTHROPIC_MODEL to a current one in production
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.S)

SYSTEM = ("You are a senior engineer on Gatewayz, a Python AI-inference gateway (Litestar, SQLAlchemy async, "
          "Redis; hexagonal layout: domain/, ports/, adapters/, gatewayz/). Secrets in the error text are redacted.")


def _describe(r: FixRequest) -> str:
    where = f"{r.file}:{r.line} in {r.function}" if r.file else "unknown location"
    return (f"Error type: {r.error_type}\nCategory: {r.category}\nSeverity: {r.severity}\n"
            f"Occurrences: {r.count}\nLocation: {where}\n\nMessage:\n{r.message}\n\nStack trace:\n{r.stack_trace}")


class AnthropicFixGenerator:
    def __init__(self, api_key: str | None, *, base_url: str | None = None, model: str = DEFAULT_MODEL,
                 timeout_s: float = 30.0, max_retries: int = 3) -> None:
        self._key = api_key if api_key and api_key.startswith("sk-ant-") else None
        self._model = model
        self._client = anthropic.AsyncAnthropic(api_key=self._key, base_url=base_url, timeout=timeout_s,
                                                max_retries=max_retries) if self._key else None

    @property
    def configured(self) -> bool:
        return self._client is not None

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()

    async def propose(self, request: FixRequest) -> FixProposal:
        described = _describe(request)
        analysis, in1, out1 = await self._ask(
            f"Analyze this production error. Explain the root cause and what should change.\n\n{described}", 1024)
        reply, in2, out2 = await self._ask(
            f"{described}\n\nAnalysis:\n{analysis}\n\nPropose a fix. Answer with JSON only, exactly "
            '{"proposed_fix": "<what changes and why>", "code_changes": {"<relative path>": "<full new file '
            'content>"}, "files_affected": ["<relative path>"]}', 2048)
        fix = _parse(reply)
        return FixProposal(analysis=analysis, proposed_fix=fix["proposed_fix"], code_changes=fix["code_changes"],
                           files_affected=fix["files_affected"], model=self._model, input_tokens=in1 + in2,
                           output_tokens=out1 + out2)

    async def _ask(self, prompt: str, max_tokens: int) -> tuple[str, int, int]:
        assert self._client is not None
        try:
            message = await self._client.messages.create(
                model=self._model, max_tokens=max_tokens, system=SYSTEM,
                messages=[{"role": "user", "content": prompt}])
        except anthropic.APIStatusError as exc:
            raise FixGenerationFailed(f"Anthropic answered HTTP {exc.status_code}") from exc
        except anthropic.APIError as exc:
            raise FixGenerationFailed(f"Anthropic unreachable: {type(exc).__name__}") from exc
        text = "".join(getattr(block, "text", "") for block in message.content)
        usage = message.usage
        return text, int(usage.input_tokens or 0), int(usage.output_tokens or 0)


def _parse(reply: str) -> dict[str, Any]:
    text = reply.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise FixGenerationFailed("The fix reply was not JSON") from exc
    if not (isinstance(value, dict) and isinstance(value.get("proposed_fix"), str)
            and isinstance(value.get("code_changes"), dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in value["code_changes"].items())
            and isinstance(value.get("files_affected"), list)
            and all(isinstance(p, str) for p in value["files_affected"])):
        raise FixGenerationFailed("The fix reply did not have the expected shape")
    return value
