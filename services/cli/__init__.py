"""``salesops`` — the command line: database setup, demo data, users, imports, targets, reports, backup.

Every command works on the database named by ``--database-url`` (or ``DATABASE_URL``, else
``sqlite:///data/salesops.db``) and acts as the system administrator (``services.access.SYSTEM``)
unless a command says otherwise. Errors print one line to stderr and exit non-zero, without
a traceback. Output language follows ``SALESOPS_LANG`` or ``LANG`` (zh… → Chinese, else English).

The other service modules are imported inside the commands, so a problem in one area never
breaks the whole CLI (and ``salesops --help`` stays fast).

One module per area registers its commands on the apps in ``services.cli.base``; a new area
adds a module and imports it here.
"""

from __future__ import annotations

import sys

import typer

from services.cli import analytics, goals, imports, reports, setup, team, users  # noqa: F401  (registers the commands)
from services.cli.base import ClickException, _one_line, app, msg

__all__ = ["app", "main"]

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
