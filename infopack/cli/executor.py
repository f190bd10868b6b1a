"""`--executor` and `--tls-*`: where `infopack build` runs its encodes (docs/scale-out.md)."""

from __future__ import annotations

from pathlib import Path

import click

from infopack.build.executors import LOCAL, ExecutorChoice

TLS_FILE = click.Path(dir_okay=False, path_type=Path)
OPTIONS = [
    click.option("--executor", default=LOCAL, show_default=True, envvar="INFOPACK_EXECUTOR", metavar="WHERE",
                 help="Where encodes run: 'local' (this machine's threads) or dask://HOST:PORT (the workers of "
                      "a Dask scheduler; inputs and cache on a shared folder, see docs/scale-out.md). "
                      "Env: INFOPACK_EXECUTOR."),
    click.option("--tls-ca-file", type=TLS_FILE, envvar="INFOPACK_TLS_CA_FILE", default=None,
                 help="With dask://: the cluster's CA certificate (PEM); the connection is then TLS only."),
    click.option("--tls-cert", type=TLS_FILE, envvar="INFOPACK_TLS_CERT", default=None,
                 help="With dask://: this machine's client certificate (PEM), signed by that CA."),
    click.option("--tls-key", type=TLS_FILE, envvar="INFOPACK_TLS_KEY", default=None,
                 help="With dask://: the private key of --tls-cert (PEM)."),
]


def executor_options(command):
    """Add the executor options to a command; they reach it as `executor`, `tls_ca_file`, ..."""
    for option in reversed(OPTIONS):
        command = option(command)
    return command


def executor_choice(executor: str, tls_ca_file: Path | None, tls_cert: Path | None,
                    tls_key: Path | None) -> ExecutorChoice:
    return ExecutorChoice(executor, tls_ca_file, tls_cert, tls_key)
