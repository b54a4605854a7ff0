"""Per-provider quirks, as data: a new OpenAI-compatible provider is a catalog row, plus a row here
only when it deviates from the OpenAI wire format."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec


class Profile(msgspec.Struct, frozen=True, kw_only=True):
    stream_options: bool = True  # accepts `stream_options: {"include_usage": true}` (some reject unknown fields)
    headers: tuple[tuple[str, str], ...] = ()  # sent on every request, after auth (may override it)
    max_tokens_field: str = "max_tokens"  # the name the provider reads the output cap from
    drop_fields: frozenset[str] = frozenset()  # request fields the provider rejects


DEFAULT = Profile()

_ATTRIBUTION = (("HTTP-Referer", "https://gatewayz.ai"), ("X-Title", "Gatewayz"))

PROFILES: Mapping[str, Profile] = {
    "openrouter": Profile(headers=_ATTRIBUTION),
    "mistral": Profile(stream_options=False),      # 422 on unknown fields; sends usage on the last chunk anyway
    "perplexity": Profile(stream_options=False),   # usage on every chunk
    "cohere": Profile(stream_options=False),
}


def profile_for(slug: str, profiles: Mapping[str, Profile] = PROFILES) -> Profile:
    return profiles.get(slug, DEFAULT)
