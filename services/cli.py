"""``salesops`` — the command line: database setup, demo data, users, imports, reports, backup.

Every command works on the database named by ``--database-url`` (or ``DATABASE_URL``, else
``sqlite:///data/salesops.db``) and acts as the system administrator (``services.access.SYSTEM``)
unless a command says otherwise. Errors print one line to stderr and exit non-zero, without
a traceback. Output language follows ``SALESOPS_LANG`` or ``LANG`` (zh… → Chinese, else English).

The other service modules are imported inside the commands, so a problem in one area never
breaks the whole CLI (and ``salesops --help`` stays fast).
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperCommand

from services.i18n import t

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
app.add_typer(import_app, name="import")


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
    from services.errors import ConflictError, DuplicateError, NotFound, PermissionDenied, ValidationError

    if isinstance(exc, ValidationError):
        text = exc.summary()
    elif isinstance(exc, PermissionDenied):
        text = str(exc) or msg("permission")
    elif isinstance(exc, NotFound):
        text = str(exc) or msg("not_found")
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


def _url(ctx: typer.Context) -> str:
    from services.db import database_url

    root = ctx.find_root()
    return database_url((root.obj or {}).get("url"))


def _engine(ctx: typer.Context, *, migrate_schema: bool = False, must_exist: bool = True):
    """The engine for the command's database. SQLite files must exist unless we create the schema."""
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url

    from services.db import make_engine, migrate

    url = _url(ctx)
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


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the database or migrate it to the latest schema."""
    with failures():
        engine = _engine(ctx, migrate_schema=True)
        from services.db import is_empty

        typer.echo(msg("init_done", url=_safe_url(_url(ctx))))
        if is_empty(engine):
            typer.echo(msg("init_next"))
        engine.dispose()


class ScaleName(StrEnum):
    tiny = "tiny"
    small = "small"
    large = "large"


class LangName(StrEnum):
    zh = "zh"
    en = "en"


@app.command()
def demo(
    ctx: typer.Context,
    scale: ScaleName = typer.Option(ScaleName.small, help="small: ~1k customers; large: 100k customers, 1M activities."),
    seed: int = typer.Option(42, help="Same seed (and day) → same data."),
    lang: LangName = typer.Option(LangName.zh, help="Language of the generated names."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Load the demo company into an empty database (creates the schema when missing)."""
    with failures():
        from services.demo import DEMO_PASSWORD, build_demo

        engine = _engine(ctx, migrate_schema=True)
        from services.db import is_empty

        if not is_empty(engine):
            raise CliError(msg("demo_not_empty"))
        locale = "zh_CN" if lang == LangName.zh else "en"
        if sys.stderr.isatty():
            with typer.progressbar(length=1000, label=msg("demo_label"), file=sys.stderr,
                                   show_eta=False, width=30) as bar:

                def progress(fraction: float, message: str) -> None:
                    bar.label = message[:40].ljust(40)
                    bar.update(max(0, int(fraction * 1000) - bar.pos))

                summary = build_demo(engine, scale=scale.value, seed=seed, lang=locale, progress=progress)
        else:  # no terminal (a script, a log file): no progress bar noise
            summary = build_demo(engine, scale=scale.value, seed=seed, lang=locale)
        engine.dispose()
        if as_json:
            typer.echo(json.dumps({"counts": summary.counts, "logins": [list(x) for x in summary.logins],
                                   "password": DEMO_PASSWORD, "seconds": round(summary.seconds, 2)},
                                  ensure_ascii=False))
            return
        total = sum(summary.counts.values())
        typer.echo(msg("demo_done", rows=f"{total:,}", seconds=f"{summary.seconds:.1f}"))
        for table, count in summary.counts.items():
            typer.echo(f"  {table:<20} {count:>10,}")
        logins = ", ".join(u for u, _r in summary.logins[:6]) + (", …" if len(summary.logins) > 6 else "")
        typer.echo(msg("demo_logins", logins=logins, password=DEMO_PASSWORD))


# ---------------------------------------------------------------------------
# users


def _session(engine):
    from services.db import session_scope

    return session_scope(engine)


def _team_id(session, team: str | None) -> int | None:
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


