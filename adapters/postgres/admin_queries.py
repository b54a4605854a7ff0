"""The admin read surface in SQL (PostgreSQL and SQLite): each method a bounded number of statements
whatever the table sizes, fetching no more rows than it returns. Money sums are exact NUMERIC on
PostgreSQL; SQLite keeps money as text, so its sums go through SQLite's own arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Integer, and_, cast, exists, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import ColumnElement, Select

from adapters.postgres.accounts import _USER_COLUMNS, user_from_row
from adapters.postgres.tables import (
    api_keys,
    chat_completion_requests,
    model_numbers,
    model_offers,
    models,
    providers,
    users,
)
from adapters.postgres.types import UtcDateTime
from domain.accounts import User
from domain.admin import RequestFilter, UserFilter, like_contains, like_prefix
from ports.admin_queries import Row

r = chat_completion_requests
ZERO = Decimal(0)


def _money(value: Any) -> Decimal:
    return ZERO if value is None else value if isinstance(value, Decimal) else Decimal(str(value))


def _credits() -> ColumnElement[Any]:
    return users.c.subscription_allowance + users.c.purchased_credits


def _display(k: Any) -> ColumnElement[Any]:
    return k.c.prefix + literal("…") + k.c.last4


def _listed_key(user_id: ColumnElement[Any]) -> Any:
    """The display form of the user's primary key, else their oldest active one."""
    k = api_keys.alias("listed_key")
    return (select(_display(k)).where(k.c.user_id == user_id, k.c.is_active)
            .order_by(k.c.is_primary.desc(), k.c.created_at, k.c.id).limit(1).scalar_subquery())


