"""VerifyLedger (`gatewayz ledger verify`): for every user, a zero opening balance plus the sum of the
rows is the balance, every row's arithmetic holds, and the rows chain; and the ledger is complete:
every completed request with a cost has its usage row, every usage row its request row.

The whole ledger streams through in id order. A mismatch seen while other processes write may only
be a row committed between two reads, so each suspect user is checked again under their row lock
(which every balance change takes first): only what survives that is reported."""

from __future__ import annotations

from decimal import Decimal

from domain.ledger import Balances
from domain.ledger_check import LedgerReport, Mismatch, UserChain, check_user
from domain.money import total
from ports.clock import Clock
from ports.holds import HoldStore
from ports.uow import UnitOfWorkFactory


class VerifyLedger:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, holds: HoldStore | None = None, *,
                 batch: int = 1000) -> None:
        self._uow = uow
        self._clock = clock
        self._holds = holds
        self._batch = batch

    async def __call__(self) -> LedgerReport:
        chains: dict[int, UserChain] = {}
        suspects: set[int] = set()
        rows = users = 0
        async with self._uow() as uow:
            after = 0
            while page := await uow.ledger.rows_after(after, limit=self._batch):
                for row in page:
                    chain = chains.setdefault(row.user_id, UserChain(row.user_id))
                    if chain.add(row):
                        suspects.add(row.user_id)
                rows += len(page)
                after = page[-1].id or after
            after = 0
            while accounts := await uow.ledger.user_balances(after, limit=self._batch):
                for account in accounts:
                    chain = chains.pop(account.user_id, UserChain(account.user_id))
                    if chain.close(account.balances):
                        suspects.add(account.user_id)
                users += len(accounts)
                after = accounts[-1].user_id
            suspects.update(chains)  # rows whose user was not listed
        mismatches: list[Mismatch] = []
        for user_id in sorted(suspects):
            mismatches.extend(await self._recheck(user_id))
        mismatches.extend(await self._completeness())
        open_holds: int | None = None
        held: Decimal | None = None
        if self._holds is not None:
            holds = await self._holds.open_holds(now=self._clock.now().timestamp())
            open_holds, held = len(holds), total(h.amount for h in holds)
        return LedgerReport(users_checked=users, rows_checked=rows, mismatches=mismatches, open_holds=open_holds,
                            held=held)

    async def _completeness(self) -> list[Mismatch]:
        """Every charged request has its usage row and every usage row its request. The two rows are
        written by separate commits, so a gap seen once is looked at again before it is reported."""
        async with self._uow() as uow:
            gaps = await uow.ledger.usage_gaps()
        if not gaps:
            return []
        async with self._uow() as uow:
            gaps = await uow.ledger.usage_gaps([g.request_id for g in gaps])
        return [g.mismatch() for g in gaps]

    async def _recheck(self, user_id: int) -> list[Mismatch]:
        async with self._uow() as uow:
            user = await uow.users.get_for_update(user_id)
            history = await uow.ledger.history(user_id)
        balances = None if user is None else Balances(subscription_allowance=user.subscription_allowance,
                                                      purchased_credits=user.purchased_credits)
        return check_user(user_id, history, balances)
