"""What every ``salesops`` command shares: the Typer apps, messages, one-line errors, the
database of the command and its transactions."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import typer

from services.i18n import t

T = TypeVar("T")


# typer ≥ 0.2x ships its own copy of click: take the exception classes from wherever typer's are
_click_exceptions = sys.modules[typer.BadParameter.__module__]
ClickException = _click_exceptions.ClickException

app = typer.Typer(
    name="salesops",
    help="SalesOps (销售过程管理) command line.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
user_app = typer.Typer(help="Users: add, change password, disable.", no_args_is_help=True)
report_app = typer.Typer(help="Reports (same numbers as the dashboard).", no_args_is_help=True)
pool_app = typer.Typer(help="Public pool (公海).", no_args_is_help=True)
import_app = typer.Typer(help="Import customers, contacts, deals or activities from CSV/XLSX.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(report_app, name="report")
app.add_typer(pool_app, name="pool")
target_app = typer.Typer(help="Targets: set, split, suggest, work back.", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(target_app, name="target")


def cli_locale() -> str:
    value = (os.environ.get("SALESOPS_LANG") or os.environ.get("LANG") or "").lower()
    return "zh_CN" if value.startswith("zh") else "en"


def msg(key: str, **params: Any) -> str:
    return t(f"cli.{key}", cli_locale(), **params)


class CliError(Exception):
    """A one-line failure message for the user (exit code 1, or ``code``)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _one_line(exc: BaseException) -> str:
    from services.errors import (
        BusyError,
        ConflictError,
        DuplicateError,
        NotFound,
        PermissionDenied,
        ValidationError,
    )

    if isinstance(exc, ValidationError):
        text = exc.summary()
    elif isinstance(exc, PermissionDenied):
        text = str(exc) or msg("permission")
    elif isinstance(exc, NotFound):
        text = str(exc) or msg("not_found")
    elif isinstance(exc, BusyError):
        text = exc.message(cli_locale())
    elif isinstance(exc, ConflictError | DuplicateError):
        text = str(exc)
    else:
        text = str(exc) or type(exc).__name__
        if not isinstance(exc, CliError | OSError):
            text = f"{type(exc).__name__}: {text}"
    return " ".join(text.split())[:500]


@contextmanager
def failures() -> Iterator[None]:
    """Turn domain and database errors into ``error: …`` on stderr and a non-zero exit."""
    try:
        yield
    except (typer.Exit, typer.Abort, ClickException):
        raise
    except CliError as exc:
        typer.echo(f"{msg('error')}: {_one_line(exc)}", err=True)
        raise typer.Exit(exc.code) from None
    except Exception as exc:
        typer.echo(f"{msg('error')}: {_one_line(exc)}", err=True)
        raise typer.Exit(1) from None



# ---------------------------------------------------------------------------
# database


@app.callback()
def _root(
    ctx: typer.Context,
    database_url: str | None = typer.Option(
        None, "--database-url", envvar="DATABASE_URL", help="Database URL (default sqlite:///data/salesops.db).",
        show_envvar=True,
    ),
) -> None:
    ctx.obj = {"url": database_url}


def url_of(ctx: typer.Context) -> str:
    from services.db import database_url

    root = ctx.find_root()
    return database_url((root.obj or {}).get("url"))


def engine_of(ctx: typer.Context, *, migrate_schema: bool = False, must_exist: bool = True):
    """The engine for the command's database. SQLite files must exist unless we create the schema."""
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url

    from services.db import make_engine, migrate

    url = url_of(ctx)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and must_exist and not migrate_schema:
        db = parsed.database
        if db and db != ":memory:" and not Path(db).exists():
            raise CliError(msg("no_database", path=db))
    engine = make_engine(url)
    if migrate_schema:
        migrate(engine)
    elif not inspect(engine).has_table("user"):
        raise CliError(msg("no_schema"))
    return engine


def safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)



def write(engine, work: Callable[[Any], T]) -> T:
    """``work(session)`` as one write transaction (the transaction rule in services.db)."""
    from services.db import run_in_transaction

    return run_in_transaction(engine, work)


def read(engine, work: Callable[[Any], T]) -> T:
    """``work(session)`` in a read-only transaction."""
    from services.db import run_in_transaction

    return run_in_transaction(engine, work, write=False)


def transaction(engine):
    """A write transaction as a context manager, for commands that do several steps."""
    from services.db import session_scope

    return session_scope(engine)


def team_id(session, team: str | None) -> int | None:
    if team is None or team == "":
        return None
    from sqlalchemy import select

    from services.models import Team

    if team.isdigit():
        return int(team)
    ids = session.scalars(select(Team.id).where(Team.name == team)).all()
    if len(ids) != 1:
        raise CliError(msg("unknown_team", team=team) if not ids else msg("ambiguous_team", team=team))
    return ids[0]


def user_id(session, username: str | None, *, active_only: bool = True) -> int | None:
    """The id of the user named ``username`` (None when no name is given); an unknown one —
    or, with ``active_only``, an inactive one — ends the command with one line."""
    if not username:
        return None
    from sqlalchemy import select

    from services.models import User

    stmt = select(User.id).where(User.username == username)
    found = session.scalars(stmt.where(User.active.is_(True)) if active_only else stmt).first()
    if found is None:
        raise CliError(msg("unknown_user", username=username))
    return found


def print_table(rows: list[dict[str, Any]]) -> None:
    if not rows:
        typer.echo(msg("no_rows"))
        return
    cols = list(rows[0].keys())

    def cell(v: Any) -> str:
        if v is None:
            return "—"
        if isinstance(v, float):
            return f"{v:,.4f}".rstrip("0").rstrip(".") if abs(v) < 1 else f"{v:,.2f}"
        if isinstance(v, int):
            return f"{v:,}"
        return str(v)

    cells = [[cell(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    typer.echo("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    for row in cells:
        typer.echo("  ".join(v.rjust(w) if v[:1].isdigit() or v[:1] == "-" else v.ljust(w)
                             for v, w in zip(row, widths, strict=True)))


def parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CliError(msg("bad_date", option=option, value=value)) from None


def day_range(engine, date_from: str | None, date_to: str | None):
    """``--from`` / ``--to`` (inclusive days) as a ``Period`` ``[start, end)``; default: this
    month of the company's calendar up to its today."""
    from services.clock import company_today
    from services.periods import Period

    today = read(engine, company_today)  # the company's today, not the server's
    start = parse_day(date_from, "--from") or today.replace(day=1)
    last = parse_day(date_to, "--to") or today
    if last < start:
        raise CliError(msg("bad_range"))
    return Period(start, last + timedelta(days=1))
