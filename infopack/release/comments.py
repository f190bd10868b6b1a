"""The trusted comments infopack puts in its signatures: made and read in one place.

A build signature says who built which card (`infopack curator signature: bundle=B
version=V card=C`); an approval also names the items it covers and may carry a short
note (`infopack reviewer approval: ... items=a,b note=...`). minisign signs the comment
with the manifest, so the verifier can refuse a genuine signature copied onto another
manifest. No timestamp: signing the same bytes twice gives the same file.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_NOTE_CHARS = 200
BUILD_KIND = "signature"
APPROVAL_KIND = "approval"
_COMMENT = re.compile(rf"^infopack (?P<role>\w+) (?P<kind>{BUILD_KIND}|{APPROVAL_KIND}): (?P<fields>.*)$")


def trusted_comment(bundle_id: str, bundle_version: int, card_id: str, role: str) -> str:
    """A build signature's comment."""
    return f"infopack {role} {BUILD_KIND}: bundle={bundle_id} version={bundle_version} card={card_id}"


def approval_comment(role: str, bundle_id: str, bundle_version: int, card_id: str,
                     items: list[str], note: str = "") -> str:
    """An approval's comment: the items approved, and the reviewer's note as one clean line."""
    text = (f"infopack {role} {APPROVAL_KIND}: bundle={bundle_id} version={bundle_version} card={card_id} "
            f"items={','.join(items)}")
    note = sanitise_note(note)
    return text + (f" note={note}" if note else "")


def sanitise_note(note: str) -> str:
    """One line of plain text, at most MAX_NOTE_CHARS characters."""
    note = unicodedata.normalize("NFC", note)
    note = "".join(" " if unicodedata.category(ch)[0] in "CZ" and ch != " " else ch for ch in note)
    note = " ".join(note.split())
    return note[:MAX_NOTE_CHARS].rstrip()


@dataclass(frozen=True)
class Comment:
    role: str
    kind: str                  # BUILD_KIND or APPROVAL_KIND
    fields: dict[str, str]
    items: tuple[str, ...] | None
    note: str

    def mismatch(self, bundle_id: str, bundle_version: int, card_id: str) -> str | None:
        """Why this comment is not about that manifest (None when it agrees, or names nothing)."""
        want = {"bundle": str(bundle_id), "version": str(bundle_version), "card": str(card_id)}
        for name, value in want.items():
            got = self.fields.get(name)
            if got is not None and got != value:
                return (f"the signed comment names {name}={got} but the manifest is {name}={value}; "
                        "a signature meant for another manifest")
        return None


def parse_comment(text: str) -> Comment | None:
    """An infopack trusted comment, or None (e.g. `minisign -S`'s timestamp comment)."""
    match = _COMMENT.match(text)
    if not match:
        return None
    rest, _, note = match["fields"].partition(" note=")
    fields = dict(part.partition("=")[::2] for part in rest.split() if "=" in part)
    items = tuple(i for i in fields["items"].split(",") if i) if "items" in fields else None
    return Comment(match["role"], match["kind"], fields, items, note)
