"""``salesops import customers | contacts | deals | activities``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

import typer
from typer.core import TyperCommand

from services.cli.base import CliError, cli_locale, engine_of, failures, import_app, msg, read
from services.i18n import t

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


def _progress_line() -> Callable[[int, int], None] | None:
    """A progress line on stderr when it is a terminal (a script's log stays clean)."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        typer.echo(f"\r{msg('import_progress', done=f'{done:,}', total=f'{total:,}')}", err=True, nl=done >= total)

    return show


def _run_import(ctx: typer.Context, kind: str, file: Path, mapping: list[str] | None, on_duplicate: DuplicatePolicy,
                create_missing: bool, dry_run: bool, as_json: bool, as_user: str | None,
                encoding: str | None) -> None:
    with failures():
        from sqlalchemy import select

        from services.access import SYSTEM, Actor
        from services.importing import run_import
        from services.models import User

        if not file.exists():
            raise CliError(msg("no_file", path=str(file)))
        columns = _parse_map(mapping)
        engine = engine_of(ctx)

        def who(session) -> Actor:
            if not as_user:
                return SYSTEM
            user = session.scalars(select(User).where(User.username == as_user)).first()
            if user is None or not user.active:
                raise CliError(msg("unknown_user", username=as_user))
            return Actor.from_user(user)

        actor = read(engine, who)
        # batches, each committed on its own: the team keeps working while a big file goes in
        result = run_import(engine, actor, kind=kind, path=file, mapping=columns, on_duplicate=on_duplicate.value,
                            dry_run=dry_run, create_missing=create_missing, progress=_progress_line(),
                            encoding=encoding)
        summary = result.to_dict()
        if as_json:
            typer.echo(json.dumps(summary, ensure_ascii=False, default=str))
        else:
            typer.echo(msg("import_done" if not dry_run else "import_dry", kind=kind, created=summary["created"],
                           updated=summary["updated"], skipped=summary["skipped"], errors=summary["error_rows"]))
            for err in summary["errors"][:20]:
                typer.echo(f"  row {err.get('row')} · {err.get('column')} · {err.get('value')!r}: {err.get('reason')}")
            if len(summary["errors"]) > 20:
                typer.echo(msg("more_errors", count=len(summary["errors"]) - 20))
        if result.failure:
            first, last = result.failed_rows or (0, 0)
            raise CliError(t("importing.stopped", cli_locale(), first=first, last=last, reason=result.failure,
                             written=result.written))


def _import_command(kind: str):
    def command(
        ctx: typer.Context,
        file: Path = typer.Argument(..., help="CSV (UTF-8 or GBK) or XLSX file; written in batches of 500 rows."),
        mapping: list[str] | None = typer.Option(None, "--map", help='Column mapping "源列=field" (repeatable).'),
        on_duplicate: DuplicatePolicy = typer.Option(DuplicatePolicy.skip, "--on-duplicate",
                                                     help="skip | update | keep_both (manager)."),
        create_missing: bool = typer.Option(False, "--create-missing",
                                            help="Create unknown owners (inactive), customers, products, stages."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Validate and count only; write nothing."),
        as_json: bool = typer.Option(False, "--json", help="Print the summary and every error as JSON."),
        as_user: str | None = typer.Option(None, "--as", help="Import as this user (default: system admin)."),
        encoding: str | None = typer.Option(None, "--encoding",
                                            help="Text encoding of a CSV file (e.g. gbk, shift_jis) when the "
                                            "detection refuses it; default: detect UTF-8 / GBK."),
    ) -> None:
        _run_import(ctx, kind, file, mapping, on_duplicate, create_missing, dry_run, as_json, as_user, encoding)

    command.__doc__ = f"Import {kind} from a CSV or XLSX file. Re-running the same file creates no duplicates."
    import_app.command(kind, cls=_ImportCommand)(command)


for _kind in IMPORT_KINDS:
    _import_command(_kind)

