"""GET /admin/credit-transactions (#1615) over HTTP: amount bounds on |amount| and direction in SQL
with database pagination, the seed's 400 texts, the seed's page contract, the per-user summary."""

from __future__ import annotations

from tests.harness import Running, bearer

PATH = "/admin/credit-transactions"


async def test_filters_pages_and_summary(app: Running) -> None:
    _, admin_key = await app.user("root@admin.test", admin=True)
    h = bearer(admin_key)
    uid, _ = await app.user("ledger@x.org")
    for amount, reason in (("40", "welcome bonus credit"), ("-15.5", "duplicate grant reversed"),
                           ("3", "goodwill credit one"), ("-1", "small correction one")):
        path = "/credits/add" if not amount.startswith("-") else "/credits/adjust"
        done = await app.client.post(path, headers=h, json={"user_id": uid, "amount": amount, "reason": reason})
        assert done.status_code == 200, done.text

    async def amounts(**params: object) -> list[float]:
        response = await app.client.get(PATH, params={"user_id": uid, **params}, headers=h)
        assert response.status_code == 200, response.text
        return [t["amount"] for t in response.json()["transactions"]]

    assert sorted(await amounts()) == [-15.5, -1, 3, 40]
    assert sorted(await amounts(min_amount="3", max_amount="15.5")) == [-15.5, 3]  # inclusive, on |amount|
    assert sorted(await amounts(direction="charge")) == [-15.5, -1]
    assert await amounts(sort_by="amount", sort_order="asc") == [-15.5, -1, 3, 40]
    assert await amounts(transaction_type="no-such-type") == []
    page = (await app.client.get(PATH, params={"user_id": uid, "limit": 2, "offset": 3}, headers=h)).json()
    assert page["pagination"] == {"total": 1, "limit": 2, "offset": 3, "has_more": False}
    full = (await app.client.get(PATH, params={"user_id": uid, "limit": 2}, headers=h)).json()
    assert full["pagination"]["has_more"] is True and "summary" not in full
    summed = (await app.client.get(PATH, params={"user_id": uid, "include_summary": "true"}, headers=h)).json()
    assert summed.get("summary")
    for bad, text in (({"direction": "up"}, "direction must be 'credit' or 'charge'"),
                      ({"sort_by": "user_id"}, "sort_by must be"), ({"sort_order": "sideways"}, "sort_order must be")):
        refused = await app.client.get(PATH, params=bad, headers=h)
        assert refused.status_code == 400 and refused.json()["detail"].startswith(text), refused.text
    assert (await app.client.get(PATH, params={"limit": 1001}, headers=h)).status_code == 422
