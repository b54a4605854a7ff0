"""The seed's list and action envelope, `{"success", "data", "count", "message"}`, and page facts.

Every admin and list route answers in this one shape where the seed does; `count` is the number of
items in `data` for a list (a page's `total` is counted separately, independently of the page)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

import msgspec

T = TypeVar("T")


class Envelope(msgspec.Struct, Generic[T], kw_only=True, omit_defaults=False):
    success: bool = True
    data: T
    count: int | None = None
    message: str | None = None


class PageInfo(msgspec.Struct, kw_only=True):
    """Where a page sits in the whole: `total` rows match, this page starts at `offset`."""

    total: int
    limit: int
    offset: int
    has_more: bool
    current_page: int
    total_pages: int

    @classmethod
    def of(cls, *, total: int, limit: int, offset: int) -> PageInfo:
        return cls(total=total, limit=limit, offset=offset, has_more=offset + limit < total,
                   current_page=offset // limit + 1, total_pages=-(-total // limit))


def envelope(data: Any, message: str | None = None) -> Envelope[Any]:
    """A list gets its `count`; a single object does not."""
    count = len(data) if isinstance(data, Sequence) and not isinstance(data, str | bytes) else None
    return Envelope(data=data, count=count, message=message)
