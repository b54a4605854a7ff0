"""The catalog: providers, models, and offers (which provider serves a model, as what, at what price)."""

from __future__ import annotations

import difflib
import hashlib
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import msgspec


class ProviderKind(StrEnum):
    OPENAI = "openai"        # any OpenAI-compatible HTTP API
    ANTHROPIC = "anthropic"  # Anthropic's Messages API


class Provider(msgspec.Struct, frozen=True, kw_only=True):
    slug: str
    name: str
    kind: ProviderKind
    base_url: str
    api_key_env: str
    is_active: bool = True


class Offer(msgspec.Struct, frozen=True, kw_only=True):
    """One way to serve a model: a provider, its native model id, its price (USD per million tokens).
    A price of None means the catalog does not know it: such an offer is never billed at a guess."""

    provider: str
    native_id: str
    input_per_mtok: Decimal | None
    output_per_mtok: Decimal | None

    @property
    def priced(self) -> bool:
        return self.input_per_mtok is not None and self.output_per_mtok is not None


class Model(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    context_length: int
    max_output_tokens: int
    aliases: tuple[str, ...] = ()
    offers: tuple[Offer, ...] = ()
    is_active: bool = True
    created_at: datetime | None = None  # first catalogued here (the OpenAI list's `created`)


class Catalog(msgspec.Struct, frozen=True, kw_only=True):
    """An immutable snapshot; a reload builds a new one (readers never see half a load)."""

    providers: dict[str, Provider]
    models: dict[str, Model]
    aliases: dict[str, str]  # alias -> canonical id

    @classmethod
    def of(cls, providers: list[Provider], models: list[Model]) -> Catalog:
        active = {m.id: m for m in models if m.is_active}
        aliases = {a: m.id for m in active.values() for a in m.aliases}
        return cls(providers={p.slug: p for p in providers}, models=active, aliases=aliases)

    def resolve(self, name: str) -> Model | None:
        """Canonical id first, then alias (exact, then case-insensitive)."""
        model = self.models.get(name)
        if model is not None:
            return model
        canonical = self.aliases.get(name)
        if canonical is None:
            lowered = name.lower()
            canonical = next((c for a, c in self.aliases.items() if a.lower() == lowered), None)
            if canonical is None:
                canonical = next((m for m in self.models if m.lower() == lowered), None)
        return self.models.get(canonical) if canonical else None

    def close_matches(self, name: str, n: int = 5) -> list[str]:
        candidates = list(self.models) + list(self.aliases)
        matches = difflib.get_close_matches(name, candidates, n=n * 2, cutoff=0.4)
        seen: list[str] = []
        for m in matches:
            canonical = self.aliases.get(m, m)
            if canonical not in seen:
                seen.append(canonical)
        return seen[:n]


EMPTY_CATALOG = Catalog(providers={}, models={}, aliases={})


def catalog_problems(providers: list[Provider], models: list[Model]) -> list[str]:
    """Cross-reference rules any catalog must satisfy before it replaces the stored one: unique
    slugs and ids, aliases unique and never shadowing a model id, offers naming declared providers,
    sizes and prices in range. The file loader checks the same with line numbers; this is the rule."""
    problems: list[str] = []
    slugs: set[str] = set()
    for p in providers:
        if p.slug in slugs:
            problems.append(f"provider {p.slug}: declared twice")
        slugs.add(p.slug)
    ids = [m.id for m in models]
    id_set = set(ids)
    seen_ids: set[str] = set()
    aliases: dict[str, str] = {}
    for m in models:
        where = f"model {m.id or '?'}"
        if not m.id:
            problems.append("model: empty id")
        elif m.id in seen_ids:
            problems.append(f"{where}: declared twice")
        seen_ids.add(m.id)
        if m.context_length <= 0:
            problems.append(f"{where}: context_length must be > 0")
        if m.max_output_tokens < 0:
            problems.append(f"{where}: max_output_tokens must be >= 0")
        if not m.offers:
            problems.append(f"{where}: has no offers")
        for alias in m.aliases:
            if alias == m.id:
                problems.append(f"{where}: alias {alias} repeats the model's own id")
            elif alias in id_set:
                problems.append(f"{where}: alias {alias} is another model's id")
            elif alias in aliases:
                problems.append(f"{where}: alias {alias} already belongs to {aliases[alias]}")
            aliases.setdefault(alias, m.id)
        offered: set[str] = set()
        for o in m.offers:
            if o.provider not in slugs:
                problems.append(f"{where}: offer names undeclared provider {o.provider}")
            if o.provider in offered:
                problems.append(f"{where}: provider {o.provider} offered twice")
            offered.add(o.provider)
            if not o.native_id:
                problems.append(f"{where}: offer by {o.provider} has an empty native_id")
            for price in (o.input_per_mtok, o.output_per_mtok):
                if price is not None and (not price.is_finite() or price < 0):
                    problems.append(f"{where}: offer by {o.provider} has a negative price")
    return problems


def catalog_version(catalog: Catalog) -> str:
    """A short digest of a snapshot's content (#1603's catalog_version)."""
    return hashlib.sha256(msgspec.json.encode(catalog, order="sorted")).hexdigest()[:16]
