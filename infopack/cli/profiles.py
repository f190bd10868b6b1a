"""`infopack profiles [show ID]`: the device profiles. A thin layer over profiles.py."""

from __future__ import annotations

import dataclasses
import json

import click

from infopack.profiles import load_profile, profile_ids, profile_text


@click.group("profiles", invoke_without_command=True)
@click.pass_context
def profiles(ctx: click.Context) -> None:
    """List device profiles (`show ID` prints one)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_profiles)


@profiles.command("list")
def list_profiles() -> None:
    """One line per profile: its id and the devices it is for."""
    ids = profile_ids()
    width = max((len(pid) for pid in ids), default=0) + 2
    for pid in ids:
        click.echo(f"{pid:{width}}{load_profile(pid).description}")


@profiles.command("show")
@click.argument("profile_id")
@click.option("--json", "as_json", is_flag=True, help="Print the parsed settings as JSON.")
def show(profile_id: str, as_json: bool) -> None:
    """Print profile PROFILE_ID: its TOML file with comments, or its parsed settings."""
    profile = load_profile(profile_id)          # a broken file fails here with one line
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(profile), ensure_ascii=False, indent=2))
        return
    origin, text = profile_text(profile_id)
    click.echo(f"# {origin}")
    click.echo(text.rstrip("\n"))