def _new_password(password: str | None) -> str:
    if password is not None:
        return password
    return typer.prompt(msg("password_prompt"), hide_input=True, confirmation_prompt=True)


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    username: str = typer.Argument(..., help="Sign-in name."),
    role: str = typer.Option("rep", help="admin | director | manager | rep"),
    team: str | None = typer.Option(None, help="Team name or id."),
    name: str | None = typer.Option(None, "--name", help="Display name (default: the username)."),
    email: str | None = typer.Option(None),
    locale: str | None = typer.Option(None, help="zh_CN | en (empty: the browser's language)."),
    password: str | None = typer.Option(None, help="Password (prompted when omitted; 8+ characters)."),
) -> None:
    """Create a user."""
    with failures():
        from services.access import SYSTEM
        from services.models import UserCreate
        from services.users import create_user

        engine = _engine(ctx)
        secret = _new_password(password)
        with _session(engine) as session:
            data = UserCreate(username=username, display_name=name or username, password=secret, role=role,
                              team_id=_team_id(session, team), email=email, locale=locale)
            user = create_user(session, SYSTEM, data=data)
        typer.echo(msg("user_added", username=user.username, role=user.role))


@user_app.command("passwd")
def user_passwd(
    ctx: typer.Context,
    username: str = typer.Argument(...),
    password: str | None = typer.Option(None, help="New password (prompted when omitted)."),
) -> None:
    """Set a user's password (also unlocks the account)."""
    with failures():
        from services.access import SYSTEM
        from services.users import set_password

        engine = _engine(ctx)
        secret = _new_password(password)
        with _session(engine) as session:
            set_password(session, SYSTEM, username=username, password=secret)
        typer.echo(msg("password_set", username=username))


@user_app.command("disable")
def user_disable(ctx: typer.Context, username: str = typer.Argument(...)) -> None:
    """Deactivate a user: they can no longer sign in; their records stay."""
    with failures():
        from services.access import SYSTEM
        from services.users import deactivate_user

        engine = _engine(ctx)
        with _session(engine) as session:
            deactivate_user(session, SYSTEM, username=username)
        typer.echo(msg("user_disabled", username=username))


# ---------------------------------------------------------------------------
# backup


