"""A build output folder (OUT), and the only code that knows the names of its files.

    OUT/card-NN/                            the card's files (copied onto the card)
    OUT/card-NN.img                         its FAT image (build --image)
    OUT/card-NN.manifest.json               the signed, off-card card manifest
    OUT/card-NN.manifest.json.minisig       the curator's build signature
    OUT/card-NN.manifest.json.KEYID.minisig one approval per reviewer key
    OUT/card-NN.SHA256SUMS                  `sha256sum -c` list, run inside card-NN/
    OUT/report.json, OUT/report.html        the build report
    OUT/reviews/                            reviewers' decisions
    OUT/superseded/card-NN.<SHA256>/        approvals of a manifest a rebuild replaced, beside
                                            a copy of that manifest (they still verify there)
    OUT/reviews/glossary-KEYID.toml         a reviewer's glossary decisions, and its .minisig

The signatures of a manifest are named after the manifest file, wherever it lies and
whatever it is called (`verify --manifest` takes any path): `ManifestFiles` knows those
names; `OutDir` knows a whole folder, card by card.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from infopack.errors import UsageError

CARD_PREFIX = "card-"
MANIFEST_SUFFIX = ".manifest.json"
SIGNATURE_SUFFIX = ".minisig"
SUMS_SUFFIX = ".SHA256SUMS"
IMAGE_SUFFIX = ".img"
REPORT_JSON = "report.json"
REPORT_HTML = "report.html"
REVIEWS_DIR = "reviews"
SUPERSEDED_DIR = "superseded"
GLOSSARY_REVIEW_PREFIX = "glossary-"
GLOSSARY_REVIEW_SUFFIX = ".toml"


def card_of(manifest_path: Path) -> str:
    """The card a manifest file is named for (`card-01.manifest.json` -> `card-01`)."""
    return Path(manifest_path).name.removesuffix(MANIFEST_SUFFIX)


@dataclass(frozen=True)
class ManifestFiles:
    """A card manifest file and the signature files beside it, which are named after it."""

    manifest: Path

    @property
    def build_signature(self) -> Path:
        """The curator's build signature: `card-NN.manifest.json.minisig`."""
        return self.manifest.with_name(self.manifest.name + SIGNATURE_SUFFIX)

    def approval(self, key_id_hex: str) -> Path:
        """One file per signer, named by key id: `card-NN.manifest.json.<KEYID>.minisig`."""
        return self.manifest.with_name(f"{self.manifest.name}.{key_id_hex}{SIGNATURE_SUFFIX}")

    def approvals(self) -> list[Path]:
        """Every approval signature file present, sorted."""
        pattern = f"{self.manifest.name}.*{SIGNATURE_SUFFIX}"
        return [path for path in sorted(self.manifest.parent.glob(pattern)) if self.key_id_in_name(path)]

    def key_id_in_name(self, signature: Path) -> str | None:
        """The key id an approval file is named for (None for the build signature)."""
        middle = Path(signature).name[len(self.manifest.name) + 1:-len(SIGNATURE_SUFFIX)]
        return middle or None