def _user_conditions(where: UserFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if where.email:
        found.append(func.lower(users.c.email).like(like_contains(where.email), escape="\\"))
    if where.is_active is not None:
        found.append(users.c.is_active == where.is_active)
    if where.api_key:
        k = api_keys.alias("filter_key")
        value = where.api_key
        matches: list[ColumnElement[bool]] = [k.c.last4 == value]
        if where.key_hash:
            matches.append(k.c.key_hash == where.key_hash)
        if len(value) <= 16:
            matches.append(k.c.prefix.like(like_prefix(value), escape="\\"))
        found.append(exists(select(k.c.id).where(k.c.user_id == users.c.id, or_(*matches))))
    return found


def _request_conditions(where: RequestFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if where.model_id is not None:
        found.append(r.c.model_id == where.model_id)
    if where.provider_id:
        found.append(r.c.provider == where.provider_id)
    if where.model_name:
        found.append(func.lower(models.c.name).like(like_contains(where.model_name), escape="\\"))
    if where.since is not None:
        found.append(r.c.created_at >= where.since)
    if where.until is not None:
        found.append(r.c.created_at < where.until)
    return found


def _catalogued() -> Any:
    """Request rows that resolved to a catalog model (inner join), with the serving provider if any."""
    return (r.join(model_numbers, model_numbers.c.id == r.c.model_id)
            .join(models, models.c.id == model_numbers.c.model_id)
            .outerjoin(providers, providers.c.slug == r.c.provider)
            .outerjoin(model_offers, and_(model_offers.c.model_id == models.c.id,
                                          model_offers.c.provider_slug == r.c.provider)))


_MODEL_COLUMNS = [r.c.model_id.label("m_id"), models.c.id.label("m_model_id"), models.c.name.label("m_name"),
                  model_offers.c.native_id.label("m_native"), providers.c.slug.label("p_slug"),
                  providers.c.name.label("p_name")]


def _nested_model(row: Any) -> Row:
    provider = None if row["p_slug"] is None else {"id": row["p_slug"], "name": row["p_name"], "slug": row["p_slug"]}
    return {"id": row["m_id"], "model_id": row["m_model_id"], "model_name": row["m_name"],
            "provider_model_id": row["m_native"], "provider_id": row["p_slug"], "providers": provider}


def request_row(row: Any) -> Row:
    return {"id": row["id"], "request_id": row["request_id"], "user_id": row["user_id"],
            "api_key_id": row["api_key_id"], "model_id": row["model_id"], "model": row["model"],
            "provider": row["provider"], "input_tokens": row["input_tokens"], "output_tokens": row["output_tokens"],
            "total_tokens": row["input_tokens"] + row["output_tokens"],
            "processing_time_ms": row["processing_time_ms"], "status": row["status"],
            "error_message": row["error_message"], "cost_usd": row["cost_usd"], "created_at": row["created_at"]}


_REQUEST_COLUMNS = [r.c.id, r.c.request_id, r.c.user_id, r.c.api_key_id, r.c.model_id, r.c.model, r.c.provider,
                    r.c.input_tokens, r.c.output_tokens, r.c.processing_time_ms, r.c.status, r.c.error_message,
                    r.c.cost_usd, r.c.created_at]


class PostgresAdminQueries:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"

    async def _all(self, query: Select[Any]) -> list[Any]:
        async with self._engine.connect() as conn:
            return list((await conn.execute(query)).mappings().all())

    async def _one(self, query: Select[Any]) -> Any:
        async with self._engine.connect() as conn:
            return (await conn.execute(query)).mappings().one()

    async def _scalar(self, query: Select[Any]) -> Any:
        async with self._engine.connect() as conn:
            return (await conn.execute(query)).scalar_one()

    def _day(self, column: Any) -> Any:
        return func.date(column) if self._sqlite else cast(func.timezone("UTC", column), Date)

    # users

    async def balances(self, *, limit: int, offset: int) -> tuple[int, list[Row]]:
        async with self._engine.connect() as conn:
            total = (await conn.execute(select(func.count()).select_from(users))).scalar_one()
            rows = (await conn.execute(
                select(users.c.id, _listed_key(users.c.id).label("api_key"), users.c.subscription_allowance,
                       users.c.purchased_credits, users.c.created_at, users.c.updated_at)
                .order_by(users.c.id).limit(limit).offset(offset))).mappings().all()
        return int(total), [{"user_id": row["id"], "api_key": row["api_key"],
                             "credits": _money(row["subscription_allowance"]) + _money(row["purchased_credits"]),
                             "created_at": row["created_at"], "updated_at": row["updated_at"]} for row in rows]

    async def user_growth(self, since: datetime) -> tuple[int, dict[str, int]]:
        day = self._day(users.c.created_at).label("day")
        async with self._engine.connect() as conn:
            before = (await conn.execute(select(func.count()).select_from(users)
                                         .where(users.c.created_at < since))).scalar_one()
            rows = (await conn.execute(select(day, func.count().label("n")).where(users.c.created_at >= since)
                                       .group_by(day))).all()
        return int(before), {str(d)[:10]: int(n) for d, n in rows}

    async def user_stats(self, where: UserFilter) -> Row:
        conditions = _user_conditions(where)
        role = users.c.role
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(
                func.count().label("total"),
                func.count().filter(users.c.is_active).label("active"),
                func.count().filter(role == "admin").label("admins"),
                func.count().filter(role == "developer").label("developers"),
                func.count().filter(or_(role == "user", role.is_(None))).label("regular"),
                func.sum(_credits()).label("credits"),
            ).where(*conditions))).mappings().one()
            breakdown = (await conn.execute(select(users.c.subscription_status, func.count())
                                            .where(*conditions).group_by(users.c.subscription_status))).all()
        return {**row, "credits": _money(row["credits"]), "subscription_breakdown": {s: int(n) for s, n in breakdown}}

    async def users(self, where: UserFilter, *, limit: int, offset: int) -> tuple[int, list[User]]:
        conditions = _user_conditions(where)
        async with self._engine.connect() as conn:
            total = (await conn.execute(select(func.count()).select_from(users).where(*conditions))).scalar_one()
            rows = (await conn.execute(select(*_USER_COLUMNS).where(*conditions)
                                       .order_by(users.c.created_at.desc(), users.c.id.desc())
                                       .limit(limit).offset(offset))).mappings().all()
        return int(total), [user_from_row(row) for row in rows]

    async def user_by_key_hash(self, key_hash: str) -> Row | None:
        rows = await self._all(
            select(users.c.id, users.c.username, users.c.email, _credits().label("credits"), users.c.is_active,
                   users.c.role, users.c.subscription_status, users.c.created_at)
            .join(api_keys, api_keys.c.user_id == users.c.id).where(api_keys.c.key_hash == key_hash).limit(1))
        return {**rows[0], "credits": _money(rows[0]["credits"])} if rows else None

    async def users_in_domain(self, domain: str) -> list[Row]:
        suffix = "%@" + domain.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = await self._all(select(users.c.id, users.c.email, users.c.username, users.c.created_at,
                                      _credits().label("credits"))
                               .where(func.lower(users.c.email).like(suffix, escape="\\"),
                                      users.c.deleted_at.is_(None))
                               .order_by(users.c.id))
        return [{**row, "credits": _money(row["credits"])} for row in rows]

    async def api_key(self, key_id: int) -> Row | None:
        used = select(func.count()).where(r.c.api_key_id == api_keys.c.id).scalar_subquery()
        rows = await self._all(
            select(api_keys, used.label("requests_used"), users.c.username.label("u_username"),
                   users.c.email.label("u_email"), _credits().label("u_credits"), users.c.is_active.label("u_active"),
                   users.c.role.label("u_role"), users.c.subscription_status.label("u_status"),
                   users.c.created_at.label("u_created"))
            .join(users, users.c.id == api_keys.c.user_id).where(api_keys.c.id == key_id))
        return dict(rows[0]) if rows else None

    async def recent_requests(self, user_id: int, *, limit: int) -> list[Row]:
        rows = await self._all(select(*_REQUEST_COLUMNS).where(r.c.user_id == user_id)
                               .order_by(r.c.created_at.desc(), r.c.id.desc()).limit(limit))
        return [request_row(row) for row in rows]

    # platform overview

    async def monitor(self, now: datetime) -> Row:
        day, month = now - timedelta(hours=24), now - timedelta(days=30)
        tokens = r.c.input_tokens + r.c.output_tokens
        async with self._engine.connect() as conn:
            totals = (await conn.execute(select(
                select(func.count()).select_from(users).scalar_subquery().label("total_users"),
                select(func.sum(_credits())).scalar_subquery().label("total_credits"),
                select(func.count()).where(users.c.created_at >= day).scalar_subquery().label("users_today"),
            ))).mappings().one()
            calls = (await conn.execute(select(
                func.count().filter(r.c.created_at >= day).label("calls_today"),
                func.count().label("calls_month"),
                func.coalesce(func.sum(tokens).filter(r.c.created_at >= day), 0).label("tokens_today"),
                func.coalesce(func.sum(tokens), 0).label("tokens_month"),
                func.sum(r.c.cost_usd).filter(r.c.created_at >= day).label("revenue_today"),
                func.sum(r.c.cost_usd).label("revenue_month"),
            ).where(r.c.created_at >= month))).mappings().one()
            recent = (await conn.execute(select(*_REQUEST_COLUMNS).order_by(r.c.created_at.desc(), r.c.id.desc())
                                         .limit(20))).mappings().all()
            spend = (select(r.c.user_id, func.count().label("requests"), func.coalesce(func.sum(tokens), 0)
                            .label("tokens"), func.coalesce(func.sum(r.c.cost_usd), 0).label("cost"))
                     .where(r.c.created_at >= month, r.c.user_id.is_not(None)).group_by(r.c.user_id)
                     .order_by(func.coalesce(func.sum(r.c.cost_usd), 0).desc(), r.c.user_id).limit(50).subquery())
            top = (await conn.execute(
                select(spend, users.c.username, users.c.email, _credits().label("credits"),
                       _listed_key(users.c.id).label("api_key"))
                .join(users, users.c.id == spend.c.user_id).order_by(spend.c.cost.desc(), spend.c.user_id)
            )).mappings().all()
        return {**totals, **calls, "total_credits": _money(totals["total_credits"]),
                "revenue_today": _money(calls["revenue_today"]), "revenue_month": _money(calls["revenue_month"]),
                "recent_usage": [request_row(row) for row in recent],
                "user_metrics": [{**row, "cost": _money(row["cost"]), "credits": _money(row["credits"])}
                                 for row in top]}

    async def trial_analytics(self, now: datetime) -> Row:
        trial = users.alias("trial_user")
        usage = (select(r.c.user_id, func.sum(r.c.input_tokens + r.c.output_tokens).label("tokens"),
                        func.count().label("requests"), func.sum(r.c.cost_usd).label("credits"))
                 .join(trial, trial.c.id == r.c.user_id)
                 .where(trial.c.trial_started_at.is_not(None), r.c.created_at >= trial.c.trial_started_at,
                        or_(trial.c.trial_expires_at.is_(None), r.c.created_at < trial.c.trial_expires_at))
                 .group_by(r.c.user_id).subquery())
        expired = or_(users.c.trial_expires_at.is_(None), users.c.trial_expires_at <= now)
        row = await self._one(
            select(func.count().label("total"),
                   func.count().filter(users.c.trial_expires_at > now).label("active"),
                   func.count().filter(expired).label("expired"),
                   func.count().filter(users.c.trial_converted_at.is_not(None)).label("converted"),
                   func.count().filter(and_(expired, users.c.trial_converted_at.is_(None))).label("pending"),
                   func.sum(users.c.trial_credits).label("allocated"),
                   func.coalesce(func.sum(usage.c.tokens), 0).label("tokens"),
                   func.coalesce(func.sum(usage.c.requests), 0).label("requests"),
                   func.sum(usage.c.credits).label("credits"))
            .select_from(users.outerjoin(usage, usage.c.user_id == users.c.id))
            .where(users.c.trial_started_at.is_not(None)))
        return {**row, "allocated": _money(row["allocated"]), "credits": _money(row["credits"])}

    # request monitoring

    async def chat_requests(self, where: RequestFilter, *, limit: int, offset: int,
                            api_key_id: int | None = None) -> tuple[int, list[Row]]:
        conditions = _request_conditions(where)
        if api_key_id is not None:
            conditions.append(r.c.api_key_id == api_key_id)
        joined = _catalogued()
        async with self._engine.connect() as conn:
            total = (await conn.execute(select(func.count()).select_from(joined).where(*conditions))).scalar_one()
            rows = (await conn.execute(select(*_REQUEST_COLUMNS, *_MODEL_COLUMNS).select_from(joined)
                                       .where(*conditions).order_by(r.c.created_at.desc(), r.c.id.desc())
                                       .limit(limit).offset(offset))).mappings().all()
        return int(total), [{**request_row(row), "models": _nested_model(row)} for row in rows]

    async def chat_summary(self, where: RequestFilter) -> Row:
        conditions = _request_conditions(where)
        row = await self._one(select(
            func.count().label("total_requests"),
            func.coalesce(func.sum(r.c.input_tokens), 0).label("total_input_tokens"),
            func.coalesce(func.sum(r.c.output_tokens), 0).label("total_output_tokens"),
            func.avg(r.c.input_tokens).label("avg_input_tokens"),
            func.avg(r.c.output_tokens).label("avg_output_tokens"),
            func.avg(r.c.processing_time_ms).label("avg_processing_time_ms"),
            func.count().filter(r.c.status == "completed").label("completed_requests"),
            func.count().filter(r.c.status != "completed").label("failed_requests"),
            func.min(r.c.created_at).label("first_request_at"),
            func.max(r.c.created_at).label("last_request_at"),
            func.sum(r.c.cost_usd).label("total_cost_usd"),
        ).select_from(_catalogued()).where(*conditions))
        found = dict(row)
        found["total_cost_usd"] = _money(found["total_cost_usd"])
        return found

    def _epoch(self, column: Any) -> Any:
        return (func.julianday(column) - 2440587.5) * 86400 if self._sqlite else func.extract("epoch", column)

    async def plot_points(self, where: RequestFilter, *, total: int, max_points: int) -> list[Row]:
        conditions = _request_conditions(where)
        tokens = r.c.input_tokens + r.c.output_tokens
        if total <= max_points:
            rows = await self._all(select(r.c.created_at, tokens.label("tokens"), r.c.processing_time_ms)
                                   .select_from(_catalogued()).where(*conditions)
                                   .order_by(r.c.created_at, r.c.id).limit(max_points))
            return [{"at": row["created_at"], "tokens": float(row["tokens"]),
                     "latency": float(row["processing_time_ms"])} for row in rows]
        epoch = self._epoch(r.c.created_at)
        span = await self._one(select(func.min(epoch).label("lo"), func.max(epoch).label("hi"))
                               .select_from(_catalogued()).where(*conditions))
        lo, hi = float(span["lo"]), float(span["hi"])
        width = max((hi - lo) / max_points, 1e-6)
        bucket = func.least(cast(func.floor((epoch - lo) / width), Integer), max_points - 1) if not self._sqlite \
            else func.min(cast((epoch - lo) / width, Integer), max_points - 1)
        label = bucket.label("bucket")
        rows = await self._all(select(label, func.avg(tokens).label("tokens"),
                                      func.avg(r.c.processing_time_ms).label("latency"))
                               .select_from(_catalogued()).where(*conditions).group_by(label).order_by(label))
        return [{"at": datetime.fromtimestamp(lo + (int(row["bucket"]) + 0.5) * width, UTC),
                 "tokens": round(float(row["tokens"]), 2), "latency": round(float(row["latency"]), 2)}
                for row in rows]

    async def api_key_by_hash(self, key_hash: str) -> Row | None:
        rows = await self._all(select(api_keys.c.id, api_keys.c.name, api_keys.c.user_id, api_keys.c.environment,
                                      api_keys.c.is_active, api_keys.c.created_at)
                               .where(api_keys.c.key_hash == key_hash))
        return dict(rows[0]) if rows else None

    async def by_provider(self) -> list[Row]:
        n = func.count().label("total_requests")
        rows = await self._all(
            select(r.c.provider, providers.c.name, func.count(func.distinct(r.c.model_id)).label("models"), n)
            .select_from(r.join(providers, providers.c.slug == r.c.provider))
            .where(r.c.model_id.is_not(None)).group_by(r.c.provider, providers.c.name)
            .order_by(n.desc(), r.c.provider))
        return [{"provider_id": row["provider"], "name": row["name"], "slug": row["provider"],
                 "models_with_requests": row["models"], "total_requests": row["total_requests"]} for row in rows]

    async def by_model_and_provider(self) -> list[Row]:
        n = func.count().label("n")
        rows = await self._all(
            select(r.c.model_id, models.c.id.label("canonical"), models.c.name, r.c.provider,
                   providers.c.name.label("provider_name"), n)
            .select_from(_catalogued())
            .group_by(r.c.model_id, models.c.id, models.c.name, r.c.provider, providers.c.name)
            .order_by(n.desc(), r.c.model_id, r.c.provider))
        return [{"model_id": row["model_id"], "model_name": row["name"], "model_identifier": row["canonical"],
                 "provider_name": row["provider_name"], "provider_slug": row["provider"], "request_count": row["n"]}
                for row in rows]

    async def by_model(self, provider_id: str | None) -> list[Row]:
        n = func.count().label("n")
        group = [r.c.model_id, models.c.id, models.c.name, r.c.provider, providers.c.name, model_offers.c.native_id]
        query = (select(r.c.model_id, models.c.id.label("canonical"), models.c.name.label("model_name"),
                        r.c.provider, providers.c.name.label("provider_name"), model_offers.c.native_id, n,
                        func.coalesce(func.sum(r.c.input_tokens), 0).label("input"),
                        func.coalesce(func.sum(r.c.output_tokens), 0).label("output"),
                        func.avg(r.c.processing_time_ms).label("ms"))
                 .select_from(_catalogued()).group_by(*group).order_by(n.desc(), r.c.model_id, r.c.provider))
        if provider_id:
            query = query.where(r.c.provider == provider_id)
        rows = await self._all(query)
        return [{"model_id": row["model_id"], "model_identifier": row["canonical"], "model_name": row["model_name"],
                 "provider_model_id": row["native_id"],
                 "provider": None if row["provider_name"] is None
                 else {"id": row["provider"], "name": row["provider_name"], "slug": row["provider"]},
                 "stats": {"total_requests": row["n"], "total_input_tokens": int(row["input"]),
                           "total_output_tokens": int(row["output"]),
                           "total_tokens": int(row["input"]) + int(row["output"]),
                           "avg_processing_time_ms": float(row["ms"] or 0)}} for row in rows]

    async def model_usage(self, *, model_name: str | None, sort_by: str, descending: bool, limit: int,
                          offset: int) -> tuple[int, list[Row]]:
        tokens = r.c.input_tokens + r.c.output_tokens
        n = func.count()
        cost = func.coalesce(func.sum(r.c.cost_usd), 0)
        conditions = [r.c.status == "completed"]
        if model_name:
            conditions.append(func.lower(models.c.name).like(like_contains(model_name), escape="\\"))
        grouped = (select(
            r.c.model_id, models.c.id.label("model_identifier"), models.c.name.label("model_name"),
            r.c.provider.label("provider_slug"), providers.c.name.label("provider_name"),
            n.label("successful_requests"), cost.label("total_cost_usd"),
            (cost / n).label("avg_cost_per_request_usd"),
            func.coalesce(func.sum(r.c.input_tokens), 0).label("total_input_tokens"),
            func.coalesce(func.sum(r.c.output_tokens), 0).label("total_output_tokens"),
            func.coalesce(func.sum(tokens), 0).label("total_tokens"),
            func.avg(r.c.processing_time_ms).label("avg_processing_time_ms"),
            func.min(r.c.created_at).label("first_request_at"), func.max(r.c.created_at).label("last_request_at"),
            model_offers.c.input_per_mtok.label("input_price_per_mtok"),
            model_offers.c.output_per_mtok.label("output_price_per_mtok"), models.c.context_length)
            .select_from(_catalogued()).where(*conditions)
            .group_by(r.c.model_id, models.c.id, models.c.name, r.c.provider, providers.c.name,
                      model_offers.c.input_per_mtok, model_offers.c.output_per_mtok, models.c.context_length)
            .subquery())
        key = grouped.c[sort_by]
        order = [key.desc() if descending else key.asc(), grouped.c.model_id, grouped.c.provider_slug]
        async with self._engine.connect() as conn:
            total = (await conn.execute(select(func.count()).select_from(grouped))).scalar_one()
            rows = (await conn.execute(select(grouped).order_by(*order).limit(limit).offset(offset))).mappings().all()
        out = []
        for row in rows:
            item = dict(row)
            for k in ("total_cost_usd", "avg_cost_per_request_usd"):
                item[k] = _money(item[k])
            for k in ("input_price_per_mtok", "output_price_per_mtok"):
                item[k] = None if item[k] is None else _money(item[k])
            item["avg_processing_time_ms"] = round(float(item["avg_processing_time_ms"] or 0), 2)
            out.append(item)
        return int(total), out

    async def tracking_quality(self, since: datetime) -> Row:
        keyed, user = r.c.api_key_id.is_not(None), r.c.user_id.is_not(None)
        return dict(await self._one(select(
            func.count().label("total"),
            func.count().filter(keyed).label("with_api_key"),
            func.count().filter(and_(~keyed, user)).label("user_without_key"),
            func.count().filter(and_(~keyed, ~user)).label("anonymous"),
            func.count().filter(r.c.is_anonymous).label("flagged_anonymous"),
        ).where(r.c.created_at >= since)))

    async def tracking_trend(self, start: datetime, days: int) -> list[Row]:
        anchor = literal(start, UtcDateTime)
        seconds = (func.julianday(r.c.created_at) - func.julianday(anchor)) * 86400 if self._sqlite \
            else func.extract("epoch", r.c.created_at - anchor)
        index = cast(func.floor(seconds / 86400), Integer).label("idx")
        rows = await self._all(
            select(index, func.count().label("total"),
                   func.count().filter(r.c.api_key_id.is_not(None)).label("with_key"))
            .where(r.c.created_at >= start, r.c.created_at < start + timedelta(days=days))
            .group_by(index))
        return [{"index": int(row["idx"]), "total": row["total"], "with_key": row["with_key"]} for row in rows]

