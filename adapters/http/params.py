"""Query and path parameters every list and detail route shares: one definition of their bounds.

Bounds are what the database can hold (ids are BIGINT; offsets past a billion rows are nonsense), so
out-of-range input is a 422 naming the parameter, never a driver overflow answered as a 503."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.params import PathParameter, QueryParameter

BIGINT_MAX = 2**63 - 1
INT_MAX = 2**31 - 1
MAX_OFFSET = 1_000_000_000

RowId = Annotated[int, PathParameter(ge=1, le=BIGINT_MAX, description="A row id")]
Offset = Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET, description="Rows to skip")]
FilterId = Annotated[int | None, QueryParameter(ge=1, le=BIGINT_MAX, required=False)]

# msgspec body fields with the same bounds
RowIdField = Annotated[int, msgspec.Meta(ge=1, le=BIGINT_MAX)]
Count = Annotated[int, msgspec.Meta(ge=0, le=INT_MAX)]

Limit100 = Annotated[int, QueryParameter(ge=1, le=100, description="Rows per page, at most 100")]
Limit1000 = Annotated[int, QueryParameter(ge=1, le=1000, description="Rows per page, at most 1000")]
Limit10000 = Annotated[int, QueryParameter(ge=1, le=10_000, description="Rows per page, at most 10000")]
