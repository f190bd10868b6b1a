"""`infopack keygen`, `infopack key show` and `infopack key convert`: a thin layer over
`infopack.release.keys`."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import click

from infopack.cli.jsonout import emit
from infopack.errors import UsageError
from infopack.release import keys

WEAK = click.option("--weak-passphrase", is_flag=True,
                    help="Accept a passphrase shorter than 12 characters.")


@click.command("keygen")
@click.option("--out", "prefix", required=True, metavar="PREFIX",
              help="Writes PREFIX.key (private, mode 0600) and PREFIX.pub (public).")
@click.option("--role", type=click.Choice(keys.ROLES), default="curator", show_default=True,
              help="Who will sign with this key.")
@click.option("--no-passphrase", is_flag=True,
              help="Store the private key without a passphrase (test rigs only).")
@WEAK
def keygen(prefix: str, role: str, no_passphrase: bool, weak_passphrase: bool) -> None:
    """Create a signing key pair (minisign's format) for a curator, reviewer or QA."""
    if no_passphrase:
        passphrase = None
        click.echo("warning: the private key is stored unencrypted; anyone who copies it "
                   f"can sign as {role}", err=True)
    else:
        passphrase = keys.passphrase_from_env_or_prompt(confirm=True, prompt=click.prompt)
    key_path, pub_path = keys.keygen(prefix, role, passphrase, allow_weak=weak_passphrase)
    public = keys.load_public_key(pub_path)
    click.echo(f"private key: {key_path} (keep it secret, never put it on a card)")
    click.echo(f"public key:  {pub_path}")
    _echo_public(public)


@click.group("key")
def key() -> None:
    """Inspect and convert keys."""


@key.command("show")
@click.argument("pub", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print as JSON (schema infopack/key/1).")
def show(pub: str, as_json: bool) -> None:
    """Show a public key's id, role and fingerprint, to compare over another channel."""
    public = keys.load_public_key(pub)
    if as_json:
        emit("key", {"key_id": public.key_id_hex, "role": keys.role_of(public), "fingerprint": public.fingerprint(),
                     "minisign_public_key": public.base64_line()})
        return
    _echo_public(public)


@key.command("convert")
@click.argument("key_path", metavar="KEY", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--role", type=click.Choice(keys.ROLES), default=None,
              help="Record this role in a key made by `minisign -G`; must match an older key's role.")
@click.option("--no-passphrase", is_flag=True, help="Write the converted key without a passphrase.")
@WEAK
def convert(key_path: Path, role: str | None, no_passphrase: bool, weak_passphrase: bool) -> None:
    """Rewrite an older infopack key (PEM) in minisign's format, or record a minisign key's role.

    The old passphrase is asked, then the new one twice (with INFOPACK_PASSPHRASE set, it
    is both: the passphrase stays the same). The old file is kept as KEY.pem-old.
    """
    key_file = keys.read_key_file(key_path)
    if key_file.minisign:
        if no_passphrase or weak_passphrase:
            raise UsageError(key_path, "already in minisign's format; change its passphrase with "
                             f"`minisign -C -s {key_path}`")
        if key_file.recorded_role and role in (None, key_file.recorded_role):
            click.echo(f"{key_path} is already a minisign {key_file.recorded_role} key; nothing to do")
            return
        keys.record_role(key_file, role, keys.passphrase_asker(click.prompt))
        click.echo(f"{key_path}: role {role} recorded in the key's comment")
        return
    new_passphrase = None
    if no_passphrase:
        click.echo("warning: the converted key is stored unencrypted; anyone who copies it can "
                   f"sign as {key_file.role_for(role)}", err=True)
    else:
        new_passphrase = partial(keys.passphrase_from_env_or_prompt, confirm=True,
                                 prompt=click.prompt, label="New passphrase")
    backup = keys.convert_pem_key_file(
        key_file, role=role, allow_weak=weak_passphrase, new_passphrase=new_passphrase,
        old_passphrase=keys.passphrase_asker(click.prompt, label="Passphrase of the old key"))
    click.echo(f"{key_path}: converted to minisign's format (same key id, same .pub; "
               f"`minisign -S -s {key_path}` signs with it)")
    click.echo(f"the old key is kept as {backup}: delete it once the new one works "
               "(it still signs with the old passphrase)")


def _echo_public(public) -> None:
    click.echo(f"key id:      {public.key_id_hex}")
    click.echo(f"role:        {keys.role_of(public) or 'unknown (not an infopack key)'}")
    click.echo(f"fingerprint: {public.fingerprint()}")
    click.echo(f"minisign -P: {public.base64_line()}")
