"""The raw-bytes pass: one chunked read of a file feeds the byte-pattern search and the hash.

Encoder strings, paths and addresses survive `-map_metadata -1` inside the streams
themselves, so every byte of every file is searched for the data file's patterns, and
for encoder names at every bit offset (`ShiftedTraces`).
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

from infopack.checks import ERROR, Finding
from infopack.kinds.mpeg_audio import BitHit, BitShiftedSearch
from infopack.scan.joined_search import RawSearcher
from infopack.scan.messages import shown
from infopack.scan.scan_strings import scan_data
from infopack.tools import READ_WORKERS

CHUNK_SIZE = 1 << 20          # read size: fits the L2 cache, so the few search passes re-read it cheaply
CHUNK_OVERLAP = 256        # longest match the data file may describe
SHIFTED_NEEDLES = (b"LAME3.", b"Lavc", b"Lavf")
SHIFTED_CHECK = "meta-encoder-bitshifted"
_LAV_VERSION = re.compile(rb"Lav[fc]\d{2}\.")


@lru_cache(maxsize=None)
def raw_searcher(kind: str) -> RawSearcher:
    """The searcher for the data file's patterns that apply to this kind of file."""
    return RawSearcher(tuple(s for s in scan_data().strings if kind in s.kinds))


def raw_findings(path: str, where: str, kind: str) -> list[Finding]:
    """Search the bytes for the data file's patterns, reading in chunks (constant memory).

    Each pattern is reported once, at its first match; chunks overlap by CHUNK_OVERLAP
    bytes so that a match across a chunk border is still seen.
    """
    return raw_pass(path, where, raw_searcher(kind), None)


def raw_pass(path: str, where: str, searcher: RawSearcher | None, digest) -> list[Finding]:
    """One read of the file: every chunk goes to `digest` (if any), to the pattern search and
    (with a searcher) to the search at every bit offset (`ShiftedTraces`).

    Reading stops early only when there is nothing left to hash or search for.
    """
    found: list[tuple[int, int, bytes]] = []          # (spec index, offset, matched)
    pending = set(range(len(searcher.specs))) if searcher else set()
    shifted = ShiftedTraces() if searcher else None
    overlap = CHUNK_OVERLAP
    buf = bytearray(overlap + CHUNK_SIZE)
    view = memoryview(buf)
    kept = 0                             # bytes carried over from the previous chunk
    consumed = 0                         # file offset of buf[0]
    with open(path, "rb", buffering=0) as f:
        while pending or digest is not None or (shifted is not None and not shifted.done):
            n = f.readinto(view[kept:kept + CHUNK_SIZE])
            if not n:
                break
            # hashlib releases the GIL: the chunk is hashed on another core while it is searched
            hashing = _hash_pool().submit(digest.update, view[kept:kept + n]) if digest is not None else None
            end = kept + n
            if pending:
                for index, start, matched in searcher.search(buf, end, pending):
                    found.append((index, consumed + start, matched))
            if shifted is not None and not shifted.done:
                shifted.feed(view[kept:end])
            if hashing is not None:
                hashing.result()
            kept = min(overlap, end)
            buf[:kept] = bytes(view[end - kept:end])
            consumed += end - kept
    view.release()
    findings = []
    for index, offset, matched in found:
        spec = searcher.specs[index]
        findings.append(Finding(spec.check, spec.level, where,
                                f"{spec.description}: {shown(matched, 60)} at byte {offset}"))
    return findings + (shifted.findings(where) if shifted is not None else [])


class ShiftedTraces:
    """Encoder names hidden at any of the 8 bit offsets, as LAME writes its own into the
    unused bits of MP3 frames (infopack.kinds.mpeg_audio): `LAME3.` anywhere, and `Lavc`/
    `Lavf` followed by a version (`Lavc59.`) when not byte-aligned (the data file's
    Lav[fc] pattern reports those); a bare 4-byte `Lavc` turns up by chance at some bit
    offset about once in 540 MB of compressed data. Each is reported once, at its first place."""

    def __init__(self):
        self._search = BitShiftedSearch(SHIFTED_NEEDLES, context=8)
        self._first: dict[bytes, BitHit] = {}

    @property
    def done(self) -> bool:
        return len(self._first) == 2

    def feed(self, chunk) -> None:
        self._keep(self._search.feed(chunk))

    def findings(self, where: str) -> list[Finding]:
        self._keep(self._search.finish())
        return [Finding(SHIFTED_CHECK, ERROR, where,
                        f"encoder name and version {'hidden between bytes' if hit.shift else 'in the bytes'}: "
                        f"{shown(hit.text, 40)} at byte {hit.offset}, bit {hit.shift}")
                for hit in sorted(self._first.values(), key=lambda h: (h.offset, h.shift))]

    def _keep(self, hits: list[BitHit]) -> None:
        for hit in hits:
            lame = hit.needle == b"LAME3."
            if not lame and (hit.shift == 0 or not _LAV_VERSION.match(hit.text)):
                continue
            self._first.setdefault(b"LAME" if lame else b"Lav", hit)


@lru_cache(maxsize=None)
def _hash_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=READ_WORKERS, thread_name_prefix="infopack-hash")