@dataclass(frozen=True)
class OutDir:
    """A build output folder, or a staging folder laid out the same way."""

    root: Path

    def __post_init__(self):
        object.__setattr__(self, "root", Path(self.root))    # a str or any PathLike is fine

    def cards(self) -> list[str]:
        """The card ids that have a manifest here, in file name order."""
        return [card_of(path) for path in sorted(self.root.glob(f"{CARD_PREFIX}*{MANIFEST_SUFFIX}"))]

    def require_cards(self) -> list[str]:
        """`cards()`, or a usage error saying this is no build folder."""
        cards = self.cards()
        if not cards:
            raise UsageError(self.root, f"no card manifests here (expected {CARD_PREFIX}NN{MANIFEST_SUFFIX}); "
                                        "is this a build folder?")
        return cards

    def all_manifests(self) -> list[Path]:
        """Every manifest file here, whatever its card is called (an unsigned hint, for verify)."""
        return sorted(self.root.glob(f"*{MANIFEST_SUFFIX}"))

    def files(self, card: str) -> ManifestFiles:
        return ManifestFiles(self.manifest_path(card))

    def manifest_path(self, card: str) -> Path:
        return self.root / f"{card}{MANIFEST_SUFFIX}"

    def build_signature_path(self, card: str) -> Path:
        return self.files(card).build_signature

    def approval_path(self, card: str, key_id_hex: str) -> Path:
        return self.files(card).approval(key_id_hex)

    def approval_paths(self, card: str) -> list[Path]:
        return self.files(card).approvals()

    def key_id_in_name(self, card: str, signature: Path) -> str | None:
        return self.files(card).key_id_in_name(signature)

    def all_approvals(self) -> list[tuple[str, Path]]:
        """(card, approval file) for every approval here, even one whose manifest is gone."""
        found = []
        for path in sorted(self.root.glob(f"{CARD_PREFIX}*{MANIFEST_SUFFIX}.*{SIGNATURE_SUFFIX}")):
            card = path.name.split(MANIFEST_SUFFIX + ".")[0]
            if self.key_id_in_name(card, path):
                found.append((card, path))
        return found

    def sums_path(self, card: str) -> Path:
        return self.root / f"{card}{SUMS_SUFFIX}"

    def image_path(self, card: str) -> Path:
        return self.root / f"{card}{IMAGE_SUFFIX}"

    def card_dir(self, card: str) -> Path:
        return self.root / card

    def card_target(self, card: str) -> Path:
        """What to verify for a card: its folder, else its image, else the (missing) folder."""
        folder, image = self.card_dir(card), self.image_path(card)
        return image if not folder.exists() and image.is_file() else folder

    def build_files(self, card: str) -> list[Path]:
        """The seal files a build writes for a card (manifest, build signature, SHA256SUMS): not approvals."""
        return [self.manifest_path(card), self.build_signature_path(card), self.sums_path(card)]

    def superseded_dir(self, card: str, manifest_sha256: str | None) -> Path:
        """Where approvals of a replaced manifest are kept, named by the card and the manifest's
        SHA-256 (first 16 digits); `no-manifest` for approvals whose manifest was gone."""
        return self.root / SUPERSEDED_DIR / f"{card}.{manifest_sha256[:16] if manifest_sha256 else 'no-manifest'}"

    def seal_files(self) -> list[Path]:
        """Every manifest, signature and SHA256SUMS file of the cards here (what publishing replaces)."""
        return (sorted(self.root.glob(f"{CARD_PREFIX}*{MANIFEST_SUFFIX}*"))
                + sorted(self.root.glob(f"{CARD_PREFIX}*{SUMS_SUFFIX}")))

    def card_contents(self) -> list[Path]:
        """Every card folder and card image here."""
        return [path for path in sorted(self.root.glob(f"{CARD_PREFIX}*"))
                if path.is_dir() or path.suffix == IMAGE_SUFFIX]

    @staticmethod
    def is_seal_name(name: str) -> bool:
        """A manifest, signature or SHA256SUMS file name (published last, after the cards)."""
        return MANIFEST_SUFFIX in name or name.endswith(SUMS_SUFFIX)

    @property
    def report_path(self) -> Path:
        return self.root / REPORT_JSON

    @property
    def report_html_path(self) -> Path:
        return self.root / REPORT_HTML

    @property
    def reviews_dir(self) -> Path:
        return self.root / REVIEWS_DIR

    def glossary_review_path(self, key_id_hex: str) -> Path:
        """A reviewer's glossary decisions (`reviews/glossary-KEYID.toml`); its signature is beside it."""
        return self.reviews_dir / f"{GLOSSARY_REVIEW_PREFIX}{key_id_hex}{GLOSSARY_REVIEW_SUFFIX}"

    def glossary_reviews(self) -> list[Path]:
        """Every reviewer's glossary decisions file here."""
        return sorted(self.reviews_dir.glob(f"{GLOSSARY_REVIEW_PREFIX}*{GLOSSARY_REVIEW_SUFFIX}"))


def signature_of(path: Path) -> Path:
    """The minisign signature file beside a signed file (`NAME.minisig`)."""
    return path.with_name(path.name + SIGNATURE_SUFFIX)
