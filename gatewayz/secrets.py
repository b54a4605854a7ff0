"""The HMAC secret for key digests: given in production, generated once for the embedded default."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from gatewayz.settings import Settings, SettingsError


def key_secret(settings: Settings) -> bytes:
    if settings.key_secret:
        return settings.key_secret.encode()
    path = Path(settings.key_secret_file)
    if not path.exists():
        _create(path)
    value = path.read_text().strip()
    if not value:
        raise SettingsError(f"{path} is empty: delete it to generate a new key secret, or set GATEWAYZ_KEY_SECRET")
    return value.encode()


def _create(path: Path) -> None:
    """Write a private temporary file, then link it into place: the secret appears whole or not at all,
    and of concurrent first starts (workers of one `serve`) exactly one wins; the others read its value."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
