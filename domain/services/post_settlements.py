"""PostSettlements: write a batch of charges to the ledger in one transaction.

Each charge is posted whole (balance change and its api_usage row together) through
post_transaction; request ids already in the ledger are skipped, so a batch retried after a lost
commit acknowledgement, or a replayed settlement, never charges twice. Users are locked in id
order so concurrent batches from several processes cannot deadlock."""

from __future__ import annotations

from domain.ledger import TransactionType
from domain.services.post_transaction import post_transaction
from domain.settlements import PendingCharge
from ports.uow import UnitOfWorkFactory


class PostSettlements:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, charges: list[PendingCharge]) -> int:
        """Returns how many charges were newly written."""
        if not charges:
            return 0
        written = 0
        async with self._uow() as uow:
            seen = await uow.ledger.recorded_requests([c.request_id for c in charges])
            for charge in sorted(charges, key=lambda c: c.user_id):
                if charge.request_id in seen:
                    continue
                seen.add(charge.request_id)
                await post_transaction(uow, user_id=charge.user_id, amount=-charge.amount,
                                       kind=TransactionType.API_USAGE, now=charge.created_at,
                                       description=charge.description, request_id=charge.request_id,
                                       created_by=charge.created_by, metadata=charge.metadata)
                written += 1
            await uow.commit()
        return written
