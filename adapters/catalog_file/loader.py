"""Parse a catalog YAML file strictly, so a typo is reported with its line and never half-loaded.

The file is composed (not constructed) with PyYAML: nodes keep their line numbers, nothing is ever
instantiated from a tag, and numbers are read from their source text (prices via Decimal, never float).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from domain.catalog import Model, Offer, Provider, ProviderKind
from domain.errors import InvalidInput

SLUG = re.compile(r"^[a-z0-9-]+$")
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
STR_TAG = "tag:yaml.org,2002:str"
NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float", STR_TAG)
MAX_ERRORS = 20


class CatalogFileError(InvalidInput):
    """Every problem found, one per line of the message, each as `line N: path.to.field: reason`."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors), field="catalog")
        self.errors = errors


class _Invalid(Exception):
    """One field is wrong; collected by the walker, which then goes on to the next item."""


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


class _Walker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, node: Node, path: str, reason: str) -> None:
        self.errors.append(f"line {_line(node)}: {path or '(file)'}: {reason}")
        if len(self.errors) >= MAX_ERRORS:
            raise CatalogFileError([*self.errors, "... (stopped after 20 errors)"])

    def fields(self, node: Node, path: str, required: set[str], optional: set[str]) -> dict[str, Node] | None:
        """A mapping's values by key; unknown, duplicate and missing keys are errors."""
        if not isinstance(node, MappingNode):
            self.error(node, path, "must be a mapping")
            return None
        out: dict[str, Node] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, ScalarNode) else "?"
            if name not in required | optional:
                self.error(key, f"{path}.{name}" if path else name, "unknown field")
            elif name in out:
                self.error(key, f"{path}.{name}" if path else name, "duplicate field")
            else:
                out[name] = value
        for name in sorted(required - out.keys()):
            self.error(node, f"{path}.{name}" if path else name, "is required")
        return out if required <= out.keys() else None

    def items(self, node: Node, path: str) -> list[Node]:
        if not isinstance(node, SequenceNode):
            self.error(node, path, "must be a list")
            return []
        return list(node.value)

    def value(self, node: Node, path: str, parse: Callable[[Node], Any]) -> Any:
        try:
            return parse(node)
        except _Invalid as exc:
            self.error(node, path, str(exc))
            return None


def _text(node: Node) -> str:
    if not isinstance(node, ScalarNode) or node.tag != STR_TAG or not node.value.strip():
        raise _Invalid("must be a non-empty string")
    return str(node.value).strip()


def _matching(pattern: re.Pattern[str], rule: str) -> Callable[[Node], str]:
    def parse(node: Node) -> str:
        text = _text(node)
        if not pattern.match(text):
            raise _Invalid(f"must match {rule}")
        return text
    return parse


def _kind(node: Node) -> ProviderKind:
    text = _text(node)
    try:
        return ProviderKind(text)
    except ValueError:
        raise _Invalid("must be one of: openai, anthropic") from None


def _url(node: Node) -> str:
    text = _text(node)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _Invalid("must be an http(s) URL")
    return text.rstrip("/")


def _integer(minimum: int) -> Callable[[Node], int]:
    reason = "must be a positive integer" if minimum > 0 else "must be a non-negative integer"

    def parse(node: Node) -> int:
        if not isinstance(node, ScalarNode) or node.tag != "tag:yaml.org,2002:int":
            raise _Invalid(reason)
        try:
            value = int(str(node.value).replace("_", ""))
        except ValueError:
            raise _Invalid(reason) from None
        if value < minimum:
            raise _Invalid(reason)
        return value
    return parse


def _price(node: Node) -> Decimal:
    """From the source text, so 0.15 stays exactly 0.15."""
    reason = "must be a non-negative number"
    if not isinstance(node, ScalarNode) or node.tag not in NUMBER_TAGS:
        raise _Invalid(reason)
    try:
        value = Decimal(str(node.value).strip())
    except InvalidOperation:
        raise _Invalid(reason) from None
    if not value.is_finite() or value < 0:
        raise _Invalid(reason)
    return value


PROVIDER_FIELDS = {"slug", "name", "kind", "base_url", "api_key_env"}
MODEL_FIELDS = {"id", "name", "context_length", "max_output_tokens", "offers"}
OFFER_FIELDS = {"provider", "native_id", "input_per_mtok", "output_per_mtok"}


def _providers(w: _Walker, node: Node) -> list[Provider]:
    found: list[Provider] = []
    seen: set[str] = set()
    for i, item in enumerate(w.items(node, "providers")):
        path = f"providers[{i}]"
        f = w.fields(item, path, PROVIDER_FIELDS, set())
        if f is None:
            continue
        slug = w.value(f["slug"], f"{path}.slug", _matching(SLUG, "^[a-z0-9-]+$"))
        name = w.value(f["name"], f"{path}.name", _text)
        kind = w.value(f["kind"], f"{path}.kind", _kind)
        base_url = w.value(f["base_url"], f"{path}.base_url", _url)
        env = w.value(f["api_key_env"], f"{path}.api_key_env", _matching(ENV_NAME, "^[A-Z][A-Z0-9_]*$"))
        if slug in seen:
            w.error(f["slug"], f"{path}.slug", f"provider {slug} is declared twice")
        if None in (slug, name, kind, base_url, env):
            continue
        seen.add(slug)
        found.append(Provider(slug=slug, name=name, kind=kind, base_url=base_url, api_key_env=env))
    return found


