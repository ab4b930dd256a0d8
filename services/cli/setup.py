"""Setting up: ``salesops init``, ``salesops demo``, ``salesops backup``."""

from __future__ import annotations

import json
import sqlite3
import sys
from enum import StrEnum
from pathlib import Path

import typer

from services.cli.base import CliError, app, engine_of, failures, msg, safe_url, url_of, write


class LangName(StrEnum):
    zh = "zh"
    en = "en"


LOCALES = {LangName.zh: "zh_CN", LangName.en: "en"}


@app.command()
def init(
    ctx: typer.Context,
    lang: LangName | None = typer.Option(None, help="Language of the default stages, lost reasons and channels "
                                         "(and the company's default language); else the default language setting."),
) -> None:
    """Create the database or migrate it to the latest schema. On an empty database, also
    create the default stages, lost reasons and channels, as the first-run screen does."""
    with failures():
        engine = engine_of(ctx, migrate_schema=True)
        from services import settings as company_settings
        from services.db import is_empty
        from services.reference import ensure_defaults

        typer.echo(msg("init_done", url=safe_url(url_of(ctx))))
        if is_empty(engine):

            def defaults(session) -> tuple[str, dict[str, int]]:
                locale = LOCALES[lang] if lang else company_settings.get(session, "default_language")
                if lang:
                    company_settings.put(session, "default_language", locale)
                return locale, ensure_defaults(session, locale=locale)

            locale, added = write(engine, defaults)
            if any(added.values()):
                typer.echo(msg("init_defaults", language=locale, **added))
            typer.echo(msg("init_next"))
        engine.dispose()


class ScaleName(StrEnum):
    tiny = "tiny"
    small = "small"
    large = "large"


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

        engine = engine_of(ctx, migrate_schema=True)
        from services.db import is_empty

        if not is_empty(engine):
            raise CliError(msg("demo_not_empty"))
        locale = LOCALES[lang]
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

        url = make_url(url_of(ctx))
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

