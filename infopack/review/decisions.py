"""Reviewers' decisions per item, one JSON file per reviewer in OUT/reviews/.

The file is named by the reviewer's key id (`OUT/reviews/<KEYID>.json`), or
`anonymous.json` for a review started without a key (it can be looked at and
exported, but never signed). It is rewritten whole and atomically after every click,
so a closed laptop loses nothing and a crash never leaves half a file. No timestamps:
the same decisions give the same bytes.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from infopack.errors import UsageError
from infopack.release.outdir import OutDir

FORMAT = "infopack-review/1"
ANONYMOUS = "anonymous"
APPROVE, CHANGES, REJECT = "approve", "changes", "reject"
DECISIONS = (APPROVE, CHANGES, REJECT)
MAX_COMMENT_CHARS = 2000
_REVIEWER = re.compile(r"^(?:[0-9A-F]{1,16}|anonymous)$")
_lock = threading.Lock()


@dataclass(frozen=True)
class Decision:
    decision: str
    comment: str = ""

    def to_dict(self) -> dict:
        return {"decision": self.decision, "comment": self.comment}


def reviews_dir(out: Path) -> Path:
    return OutDir(out).reviews_dir


def review_path(out: Path, reviewer: str) -> Path:
    check_reviewer(reviewer, None)
    return reviews_dir(out) / f"{reviewer}.json"


def check_reviewer(reviewer, where) -> str:
    """Key ids only (they become file names): never a path, never free text."""
    if not isinstance(reviewer, str) or not _REVIEWER.match(reviewer):
        raise UsageError(where, f"reviewer {reviewer!r} is not a key id (hex, as `infopack key show` prints it) "
                                f"or {ANONYMOUS!r}")
    return reviewer


def clean_comment(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").strip()
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")[:MAX_COMMENT_CHARS]


def parse_decisions(data, where, known_items: set[str] | None = None) -> tuple[str, dict[str, Decision]]:
    """Validate a review document (from disk, the browser or an import); one clear error."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UsageError(where, f"not an infopack review file (expected \"format\": \"{FORMAT}\")")
    reviewer = check_reviewer(data.get("reviewer"), where)
    raw = data.get("decisions")
    if not isinstance(raw, dict):
        raise UsageError(where, "\"decisions\" must be an object of item id -> {decision, comment}")
    decisions = {}
    for item_id, entry in sorted(raw.items()):
        decisions[item_id] = parse_decision(item_id, entry, where, known_items)
    return reviewer, decisions


def parse_decision(item_id, entry, where, known_items: set[str] | None) -> Decision:
    if known_items is not None and item_id not in known_items:
        raise UsageError(where, f"item {item_id!r} is not in this build (items: {', '.join(sorted(known_items))})")
    if not isinstance(entry, dict) or entry.get("decision") not in DECISIONS:
        raise UsageError(where, f"item {item_id}: \"decision\" must be one of {', '.join(DECISIONS)}")
    comment = entry.get("comment", "")
    if not isinstance(comment, str):
        raise UsageError(where, f"item {item_id}: \"comment\" must be text")
    return Decision(entry["decision"], clean_comment(comment))


def document(reviewer: str, bundle: dict, decisions: dict[str, Decision]) -> dict:
    return {"format": FORMAT, "reviewer": reviewer,
            "bundle": {"id": bundle.get("id"), "version": bundle.get("version")},
            "decisions": {k: decisions[k].to_dict() for k in sorted(decisions)}}


def load_decisions(out: Path, reviewer: str) -> dict[str, Decision]:
    path = review_path(out, reviewer)
    if not path.is_file():
        return {}
    return parse_decisions(_read_json(path), path)[1]


def load_all(out: Path) -> dict[str, dict[str, Decision]]:
    """reviewer -> decisions, for every review file in OUT/reviews."""
    found = {}
    folder = reviews_dir(out)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        reviewer, decisions = parse_decisions(_read_json(path), path)
        if path.stem != reviewer:
            raise UsageError(path, f"the file is named for {path.stem} but holds reviewer {reviewer}'s decisions")
        found[reviewer] = decisions
    return found


def save_decisions(out: Path, reviewer: str, bundle: dict, decisions: dict[str, Decision]) -> Path:
    """Write the reviewer's whole file atomically (temp file in the same folder, fsync, rename)."""
    path = review_path(out, reviewer)
    data = json.dumps(document(reviewer, bundle, decisions), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{reviewer}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def record(out: Path, reviewer: str, bundle: dict, item_id: str, decision: Decision) -> dict[str, Decision]:
    """One click: read, change one item, write back (serialised across the server's threads)."""
    with _lock:
        decisions = load_decisions(out, reviewer)
        decisions[item_id] = decision
        save_decisions(out, reviewer, bundle, decisions)
        return decisions


def forget_approvals(out: Path, reviewer: str, bundle: dict, items: list[str]) -> dict[str, Decision]:
    """Drop the "approve" decisions of `items` (their signed approval was withdrawn)."""
    with _lock:
        decisions = load_decisions(out, reviewer)
        kept = {i: d for i, d in decisions.items() if not (i in items and d.decision == APPROVE)}
        if kept != decisions:
            save_decisions(out, reviewer, bundle, kept)
        return kept


def import_file(out: Path, source: Path, bundle: dict, known_items: set[str]) -> tuple[str, int]:
    """Merge an exported review file into OUT/reviews/<reviewer>.json; the import wins per item."""
    data = _read_json(source)
    reviewer, imported = parse_decisions(data, source, known_items)
    theirs = data.get("bundle") or {}
    if theirs.get("id") not in (None, bundle.get("id")):
        raise UsageError(source, f"decisions for bundle {theirs.get('id')!r}, but this build is {bundle.get('id')!r}")
    with _lock:
        merged = load_decisions(out, reviewer)
        merged.update(imported)
        save_decisions(out, reviewer, bundle, merged)
    return reviewer, len(imported)


def approved_items(decisions: dict[str, Decision]) -> list[str]:
    return sorted(i for i, d in decisions.items() if d.decision == APPROVE)


def _read_json(path: Path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(path, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(path, f"cannot read: {exc}") from None
    except ValueError as exc:
        raise UsageError(path, f"not valid JSON ({exc})") from None
