"""One bundle per API area: the use cases that area's controllers call, and nothing else.

A controller names its area's bundle in its signature (`users: UsersServices`), so a reader sees
what it uses; the composition root builds each bundle (gatewayz/areas/) and the area's router hands
it over through Litestar's dependency injection (adapters/http/area.py)."""
