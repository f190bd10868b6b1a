"""The Dask executor: a build's encode jobs on the workers of a Dask distributed cluster.

Dask does the distributing (an existing, well-kept engine: placement, retries, a worker
that dies has its job run again elsewhere, up to `distributed.scheduler.allowed-failures`);
this module only decides what is sent and what comes back (infopack.build.remote) and
keeps the build's promises:

- before any job is sent, every worker is checked against this machine (ffmpeg and its
  encoders' builds, infopack's code, the inputs' sizes and hash prefixes, the shared
  cache readable and writable), and the build refuses naming each worker that differs;
  every job checks its worker again, so a worker that joins later is held to the same;
- jobs are submitted longest first, and the results are the same `ItemResult`s a local
  build makes: the produced files are moved from the job's work folder in the shared
  cache into this build's work folder, and the encode is in the shared cache, so a local
  rebuild afterwards encodes nothing;
- the workers' events (encode, progress, the commands they run) arrive as they happen,
  each with the worker's name; a lost scheduler stops the build with one clear line.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from infopack.build.cache import Cache
from infopack.build.jobs import ItemResult, JobContext
from infopack.build.remote import (
    RemoteBuild,
    attempt_glob,
    build_facts,
    check_file,
    check_worker,
    encode_on_worker,
    events_topic,
    fact_differences,
    input_marks,
    raise_error,
    reads_pictures,
)
from infopack.errors import CheckFailed, InfopackError, UsageError
from infopack.kinds.base import Produced
from infopack.tools import log_command

CONNECT_TIMEOUT = 20        # seconds to reach the scheduler
WORKER_WAIT = 30            # seconds to wait for a first worker to join
HINT = "docs/scale-out.md says how to start a scheduler and workers"


class DaskExecutor:
    """Encodes on the cluster behind `address`; probes and card assembly on `here` (this machine)."""

    def __init__(self, address: str, here, cache: Cache, tls: tuple[Path, Path, Path] | None = None):
        try:
            import distributed     # heavy optional dependency: `pip install infopack[cluster]`
        except ImportError:
            raise UsageError(None, "building on a Dask cluster needs the cluster extra: "
                                   "pip install 'infopack[cluster]'") from None
        self.distributed = distributed
        self.address = address
        self.here = here
        self.cache = cache
        security = None
        if tls is not None:
            for path in tls:
                if not Path(path).is_file():
                    raise UsageError(path, "no such TLS file (--tls-ca-file, --tls-cert, --tls-key)")
            ca, cert, key = (str(p) for p in tls)
            security = distributed.Security(tls_ca_file=ca, tls_client_cert=cert, tls_client_key=key,
                                            require_encryption=True)
        logging.getLogger("distributed").setLevel(logging.CRITICAL)     # our errors say it in one line
        try:
            self.client = distributed.Client(address, security=security, timeout=CONNECT_TIMEOUT,
                                             set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise UsageError(None, f"cannot reach the Dask scheduler at {address} ({exc}); {HINT}, "
                                   f"or build here with --executor local") from None

    def map(self, fn, arg_lists: list[tuple]) -> list:
        return self.here.map(fn, arg_lists)

    def encode(self, ctx: JobContext, jobs: list) -> list[ItemResult]:
        if not jobs:
            return []
        token = uuid.uuid4().hex[:12]
        build = RemoteBuild(token, replace(ctx.bundle, items=(), raw={}), ctx.profile, ctx.profile_recipe,
                            str(ctx.cache.root), ctx.ffmpeg_version, {}, dict(ctx.reviewed),
                            reads_pictures(ctx.profile, [info for _, info, _ in jobs]))
        marks = [input_marks(item) for item, _, _ in jobs]
        check = check_file(ctx.cache.root, token)
        check.write_text(token, "ascii")
        done: set[str] = set()
        topic = events_topic(token)
        self.client.subscribe_topic(topic, lambda event: self._live(ctx, event[1], done))
        futures = []
        try:
            build = self._check_workers(build, {path: mark for item in marks for path, mark in item.items()})
            futures = [self.client.submit(encode_on_worker, build, item, info, bitrate, mark,
                                          key=f"infopack-encode-{token}-{n}", priority=len(jobs) - n, pure=False)
                       for n, ((item, info, bitrate), mark) in enumerate(zip(jobs, marks))]
            index = {fut.key: n for n, fut in enumerate(futures)}
            results: list[ItemResult | None] = [None] * len(jobs)
            for fut in self.distributed.as_completed(futures, loop=self.client.loop):
                n = index[fut.key]
                item, info, _ = jobs[n]
                results[n] = self._receive(ctx, item, info, self._result(fut, item))
                done.add(item.id)
            for leftover in ctx.cache.root.joinpath("tmp").glob(attempt_glob(token)):
                shutil.rmtree(leftover, ignore_errors=True)      # dead or cancelled attempts: never read
            return results
        finally:
            if futures:
                self.client.cancel([f for f in futures if not f.done()])
            self.client.unsubscribe_topic(topic)
            check.unlink(missing_ok=True)

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            self.here.close()

    # -- the parts --------------------------------------------------------------------------

    def _check_workers(self, build: RemoteBuild, marks: dict[str, list]) -> RemoteBuild:
        """The build with this machine's facts, once every worker shares them; else refuse, naming
        every worker that would not make this machine's bytes and how it differs."""
        with ThreadPoolExecutor(max_workers=1) as side:
            mine = side.submit(build_facts, build)              # while the workers make theirs
            try:
                self.client.wait_for_workers(1, timeout=WORKER_WAIT)
                answers = self.client.run(check_worker, build, marks, on_error="return")
            except (OSError, TimeoutError) as exc:
                raise UsageError(None, f"no worker answered at the Dask scheduler {self.address} ({exc}); "
                                       f"{HINT}") from None
            facts = mine.result()
        refused = []
        for address, answer in sorted(answers.items()):
            if isinstance(answer, BaseException):
                refused.append(f"worker {address}: {type(answer).__name__}: {answer}")
                continue
            problems = (fact_differences(facts, answer["facts"]) if answer["facts"] else []) + answer["problems"]
            if problems:
                refused.append(f"worker {answer['worker']}: " + "; ".join(problems))
        if refused:
            raise UsageError(None, "the cluster's workers would not make the bytes this machine makes, so the "
                                   "build stops before encoding: " + " | ".join(refused)
                                   + f". Give every worker the same set-up or stop it ({HINT}).")
        return replace(build, facts=facts)

    def _live(self, ctx: JobContext, message: dict, done: set[str]) -> None:
        """A worker's event as it happens: commands to the command log, the rest to the build's progress."""
        event = dict(message)
        event["worker"] = event.pop("by", event.get("worker"))
        if event.get("item") in done:
            return                              # a late event of a job already finished
        if event["event"] == "command":
            log_command(event["args"], worker=event["worker"])
        else:
            ctx.progress(event)

    def _result(self, fut, item) -> dict:
        """The job's plain-data result; a lost scheduler or workers dying on it said in one line."""
        try:
            return fut.result()
        except self.distributed.client.FutureCancelledError as exc:
            raise InfopackError(None, f"lost the Dask scheduler at {self.address} ({exc.reason}); the build "
                                      f"stopped. Encodes finished so far are in the cache {self.cache.root}: "
                                      f"rerun the build (on the cluster or with --executor local) to reuse "
                                      f"them") from None
        except self.distributed.KilledWorker as exc:
            raise CheckFailed(item.source, f"item {item.id}: the workers that ran its encode died "
                                           f"{exc.allowed_failures + 1} times (the last: {exc.last_worker.address}); "
                                           f"see the workers' logs (out of memory?)") from None
        except OSError as exc:
            raise InfopackError(None, f"lost the Dask scheduler at {self.address} ({exc}); rerun the build "
                                      f"to reuse the encodes finished so far") from None

    def _receive(self, ctx: JobContext, item, info, result: dict) -> ItemResult:
        """A finished job: its files moved into this build's work folder, its events replayed."""
        if "refused" in result:
            raise UsageError(None, f"worker {result['worker']} would not make the bytes this machine makes: "
                                   + "; ".join(result["refused"]) + f" ({HINT})")
        if "error" in result:
            shutil.rmtree(result["attempt"], ignore_errors=True)
            raise_error(result)
        produced = []
        for role, path, extension in result["produced"]:
            local = ctx.work / f"{item.id}.remote.{role}{extension}"
            shutil.move(path, local)            # a rename on one file system, else a copy
            produced.append(Produced(role, local, extension))
        shutil.rmtree(result["attempt"], ignore_errors=True)
        ctx.count(result["outcome"])
        for event in result["events"]:
            ctx.progress({**event, "worker": result["worker"]})
        return ItemResult(item, info, produced, result["subtitles"], report=result.get("report"),
                          warnings=result.get("warnings") or [])
