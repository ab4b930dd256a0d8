"""The token-signing secret lives outside the database, and the files that hold the
company's data or that secret are readable by the app's user only."""

from __future__ import annotations

import os
import stat
import threading

import pytest
from sqlalchemy import text

from services import secret_key
from services.db import make_engine, migrate


@pytest.fixture
def loose_umask():
    old = os.umask(0o022)  # the usual default: new files world-readable unless we say otherwise
    yield
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_configured_value_then_environment_then_file(tmp_path, monkeypatch):
    key_file = tmp_path / "k" / "secret.key"
    env = {secret_key.ENV_FILE: str(key_file)}
    from_file = secret_key.signing_secret(env)
    assert key_file.read_text().strip() == from_file and len(from_file) >= 48
    assert secret_key.signing_secret(env) == from_file  # the same on the next start
    env[secret_key.ENV_KEY] = "e" * 40
    assert secret_key.signing_secret(env) == "e" * 40
    monkeypatch.setattr(secret_key, "_configured", None)
    secret_key.use("s" * 40)
    try:
        assert secret_key.signing_secret(env) == "s" * 40
    finally:
        secret_key.use(None)


def test_a_short_secret_is_refused_with_what_to_do():
    with pytest.raises(secret_key.SecretKeyError, match="at least 32"):
        secret_key.signing_secret({secret_key.ENV_KEY: "short"})


def test_generated_secret_file_is_owner_only(tmp_path, loose_umask):
    path = tmp_path / "new-folder" / "secret.key"
    secret_key.read_or_create(path)
    assert mode(path) == 0o600 and mode(path.parent) == 0o700


def test_servers_starting_at_once_agree_on_one_secret(tmp_path):
    path = tmp_path / "shared" / "secret.key"
    start = threading.Barrier(8)
    got: list[str] = []

    def server() -> None:
        start.wait()
        got.append(secret_key.read_or_create(path))

    threads = [threading.Thread(target=server) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(got) == 8 and len(set(got)) == 1
    assert [p.name for p in path.parent.iterdir()] == ["secret.key"]  # no temporary files left


def test_sqlite_database_and_its_folder_are_created_owner_only(tmp_path, loose_umask):
    path = tmp_path / "data" / "salesops.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO setting (key, value, updated_at) VALUES ('x', '1', '2026-01-01')"))
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    wal = path.with_name(path.name + "-wal")
    assert wal.exists() and mode(wal) == 0o600
    engine.dispose()


def test_upgrading_removes_the_stored_secret_and_the_plain_session_ids(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine, "0004")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO setting (key, value, updated_at) VALUES ('auth_secret', '\"plain\"', '2026-01-01')"))
        conn.execute(text("INSERT INTO \"user\" (username, display_name, role, password_hash, capacity, active, "
                          "failed_logins, created_at) VALUES ('a', 'A', 'admin', '!', 0, 1, 0, '2026-01-01')"))
        conn.execute(text("INSERT INTO user_session (id, user_id, created_at, expires_at) "
                          "VALUES ('plain-session-id', 1, '2026-01-01', '2099-01-01')"))
    migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM setting WHERE key = 'auth_secret'")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM user_session")).scalar() == 0
    engine.dispose()