def _offers(w: _Walker, node: Node, path: str, slugs: set[str]) -> list[Offer] | None:
    offers: list[Offer] = []
    ok = True
    items = w.items(node, f"{path}.offers")
    if isinstance(node, SequenceNode) and not items:
        w.error(node, f"{path}.offers", "must list at least one offer")
    for j, item in enumerate(items):
        opath = f"{path}.offers[{j}]"
        f = w.fields(item, opath, OFFER_FIELDS, set())
        if f is None:
            ok = False
            continue
        provider = w.value(f["provider"], f"{opath}.provider", _text)
        if provider is not None and provider not in slugs:
            w.error(f["provider"], f"{opath}.provider", f"provider {provider} is not declared under providers")
            provider = None
        elif provider is not None and any(o.provider == provider for o in offers):
            w.error(f["provider"], f"{opath}.provider", f"provider {provider} already has an offer for this model")
            provider = None
        native_id = w.value(f["native_id"], f"{opath}.native_id", _text)
        price_in = w.value(f["input_per_mtok"], f"{opath}.input_per_mtok", _price)
        price_out = w.value(f["output_per_mtok"], f"{opath}.output_per_mtok", _price)
        if None in (provider, native_id, price_in, price_out):
            ok = False
            continue
        offers.append(Offer(provider=provider, native_id=native_id, input_per_mtok=price_in,
                            output_per_mtok=price_out))
    return offers if ok and offers else None


def _aliases(w: _Walker, node: Node, path: str) -> list[tuple[str, Node]]:
    found = []
    for k, item in enumerate(w.items(node, f"{path}.aliases")):
        alias = w.value(item, f"{path}.aliases[{k}]", _text)
        if alias is not None:
            found.append((alias, item))
    return found


def _declared(node: Node | None, field: str) -> dict[str, int]:
    """Each value of `field` across the items -> index of its first declaration (valid or not), so a
    cross-reference to an item that has an error of its own is not reported a second time."""
    found: dict[str, int] = {}
    for i, item in enumerate(node.value if isinstance(node, SequenceNode) else []):
        if isinstance(item, MappingNode):
            for key, value in item.value:
                if getattr(key, "value", None) == field and isinstance(value, ScalarNode):
                    found.setdefault(str(value.value).strip(), i)
    return found


def _models(w: _Walker, node: Node, slugs: set[str]) -> list[Model]:
    items = w.items(node, "models")
    ids = _declared(node, "id")
    found: list[Model] = []
    alias_owner: dict[str, str] = {}
    for i, item in enumerate(items):
        path = f"models[{i}]"
        f = w.fields(item, path, MODEL_FIELDS, {"aliases"})
        if f is None:
            continue
        mid = w.value(f["id"], f"{path}.id", _text)
        if mid is not None and ids.get(mid) != i:
            w.error(f["id"], f"{path}.id", f"model {mid} is already declared at models[{ids[mid]}]")
            mid = None
        name = w.value(f["name"], f"{path}.name", _text)
        context = w.value(f["context_length"], f"{path}.context_length", _integer(1))
        max_out = w.value(f["max_output_tokens"], f"{path}.max_output_tokens", _integer(0))
        aliases = _aliases(w, f["aliases"], path) if "aliases" in f else []
        for k, (alias, alias_node) in enumerate(aliases):
            apath = f"{path}.aliases[{k}]"
            if alias in ids:
                w.error(alias_node, apath, f"alias {alias} is a model id")
            elif alias in alias_owner:
                w.error(alias_node, apath, f"alias {alias} already belongs to {alias_owner[alias]}")
            alias_owner.setdefault(alias, mid or "?")
        offers = _offers(w, f["offers"], path, slugs)
        if None in (mid, name, context, max_out, offers):
            continue
        found.append(Model(id=mid, name=name, context_length=context, max_output_tokens=max_out,
                           aliases=tuple(a for a, _ in aliases), offers=tuple(offers or ())))
    return found


def parse_catalog(text: str) -> tuple[list[Provider], list[Model]]:
    """The whole file or a CatalogFileError listing every problem (up to 20) by line and field."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise CatalogFileError([f"line {line}: invalid YAML: {exc.problem or exc.context}"]) from None
    except yaml.YAMLError as exc:
        raise CatalogFileError([f"line 1: invalid YAML: {exc}"]) from None
    if root is None:
        raise CatalogFileError(["line 1: (file): is empty; expected providers and models"])
    w = _Walker()
    f = w.fields(root, "", {"providers", "models"}, set())
    providers = _providers(w, f["providers"]) if f else []
    models = _models(w, f["models"], set(_declared(f["providers"], "slug"))) if f else []
    for name in ("providers", "models"):
        if f and isinstance(f[name], SequenceNode) and not f[name].value:
            w.error(f[name], name, "must not be empty (loading it would retire the whole catalog)")
    if w.errors:
        raise CatalogFileError(sorted(w.errors, key=lambda e: int(e.split(":", 1)[0].removeprefix("line "))))
    return providers, models


def load_catalog_file(path: str | Path) -> tuple[list[Provider], list[Model]]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogFileError([f"line 1: {path}: cannot read: {exc}"]) from None
    return parse_catalog(text)
