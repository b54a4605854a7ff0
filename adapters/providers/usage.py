"""Token usage as providers report it, and the estimate when they do not.

Billing needs a count for every request, so a missing or partial usage object is never an error:
the gateway counts instead and marks the usage `estimated`."""

from __future__ import annotations

from typing import Any

from domain.inference import InferenceRequest, Usage, estimate_tokens, prompt_text


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def openai_usage(usage: Any) -> Usage | None:
    """`usage` of an OpenAI chat/completion/embedding body or chunk; None when it says nothing."""
    if not isinstance(usage, dict):
        return None
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    if prompt is None and completion is None:
        if "input_tokens" in usage or "output_tokens" in usage:  # some compatible hosts use these names
            return anthropic_usage(usage)
        return None
    return Usage(prompt_tokens=_int(prompt), completion_tokens=_int(completion))


def anthropic_usage(usage: Any) -> Usage | None:
    """Messages usage: cached input (read or written) is input too."""
    if not isinstance(usage, dict):
        return None
    if "input_tokens" not in usage and "output_tokens" not in usage:
        return None
    prompt = (_int(usage.get("input_tokens")) + _int(usage.get("cache_creation_input_tokens"))
              + _int(usage.get("cache_read_input_tokens")))
    return Usage(prompt_tokens=prompt, completion_tokens=_int(usage.get("output_tokens")))


def reply_text(body: dict[str, Any]) -> str:
    """All text an OpenAI-shaped answer produced (content, legacy text, tool-call arguments)."""
    parts: list[str] = []
    for choice in body.get("choices") or ():
        if not isinstance(choice, dict):
            continue
        text = choice.get("text")
        if isinstance(text, str):
            parts.append(text)
        message = choice.get("message")
        if isinstance(message, dict):
            content = message.get("content")
            if isinstance(content, str):
                parts.append(content)
            for call in message.get("tool_calls") or ():
                args = (call.get("function") or {}).get("arguments") if isinstance(call, dict) else None
                if isinstance(args, str):
                    parts.append(args)
    return " ".join(parts)


def estimated_usage(request: InferenceRequest, reply: str) -> Usage:
    prompt = request.prompt_tokens_estimate or estimate_tokens(prompt_text(request.body))
    return Usage(prompt_tokens=prompt, completion_tokens=estimate_tokens(reply), estimated=True)
