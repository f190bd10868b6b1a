"""Where the build's jobs run: one small interface over pluggable executors.

The build talks only to an `Executor` (as Dask itself puts its schedulers behind one API):
`map` runs a step on this machine's threads (probes, card assembly: they read and write
OUT), `encode` runs the items' encode jobs wherever the executor sends them, given
longest first, results in the order given; `close` lets go of threads and connections.

    local                  this machine's thread pool (the default)
    dask://HOST:PORT       the encode jobs go to a Dask distributed scheduler
                           (infopack.build.cluster; `pip install infopack[cluster]`)

Both give the same bytes: the same jobs, the same cache keys, encoders pinned to the
same threads by the profile.
"""

from __future__ import annotations

import os
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from infopack.build.cache import Cache
from infopack.build.cluster import DaskExecutor
from infopack.build.jobs import ItemResult, JobContext, encode_item
from infopack.errors import UsageError
from infopack.kinds.probe import MediaInfo
from infopack.manifest import Item

LOCAL = "local"
DASK_SCHEME = "dask://"
DASK_PORT = 8786                  # `dask scheduler`'s default port

EncodeArgs = tuple[Item, MediaInfo, "int | None"]      # an item, what it is, its fitted video bitrate


class Executor(Protocol):
    def map(self, fn: Callable, arg_lists: list[tuple]) -> list:
        """fn(*args) for each, on this machine; results in order; the first failure is raised."""

    def encode(self, ctx: JobContext, jobs: list[EncodeArgs]) -> list[ItemResult]:
        """Each item's encode job (infopack.build.jobs.encode_item); results in the order given."""

    def close(self) -> None:
        """Wait for (or cancel) what still runs and let go; safe to call twice."""


@dataclass(frozen=True)
class ExecutorChoice:
    """What `--executor` and `--tls-*` (or INFOPACK_EXECUTOR, INFOPACK_TLS_*) say."""
    address: str = LOCAL
    tls_ca_file: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @property
    def tls(self) -> bool:
        return any((self.tls_ca_file, self.tls_cert, self.tls_key))


def run_all(pool: ThreadPoolExecutor, fn, arg_lists: list[tuple]) -> list:
    """Run fn(*args) for each on the pool; results in order; the first failure is raised."""
    futures = [pool.submit(fn, *args) for args in arg_lists]
    done, pending = wait(futures, return_when=FIRST_EXCEPTION)
    for fut in futures:
        if fut in done and fut.exception() is not None:
            for other in pending:
                other.cancel()
            raise fut.exception()
    return [fut.result() for fut in futures]


class LocalExecutor:
    """`jobs` threads of this machine; each encode is one ffmpeg (pinned threads) at a time per thread."""

    def __init__(self, jobs: int):
        self.pool = ThreadPoolExecutor(max_workers=jobs)

    def map(self, fn: Callable, arg_lists: list[tuple]) -> list:
        return run_all(self.pool, fn, arg_lists)

    def encode(self, ctx: JobContext, jobs: list[EncodeArgs]) -> list[ItemResult]:
        return run_all(self.pool, encode_item, [(ctx, *job) for job in jobs])

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def open_executor(choice: str | ExecutorChoice | None, jobs: int, cache: Cache | None) -> Executor:
    """The executor `choice` names (None: $INFOPACK_EXECUTOR, else local), connected and ready.

    A cluster needs the encode cache: it is the shared folder through which workers hand
    their finished encodes back (docs/scale-out.md).
    """
    if choice is None:
        choice = os.environ.get("INFOPACK_EXECUTOR") or LOCAL
    if isinstance(choice, str):
        choice = ExecutorChoice(choice)
    if choice.address == LOCAL:
        if choice.tls:
            raise UsageError(None, "--tls-* options are for a Dask cluster; add --executor dask://HOST:PORT")
        return LocalExecutor(jobs)
    address = scheduler_address(choice)
    if cache is None:
        raise UsageError(None, f"--executor {choice.address}: a cluster hands encodes back through the shared "
                               f"encode cache; drop --no-cache")
    here = LocalExecutor(jobs)
    try:
        return DaskExecutor(address, here, cache,
                            tls=(choice.tls_ca_file, choice.tls_cert, choice.tls_key) if choice.tls else None)
    except BaseException:
        here.close()
        raise


def scheduler_address(choice: ExecutorChoice) -> str:
    """dask://HOST[:PORT] as Dask writes it: tcp://HOST:PORT, or tls://HOST:PORT with certificates."""
    spec = choice.address
    if choice.tls and not all((choice.tls_ca_file, choice.tls_cert, choice.tls_key)):
        raise UsageError(None, "TLS needs all three of --tls-ca-file, --tls-cert and --tls-key")
    if spec.startswith(DASK_SCHEME):
        hostport = spec[len(DASK_SCHEME):].rstrip("/")
        if not hostport or "/" in hostport:
            raise UsageError(None, f"--executor {spec!r}: expected dask://HOST:PORT")
        if ":" not in hostport.rsplit("]", 1)[-1]:
            hostport = f"{hostport}:{DASK_PORT}"
        return ("tls://" if choice.tls else "tcp://") + hostport
    if spec.startswith("tls://" if choice.tls else "tcp://"):
        return spec                                       # as Dask writes it
    raise UsageError(None, f"--executor {spec!r}: expected {LOCAL} or dask://HOST:PORT")
