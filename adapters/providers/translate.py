"""OpenAI <-> Anthropic Messages shapes, for calling an Anthropic-native provider with an
OpenAI-shaped request (the gateway's lingua franca) and answering in OpenAI shape again.

Pure functions over dicts: no I/O, so every mapping rule is unit-tested on its own."""

from __future__ import annotations

import time
from typing import Any

import msgspec

DEFAULT_MAX_TOKENS = 4096  # Anthropic requires max_tokens; OpenAI clients often omit it

FINISH_REASONS = {
    "end_turn": "stop", "stop_sequence": "stop", "pause_turn": "stop",
    "max_tokens": "length", "model_context_window_exceeded": "length",
    "tool_use": "tool_calls", "refusal": "content_filter",
}


def finish_reason(stop_reason: Any) -> str | None:
    if stop_reason is None:
        return None
    return FINISH_REASONS.get(stop_reason, "stop")


# ---------------------------------------------------------------- request: OpenAI -> Anthropic


def to_messages_request(body: dict[str, Any], model: str, *, max_tokens: int | None = None,
                        stream: bool = False) -> dict[str, Any]:
    """A Messages API body for an OpenAI chat body."""
    system, messages = _messages(body.get("messages") or ())
    cap = max_tokens or body.get("max_tokens") or body.get("max_completion_tokens") or DEFAULT_MAX_TOKENS
    out: dict[str, Any] = {"model": model, "messages": messages, "max_tokens": cap}
    if system:
        out["system"] = system
    if stream:
        out["stream"] = True
    temperature = body.get("temperature")
    if isinstance(temperature, int | float):
        out["temperature"] = min(float(temperature), 1.0)  # OpenAI allows up to 2, Anthropic 1
    for key in ("top_p", "top_k"):
        if body.get(key) is not None:
            out[key] = body[key]
    stop = body.get("stop")
    if stop:
        out["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    tools = [_tool(t) for t in body.get("tools") or () if isinstance(t, dict)]
    if tools:
        out["tools"] = tools
        choice = _tool_choice(body.get("tool_choice"), body.get("parallel_tool_calls"))
        if choice is not None:
            out["tool_choice"] = choice
    user = body.get("user")
    if isinstance(user, str) and user:
        out["metadata"] = {"user_id": user}
    return out


def _messages(messages: Any) -> tuple[str, list[dict[str, Any]]]:
    """System text, and alternating user/assistant turns (consecutive same-role turns merged)."""
    system: list[str] = []
    out: list[dict[str, Any]] = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        role = message.get("role")
        if role in ("system", "developer"):
            text = _text_of(message.get("content"))
            if text:
                system.append(text)
            continue
        content: str | list[dict[str, Any]]
        if role == "assistant":
            turn, content = "assistant", _assistant_blocks(message)
        elif role in ("tool", "function"):
            turn, content = "user", [_tool_result(message)]
        else:
            turn, content = "user", _user_content(message.get("content"))
        if not content:
            continue
        if out and out[-1]["role"] == turn:
            out[-1]["content"] = _blocks(out[-1]["content"]) + _blocks(content)
        else:
            out.append({"role": turn, "content": content})
    return "\n\n".join(system), out


def _blocks(content: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def _user_content(content: Any) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    blocks: list[dict[str, Any]] = []
    for part in content if isinstance(content, list) else ():
        block = _part(part)
        if block is not None:
            if isinstance(part, dict) and "cache_control" in part:
                block["cache_control"] = part["cache_control"]
            blocks.append(block)
    return blocks


def _part(part: Any) -> dict[str, Any] | None:
    """One OpenAI content part as an Anthropic block (unknown kinds are dropped)."""
    if isinstance(part, str):
        return {"type": "text", "text": part} if part else None
    if not isinstance(part, dict):
        return None
    kind = part.get("type")
    if kind == "text":
        text = part.get("text")
        return {"type": "text", "text": text} if isinstance(text, str) and text else None
    if kind == "image_url":
        ref = part.get("image_url")
        url = ref.get("url") if isinstance(ref, dict) else ref
        return {"type": "image", "source": media_source(url)} if isinstance(url, str) and url else None
    if kind == "file":
        data = (part.get("file") or {}).get("file_data")
        return {"type": "document", "source": media_source(data)} if isinstance(data, str) and data else None
    return None


def media_source(url: str) -> dict[str, Any]:
    """A data URL becomes an inline base64 source; anything else is fetched by the provider."""
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        media_type = header[5:].split(";", 1)[0] or "image/png"
        return {"type": "base64", "media_type": media_type, "data": data}
    return {"type": "url", "url": url}


def _assistant_blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    content = message.get("content")
    if isinstance(content, str):
        if content:
            blocks.append({"type": "text", "text": content})
    elif isinstance(content, list):
        blocks.extend(b for b in (_part(p) for p in content) if b is not None)
    for call in message.get("tool_calls") or ():
        if not isinstance(call, dict):
            continue
        fn = call.get("function") or {}
        blocks.append({"type": "tool_use", "id": call.get("id") or "", "name": fn.get("name") or "",
                       "input": _arguments(fn.get("arguments"))})
    return blocks


def _arguments(arguments: Any) -> dict[str, Any]:
    if isinstance(arguments, dict):
        return arguments
    if isinstance(arguments, str) and arguments:
        try:
            value = msgspec.json.decode(arguments)
        except msgspec.DecodeError:
            return {}
        return value if isinstance(value, dict) else {}
    return {}


def _tool_result(message: dict[str, Any]) -> dict[str, Any]:
    content = message.get("content")
    result: Any = ""
    if isinstance(content, str):
        result = content
    elif isinstance(content, list):
        result = [b for b in (_part(p) for p in content) if b is not None]
    return {"type": "tool_result", "tool_use_id": message.get("tool_call_id") or message.get("name") or "",
            "content": result}


def _tool(tool: dict[str, Any]) -> dict[str, Any]:
    fn = tool.get("function") if tool.get("type", "function") == "function" else None
    if not isinstance(fn, dict):
        return tool  # already Anthropic-shaped (or a server tool): pass it through
    out: dict[str, Any] = {"name": fn.get("name") or "",
                           "input_schema": fn.get("parameters") or {"type": "object", "properties": {}}}
    if fn.get("description"):
        out["description"] = fn["description"]
    return out


def _tool_choice(choice: Any, parallel: Any) -> dict[str, Any] | None:
    if choice is None:
        mapped: dict[str, Any] | None = {"type": "auto"} if parallel is False else None
    elif choice == "auto":
        mapped = {"type": "auto"}
    elif choice == "required":
        mapped = {"type": "any"}
    elif choice == "none":
        return {"type": "none"}
    elif isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        mapped = {"type": "tool", "name": name} if name else {"type": "auto"}
    else:
        mapped = None
    if mapped is not None and parallel is False:
        mapped["disable_parallel_tool_use"] = True
    return mapped


# ---------------------------------------------------------------- response: Anthropic -> OpenAI


def from_messages_response(message: dict[str, Any]) -> dict[str, Any]:
    """A `chat.completion` for a Messages API response (usage added when the provider gave it)."""
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in message.get("content") or ():
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            texts.append(block.get("text") or "")
        elif kind == "tool_use":
            arguments = msgspec.json.encode(block.get("input") or {}).decode()
            calls.append({"id": block.get("id"), "type": "function",
                          "function": {"name": block.get("name"), "arguments": arguments}})
    reply: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts or not calls else None}
    if calls:
        reply["tool_calls"] = calls
    out: dict[str, Any] = {
        "id": message.get("id") or "", "object": "chat.completion", "created": int(time.time()),
        "model": message.get("model") or "",
        "choices": [{"index": 0, "message": reply, "logprobs": None,
                     "finish_reason": finish_reason(message.get("stop_reason")) or "stop"}],
    }
    usage = message.get("usage")
    if isinstance(usage, dict):
        out["usage"] = openai_usage_dict(usage)
    return out


def openai_usage_dict(usage: dict[str, Any]) -> dict[str, int]:
    """Anthropic usage in OpenAI's names (cached input counts as prompt, as OpenAI reports it)."""
    prompt = sum(usage.get(k) or 0 for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"))
    completion = usage.get("output_tokens") or 0
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
