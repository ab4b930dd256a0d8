"""``salesops user add | passwd | disable``."""

from __future__ import annotations

import typer

from services.cli.base import engine_of, failures, msg, team_id, transaction, user_app


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

        engine = engine_of(ctx)
        secret = _new_password(password)
        with transaction(engine) as session:
            data = UserCreate(username=username, display_name=name or username, password=secret, role=role,
                              team_id=team_id(session, team), email=email, locale=locale)
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

        engine = engine_of(ctx)
        secret = _new_password(password)
        with transaction(engine) as session:
            set_password(session, SYSTEM, username=username, password=secret)
        typer.echo(msg("password_set", username=username))


@user_app.command("disable")
def user_disable(ctx: typer.Context, username: str = typer.Argument(...)) -> None:
    """Deactivate a user: they can no longer sign in; their records stay."""
    with failures():
        from services.access import SYSTEM
        from services.users import deactivate_user

        engine = engine_of(ctx)
        with transaction(engine) as session:
            deactivate_user(session, SYSTEM, username=username)
        typer.echo(msg("user_disabled", username=username))

