"""`gatewayz` command line: serve, migrate, users, keys, catalog, ledger."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from domain.errors import GatewayError
from gatewayz.settings import Settings, SettingsError

DEFAULT_CATALOG = Path(__file__).resolve().parent / "data" / "default_catalog.yaml"


def _amount(raw: str) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise argparse.ArgumentTypeError(f"not an amount: {raw!r}") from exc
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError("must be a non-negative amount")
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gatewayz", description="Gatewayz AI inference gateway")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--server", choices=["granian", "uvicorn"], default="granian")
    serve.add_argument("--no-migrate", action="store_true", help="do not migrate the embedded SQLite first")

    sub.add_parser("migrate", help="bring the database to the newest schema")

    users = sub.add_parser("users", help="manage users").add_subparsers(dest="action", required=True)
    uc = users.add_parser("create", help="create a user and their first API key")
    uc.add_argument("--email", required=True)
    uc.add_argument("--username")
    uc.add_argument("--admin", action="store_true")
    uc.add_argument("--credits", type=_amount, default=Decimal(0))
    uc.add_argument("--json", action="store_true")

    keys = sub.add_parser("keys", help="manage API keys").add_subparsers(dest="action", required=True)
    kc = keys.add_parser("create", help="issue a new key for a user")
    kc.add_argument("--user-id", type=int, required=True)
    kc.add_argument("--name", default="default")
    kc.add_argument("--json", action="store_true")
    kr = keys.add_parser("revoke", help="revoke a key by id")
    kr.add_argument("key_id", type=int)

    catalog = sub.add_parser("catalog", help="manage the model catalog").add_subparsers(dest="action", required=True)
    cl = catalog.add_parser("load", help="replace the catalog with a YAML file (models absent from it are retired)")
    source = cl.add_mutually_exclusive_group(required=True)
    source.add_argument("file", nargs="?", help="catalog YAML file")
    source.add_argument("--default", action="store_true", help="the catalog shipped with Gatewayz")
    cl.add_argument("--json", action="store_true")

    ledger = sub.add_parser("ledger", help="the credits ledger").add_subparsers(dest="action", required=True)
    lv = ledger.add_parser("verify", help="check that every user's ledger rows explain their balance "
                                          "(exit 1 on a mismatch)")
    lv.add_argument("--json", action="store_true")
    return p


async def _with_container(settings: Settings, fn: Callable[[Any], Awaitable[Any]]) -> Any:
    from gatewayz.container import build_container
    from gatewayz.migrations import require_migrated

    container = build_container(settings)
    try:
        engine = await container.engine()  # type: ignore[misc]  # an async Resource: awaited once
        await require_migrated(engine)  # before the resources that read tables as they start
    except BaseException:
        await container.shutdown_resources()  # type: ignore[misc]
        raise
    await container.init_resources()  # type: ignore[misc]
    try:
        return await fn(container)
    finally:
        await container.shutdown_resources()  # type: ignore[misc]


def _print(payload: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(payload))
    else:
        for k, v in payload.items():
            print(f"{k}: {v}")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from gatewayz.migrations import NotMigrated

    try:
        return _run(args, settings)
    except NotMigrated as exc:
        print(exc.message, file=sys.stderr)
        return 2
    except GatewayError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from gatewayz.container import resolve
    from gatewayz.migrations import migrate

    if args.command == "migrate":
        migrate(settings.database_url)
        print("database is at the newest schema")
        return 0
    if args.command == "serve":
        from gatewayz.server import serve

        if settings.is_embedded and not args.no_migrate:
            migrate(settings.database_url)
        serve(host=args.host, port=args.port, workers=args.workers, server=args.server)
        return 0
    if args.command == "users" and args.action == "create":
        async def create(c: Any) -> Any:
            return await (await resolve(c.users.create_user))(
                email=args.email, username=args.username, admin=args.admin, credits=args.credits)

        created = asyncio.run(_with_container(settings, create))
        _print({"user_id": created.user.id, "api_key": created.api_key, "api_key_id": created.api_key_id,
                "email": created.user.email, "role": created.user.role.value,
                "credits": format(created.user.balance, "f")}, args.json)
        return 0
    if args.command == "keys" and args.action == "create":
        async def issue(c: Any) -> Any:
            return await (await resolve(c.users.issue_api_key))(args.user_id, name=args.name)

        issued = asyncio.run(_with_container(settings, issue))
        _print({"key_id": issued.key.id, "user_id": issued.key.user_id, "api_key": issued.plaintext}, args.json)
        return 0
    if args.command == "keys" and args.action == "revoke":
        async def revoke(c: Any) -> None:
            await (await resolve(c.users.revoke_api_key))(args.key_id)

        asyncio.run(_with_container(settings, revoke))
        print(f"revoked key {args.key_id}")
        return 0
    if args.command == "catalog" and args.action == "load":
        from adapters.catalog_file import load_catalog_file

        providers, models = load_catalog_file(DEFAULT_CATALOG if args.default else args.file)  # before any I/O

        async def load(c: Any) -> dict[str, int]:
            return await (await resolve(c.models.load_catalog))(providers, models)  # type: ignore[no-any-return]

        _print(asyncio.run(_with_container(settings, load)), args.json)
        return 0
    if args.command == "ledger" and args.action == "verify":
        async def verify(c: Any) -> Any:
            return await (await resolve(c.credits.verify_ledger))()

        report = asyncio.run(_with_container(settings, verify))
        _print_ledger_report(report, args.json)
        return 0 if report.ok else 1
    raise AssertionError(f"unhandled command {args.command}")


def _print_ledger_report(report: Any, as_json: bool) -> None:
    held = format(report.held, "f") if report.held is not None else None
    if as_json:
        mismatches = [{"user_id": m.user_id, "kind": m.kind.value, "transaction_id": m.transaction_id,
                       "detail": m.detail} for m in report.mismatches]
        print(json.dumps({"ok": report.ok, "users_checked": report.users_checked, "rows_checked": report.rows_checked,
                          "mismatches": mismatches, "open_holds": report.open_holds, "held": held}))
        return
    print(f"users checked: {report.users_checked}")
    print(f"rows checked: {report.rows_checked}")
    print(f"mismatches: {len(report.mismatches)}")
    for m in report.mismatches:
        row = f" transaction {m.transaction_id}" if m.transaction_id is not None else ""
        print(f"  user {m.user_id}{row}: {m.kind.value}: {m.detail}")
    if report.open_holds is not None:
        print(f"open holds: {report.open_holds} (held {held})")
    print("ledger OK" if report.ok else "LEDGER MISMATCH")
