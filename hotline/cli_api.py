"""`hotline api-client`: the other platform's systems and their API keys."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from hotline.domain.errors import HotlineError
from hotline.services.context import Actor, Context


@click.group("api-client")
def api_client_group() -> None:
    """Systems allowed to push calls through the transfer API (/api/v1)."""


def _ctx() -> Context:
    from hotline.domain.vocabulary import Role
    from hotline.extensions import db

    return Context(
        db=db.session,
        actor=Actor(role=Role.ADMIN, name="命令行"),
        now=current_app.extensions["hotline.clock"].now(),
    )


@api_client_group.command("create")
@click.argument("name")
@click.option("--hotline", "hotline", required=True, type=click.Choice(["110", "12345"]))
@with_appcontext
def create(name: str, hotline: str) -> None:
    """Register a system; its key is printed once and cannot be shown again."""
    from hotline.services.exchange import create_client

    ctx = _ctx()
    try:
        client, key = create_client(ctx, name=name, hotline=hotline)
    except HotlineError as exc:
        raise click.ClickException(exc.message) from exc
    ctx.db.commit()
    click.echo(f"已创建接口系统 {client.name}（{client.hotline.label}）")
    click.echo(f"API 密钥（只显示这一次，请妥善保存）：\n{key}")


@api_client_group.command("list")
@with_appcontext
def list_clients() -> None:
    """The registered systems."""
    from hotline.models import ApiClient

    ctx = _ctx()
    for client in ctx.db.scalars(sa.select(ApiClient).order_by(ApiClient.name)):
        state = "启用" if client.is_active else "已停用"
        click.echo(f"{client.name}\t{client.hotline.value}\t{state}")


@api_client_group.command("revoke")
@click.argument("name")
@with_appcontext
def revoke(name: str) -> None:
    """Stop a system's key from working, at once."""
    from hotline.services.exchange import revoke_client

    ctx = _ctx()
    try:
        revoke_client(ctx, name)
    except HotlineError as exc:
        raise click.ClickException(exc.message) from exc
    ctx.db.commit()
    click.echo(f"已停用接口系统 {name}")
