"""`infopack profiles [show ID]`: the device profiles. A thin layer over profiles.py."""

from __future__ import annotations

import dataclasses

import click

from infopack.cli.jsonout import emit
from infopack.profiles import load_profile, profile_ids, profile_text

JSON = click.option("--json", "as_json", is_flag=True, help="Print the profiles as JSON (schema infopack/profiles/1).")


@click.group("profiles", invoke_without_command=True)
@JSON
@click.pass_context
def profiles(ctx: click.Context, as_json: bool) -> None:
    """List device profiles (`show ID` prints one)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_profiles, as_json=as_json)


@profiles.command("list")
@JSON
def list_profiles(as_json: bool) -> None:
    """One line per profile: its id and the devices it is for."""
    ids = profile_ids()
    if as_json:
        emit("profiles", {"profiles": [dataclasses.asdict(load_profile(pid)) for pid in ids]})
        return
    width = max((len(pid) for pid in ids), default=0) + 2
    for pid in ids:
        click.echo(f"{pid:{width}}{load_profile(pid).description}")


@profiles.command("show")
@click.argument("profile_id")
@click.option("--json", "as_json", is_flag=True, help="Print the parsed settings as JSON (schema infopack/profile/1).")
def show(profile_id: str, as_json: bool) -> None:
    """Print profile PROFILE_ID: its TOML file with comments, or its parsed settings."""
    profile = load_profile(profile_id)          # a broken file fails here with one line
    if as_json:
        emit("profile", dataclasses.asdict(profile))
        return
    origin, text = profile_text(profile_id)
    click.echo(f"# {origin}")
    click.echo(text.rstrip("\n"))
