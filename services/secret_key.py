"""The secret that signs session tokens: kept outside the database, the same on every app
server of a team.

Where it comes from, first match wins:

1. the value the caller configured with ``use(...)`` — the dashboard passes
   ``SALESOPS_SECRET_KEY`` from ``.streamlit/secrets.toml``;
2. the environment variable ``SALESOPS_SECRET_KEY``;
3. the key file: ``SALESOPS_SECRET_FILE``, else ``data/secret.key`` (beside the default
   SQLite database). When the file does not exist it is generated on first use: 48 random
   bytes, the file readable by the app's user only (0600) in a folder created 0700. Two
   processes starting at once agree on one file (the second one reads the first one's).

A team's app servers must read the same secret: give each server the same
``SALESOPS_SECRET_KEY`` (or secrets.toml entry), or point ``SALESOPS_SECRET_FILE`` at one
file on storage they share. A token signed with another secret does not sign in.

A read-only copy of the database therefore holds nothing that mints a token: the secret is
not in it, and session ids are stored hashed (``services.auth``).
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Mapping
from pathlib import Path

from services.private_files import private_folder, warn_if_shared

ENV_KEY = "SALESOPS_SECRET_KEY"
ENV_FILE = "SALESOPS_SECRET_FILE"
DEFAULT_FILE = Path("data") / "secret.key"
MIN_LENGTH = 32

_log = logging.getLogger("salesops.secret_key")
_lock = threading.Lock()
_configured: str | None = None
_resolved: dict[tuple, str] = {}


class SecretKeyError(RuntimeError):
    """The configured secret is unusable (too short); the message says what to do."""


def use(value: str | None) -> None:
    """Configure the secret from the caller's own settings (e.g. ``st.secrets``); ``None``
    or empty leaves the environment variable and the key file in charge."""
    global _configured
    with _lock:
        _configured = (value or "").strip() or None


def signing_secret(environ: Mapping[str, str] | None = None) -> str:
    """The secret (see the module docstring for the order); read once per process."""
    env = os.environ if environ is None else environ
    where = (_configured, env.get(ENV_KEY), env.get(ENV_FILE))
    with _lock:
        if where not in _resolved:
            _resolved[where] = _resolve(*where)
        return _resolved[where]


def _checked(value: str, origin: str) -> str:
    value = value.strip()
    if len(value) < MIN_LENGTH:
        raise SecretKeyError(f"{origin} must be at least {MIN_LENGTH} characters long "
                             f"(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))')")
    return value


def _resolve(configured: str | None, env_value: str | None, env_file: str | None) -> str:
    if configured:
        return _checked(configured, ENV_KEY)
    if env_value and env_value.strip():
        return _checked(env_value, ENV_KEY)
    return read_or_create(Path(env_file).expanduser() if env_file else DEFAULT_FILE)


def read_or_create(path: Path) -> str:
    """The secret in ``path``, generated there (0600) when the file does not exist yet."""
    path = path.resolve()
    if not path.exists():
        private_folder(path.parent)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, (secrets.token_urlsafe(48) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # atomic publish: fails when another process was first
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
        _log.info("generated the token-signing secret in %s", path)
    else:
        warn_if_shared(path)
    return _checked(path.read_text(encoding="utf-8"), str(path))
