"""The HMAC secret for key digests: given in production, generated once for the embedded default."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from gatewayz.settings import Settings


def key_secret(settings: Settings) -> bytes:
    if settings.key_secret:
        return settings.key_secret.encode()
    path = Path(settings.key_secret_file)
    if path.exists():
        return path.read_text().strip().encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    # Create exclusively with owner-only permissions; a concurrent first start reads the winner's value.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip().encode()
    with os.fdopen(fd, "w") as f:
        f.write(value)
    return value.encode()
