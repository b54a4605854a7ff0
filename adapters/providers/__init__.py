"""Outbound adapter for model providers: one wire kind per API family (OpenAI-compatible,
Anthropic Messages) over pooled aiohttp sessions and one SSE decoder; provider quirks are data."""

from adapters.providers.profiles import PROFILES, Profile
from adapters.providers.upstream import ProviderUpstream

__all__ = ["PROFILES", "Profile", "ProviderUpstream"]
