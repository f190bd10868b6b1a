"""`infopack keygen` and `infopack key show`: a thin layer over `infopack.release.keys`."""

from __future__ import annotations

import click

from infopack.release import keys


@click.command("keygen")
@click.option("--out", "prefix", required=True, metavar="PREFIX",
              help="Writes PREFIX.key (private, mode 0600) and PREFIX.pub (public).")
@click.option("--role", type=click.Choice(keys.ROLES), default="curator", show_default=True,
              help="Who will sign with this key.")
@click.option("--no-passphrase", is_flag=True,
              help="Store the private key unencrypted (test rigs only).")
def keygen(prefix: str, role: str, no_passphrase: bool) -> None:
    """Create a signing key pair for a curator, reviewer or QA."""
    if no_passphrase:
        passphrase = None
        click.echo("warning: the private key is stored unencrypted; anyone who copies it "
                   f"can sign as {role}", err=True)
    else:
        passphrase = keys.passphrase_from_env_or_prompt(confirm=True, prompt=click.prompt)
    key_path, pub_path = keys.keygen(prefix, role, passphrase)
    public = keys.load_public_key(pub_path)
    click.echo(f"private key: {key_path} (keep it secret, never put it on a card)")
    click.echo(f"public key:  {pub_path}")
    _echo_public(public)


@click.group("key")
def key() -> None:
    """Inspect keys."""


@key.command("show")
@click.argument("pub", type=click.Path(dir_okay=False))
def show(pub: str) -> None:
    """Show a public key's id, role and fingerprint, to compare over another channel."""
    _echo_public(keys.load_public_key(pub))


def _echo_public(public) -> None:
    click.echo(f"key id:      {public.key_id_hex}")
    click.echo(f"role:        {keys.role_of(public) or 'unknown (not an infopack key)'}")
    click.echo(f"fingerprint: {public.fingerprint()}")
    click.echo(f"minisign -P: {public.base64_line()}")