@app.command()
def backup(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="Target file (a complete SQLite database)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Copy a SQLite database with SQLite's online backup (safe while the app runs).
    For PostgreSQL use pg_dump."""
    with failures():
        from sqlalchemy.engine import make_url

        url = make_url(_url(ctx))
        if url.get_backend_name() != "sqlite":
            raise CliError(msg("backup_pg"), code=2)
        source = url.database
        if not source or source == ":memory:" or not Path(source).exists():
            raise CliError(msg("no_database", path=source or ":memory:"))
        target = file.expanduser()
        if target.resolve() == Path(source).resolve():
            raise CliError(msg("backup_same"))
        if target.exists() and not force:
            raise CliError(msg("backup_exists", path=str(target)))
        if target.exists():
            target.unlink()
        target.parent.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(source, timeout=30)
        dst = sqlite3.connect(str(target))
        try:
            with dst:
                src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # the copy is one self-contained file
        finally:
            dst.close()
            src.close()
        typer.echo(msg("backup_done", path=str(target), size=f"{target.stat().st_size / 1_048_576:.1f}"))


# ---------------------------------------------------------------------------
# reports


class ByName(StrEnum):
    owner = "owner"
    team = "team"


def _print_table(rows: list[dict[str, Any]]) -> None:
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


def _parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CliError(msg("bad_date", option=option, value=value)) from None


@report_app.command("kpi")
def report_kpi(
    ctx: typer.Context,
    date_from: str | None = typer.Option(None, "--from", help="First day (YYYY-MM-DD); default: 1st of this month."),
    date_to: str | None = typer.Option(None, "--to", help="Last day, inclusive (YYYY-MM-DD); default: today."),
    by: ByName | None = typer.Option(None, "--by", help="One row per owner or per team."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (a list of rows)."),
) -> None:
    """Won revenue, won/lost counts, win rate, average won deal, average days to close and
    activities for deals closed (and activities done) in the period — the Overview's numbers."""
    with failures():
        from services.access import SYSTEM
        from services.analytics import kpi_report

        today = date.today()
        start = _parse_day(date_from, "--from") or today.replace(day=1)
        last = _parse_day(date_to, "--to") or today
        if last < start:
            raise CliError(msg("bad_range"))
        engine = _engine(ctx)
        with _session(engine) as session:
            rows = kpi_report(session, SYSTEM, start=start, end=last + timedelta(days=1),
                              by=by.value if by else None)
        if as_json:
            typer.echo(json.dumps(rows, ensure_ascii=False, default=str))
        else:
            typer.echo(msg("kpi_title", start=start.isoformat(), end=last.isoformat()))
            _print_table(rows)


# ---------------------------------------------------------------------------
# public pool


@pool_app.command("reclaim")
def pool_reclaim(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """Move owned customers without a follow-up for their tier's number of days into the
    public pool (the rules in the settings). Safe to run again: it is idempotent."""
    with failures():
        from services.access import SYSTEM
        from services.customers import reclaim_stale_customers

        engine = _engine(ctx)
        with _session(engine) as session:
            count = reclaim_stale_customers(session, SYSTEM)
        typer.echo(json.dumps({"reclaimed": count}) if as_json else msg("reclaimed", count=count))


# ---------------------------------------------------------------------------
# imports

IMPORT_KINDS = ("customers", "contacts", "deals", "activities")


def _fields_help(kind: str) -> str:
    try:
        from services.importing import FIELDS
    except Exception as exc:  # the help still shows, with the reason the list is missing
        return f"(field list unavailable: {type(exc).__name__})"
    fields = FIELDS.get(kind, {})
    # \b keeps click from re-wrapping the list
    lines = ["\b", "Fields (map a file column with --map \"column=field\"):"]
    lines += [f"  {name}: {desc}" for name, desc in fields.items()]
    return "\n".join(lines)


class _ImportCommand(TyperCommand):
    """An import command whose help lists the import fields, read when the help is shown."""

    @property
    def epilog(self) -> str:  # type: ignore[override]
        return _fields_help(self.name or "")

    @epilog.setter
    def epilog(self, _value: str | None) -> None:
        pass


class DuplicatePolicy(StrEnum):
    skip = "skip"
    update = "update"
    keep_both = "keep_both"


def _parse_map(items: list[str] | None) -> dict[str, str] | None:
    if not items:
        return None
    mapping: dict[str, str] = {}
    for item in items:
        column, sep, fld = item.rpartition("=")
        if not sep or not column.strip() or not fld.strip():
            raise CliError(msg("bad_map", value=item))
        mapping[column.strip()] = fld.strip()
    return mapping


def _run_import(ctx: typer.Context, kind: str, file: Path, mapping: list[str] | None, on_duplicate: DuplicatePolicy,
                create_missing: bool, dry_run: bool, as_json: bool, as_user: str | None) -> None:
    with failures():
        from sqlalchemy import select

        from services.access import SYSTEM, Actor
        from services.importing import import_file
        from services.models import User

        if not file.exists():
            raise CliError(msg("no_file", path=str(file)))
        columns = _parse_map(mapping)
        engine = _engine(ctx)
        with _session(engine) as session:
            actor = SYSTEM
            if as_user:
                user = session.scalars(select(User).where(User.username == as_user)).first()
                if user is None or not user.active:
                    raise CliError(msg("unknown_user", username=as_user))
                actor = Actor.from_user(user)
            result = import_file(session, actor, kind=kind, path=file, mapping=columns,
                                 on_duplicate=on_duplicate.value, dry_run=dry_run, create_missing=create_missing)
            if dry_run:
                session.rollback()
        summary = result.to_dict()
        if as_json:
            typer.echo(json.dumps(summary, ensure_ascii=False, default=str))
            return
        typer.echo(msg("import_done" if not dry_run else "import_dry", kind=kind, created=summary["created"],
                       updated=summary["updated"], skipped=summary["skipped"], errors=summary["error_rows"]))
        for err in summary["errors"][:20]:
            typer.echo(f"  row {err.get('row')} · {err.get('column')} · {err.get('value')!r}: {err.get('reason')}")
        if len(summary["errors"]) > 20:
            typer.echo(msg("more_errors", count=len(summary["errors"]) - 20))


def _import_command(kind: str):
    def command(
        ctx: typer.Context,
        file: Path = typer.Argument(..., help="CSV (UTF-8 or GBK) or XLSX file."),
        mapping: list[str] | None = typer.Option(None, "--map", help='Column mapping "源列=field" (repeatable).'),
        on_duplicate: DuplicatePolicy = typer.Option(DuplicatePolicy.skip, "--on-duplicate",
                                                     help="skip | update | keep_both (manager)."),
        create_missing: bool = typer.Option(False, "--create-missing",
                                            help="Create unknown owners (inactive), customers, products, stages."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Validate and count only; write nothing."),
        as_json: bool = typer.Option(False, "--json", help="Print the summary and every error as JSON."),
        as_user: str | None = typer.Option(None, "--as", help="Import as this user (default: system admin)."),
    ) -> None:
        _run_import(ctx, kind, file, mapping, on_duplicate, create_missing, dry_run, as_json, as_user)

    command.__doc__ = f"Import {kind} from a CSV or XLSX file. Re-running the same file creates no duplicates."
    import_app.command(kind, cls=_ImportCommand)(command)


for _kind in IMPORT_KINDS:
    _import_command(_kind)


# ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI; one-line errors, never a traceback."""
    try:
        code = app(args=argv, prog_name="salesops", standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo(msg("aborted"), err=True)
        sys.exit(130)
    except Exception as exc:  # anything the commands did not turn into a message
        typer.echo(f"{msg('error')}: {_one_line(exc)}", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
