"""One kind of file, one small interface (as mat2's abstract parser): the `Kind`.

A kind says what its files are (name, extensions, content signature), what a source of
it is (`probe`), how large its card files will be (`estimate`, `output_roles`), how a
source becomes card files and what checks them (`transcode`, `validate`, `recipe` for the
cache key), and how a reviewer sees it (`player`, `thumbnails`, `subtitled`). Adding a
kind is adding a module with a subclass and registering it in `infopack.kinds`.

Kinds read manifest items and device profiles but import neither module: an item is
anything with an `id`, a `source` and its subtitles (`Source`), a profile is an
`infopack.kinds.specs.Profile`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Protocol

from infopack.errors import InfopackError
from infopack.kinds.probe import MediaInfo
from infopack.kinds.specs import Profile
from infopack.subtitles import SubtitleSource, SubtitleSpec, TrackInfo

# What the scanner reads a card file as (infopack.scan): its container and tags, its EXIF,
# its subtitle text, its document structure (PDF, EPUB, TXT), or only its bytes.
SCANNED_AS = ("media", "image", "subtitle", "other", "document")


class Source(Protocol):
    """What a kind reads of a manifest item (infopack.manifest.Item is one)."""
    id: str
    title: str
    source: Path
    subtitles: tuple[Path, ...]     # the subtitle file the manifest names, if it names one
    subtitle_spec: SubtitleSpec     # what the manifest's `subtitles` says (infopack.subtitles.choose)
    options: Mapping[str, object]   # the item's keys that kinds declare (`Kind.item_options`)


@dataclass(frozen=True)
class PreparedSubtitles:
    """Subtitles read, cleaned and scrubbed, ready for the card (all None: the item has none,
    and `report` says why)."""
    mux_srt: Path | None            # UTF-8 SRT for a soft track or burn-in (in the work folder)
    sidecar: bytes | None           # the sidecar file's bytes, in the profile's encoding
    burn_ass: Path | None           # ASS file for libass burn-in
    report: dict = field(default_factory=dict)
    fonts_dir: Path | None = None   # folder of the Korean font libass must use for burn-in
    burn_track: TrackInfo | None = None   # an image track of the source, overlaid as it is (burn profiles)
    source_key: dict | None = None  # where the text came from, for the cache key (never a path)


@dataclass(frozen=True)
class EncodeJob:
    item: Source
    info: MediaInfo
    profile: Profile
    work_dir: Path
    subtitles: PreparedSubtitles | None = None
    video_bitrate: int | None = None    # bits/s from size fitting (infopack.plan.fit); None: the profile's rates


@dataclass(frozen=True)
class Produced:
    """A file a kind wrote: `role` is "main" or "sidecar", or for a video split into parts
    "part-01", "part-02", ... each with its "sidecar-01", ...; `extension` includes the dot."""
    role: str
    path: Path
    extension: str


class Kind:
    """A kind of file. The defaults suit a file that reaches the card as it is (its own size and
    extension) and shows as a plain file; `probe` and `transcode` are each kind's own."""

    name = ""
    extensions: frozenset[str] = frozenset()   # lower case, with the dot; each belongs to one kind
    item = True                   # False: files of this kind only come with an item (subtitles)
    scanned_as = "other"          # one of SCANNED_AS
    card_folder = ""              # default folder on the card; data/layout.toml's [folders] overrides it
    card_folder_ascii = ""        # the same for profiles whose players show no Hangul ([folders_ascii])
    subtitled = False             # items take the manifest's subtitles (burned, muxed or beside them)
    player: str | None = None     # "video" or "audio": the HTML element a browser plays the main file with
    thumbnails: tuple[str, ...] = ()          # what `thumbnail` makes: "poster", "sheet", "pages"
    transcript_roles: tuple[str, ...] = ()    # card files read as the review's transcript
    # Manifest item keys this kind reads ({"keep_author": bool}), found in `Source.options`;
    # the manifest accepts them because a registered kind declares them.
    item_options: dict[str, type] = {}
    sampled = False               # plan: main file estimated by encoding windows of it (infopack.plan.samples)

    # -- what files are ---------------------------------------------------------------

    def sniff(self, head: bytes) -> bool:
        """Whether a file starting with `head` (its first bytes) is of this kind by content."""
        return False

    def claims(self, path: Path) -> bool:
        """Whether `init` makes an item of a file with one of this kind's extensions (a kind whose
        extension other files share looks at the content: an SRT saved as .txt is no book)."""
        return True

    def probe(self, path: Path) -> MediaInfo:
        raise InfopackError(path, f"a {self.name} file cannot be an item of its own")

    # -- planning -----------------------------------------------------------------------

    def supported_by(self, profile: Profile) -> bool:
        """Whether the profile's players can show items of this kind."""
        return True

    def output_roles(self, info: MediaInfo, profile: Profile, *,
                     subtitles: tuple[SubtitleSource, ...] = ()) -> dict[str, str]:
        """{role: extension} of the card files an item will have (split parts are not known before encoding);
        `subtitles`: the source its subtitles will come from, if any."""
        return {"main": info.path.suffix.lower()}

    def estimate(self, info: MediaInfo, profile: Profile, *, subtitles: tuple[SubtitleSource, ...] = (),
                 video_bits: int | None = None) -> dict[str, int]:
        """{role: bytes}, erring on the large side (`video_bits`: a fitted video rate)."""
        return {"main": info.path.stat().st_size}

    # -- the job ------------------------------------------------------------------------

    def prepare_subtitles(self, item: Source, info: MediaInfo, profile: Profile, work_dir: Path, *,
                          language_class: str | None = None, manifest: Path | None = None,
                          require: bool = False, reviewed=None) -> PreparedSubtitles | None:
        """Subtitles for a `subtitled` kind, prepared in `work_dir` (None for other kinds). Messages
        name `manifest`; `require`: a video left without Korean subtitles is refused; `reviewed`:
        glossary entries reviewers confirmed ((sk, nk) -> key ids), to rewrite."""
        return None

    def command(self, job: EncodeJob, out: Path) -> list[str] | None:
        """The ffmpeg command this kind runs (None for kinds that need none)."""
        return None

    def recipe(self, job: EncodeJob) -> list[str]:
        """Everything besides the input bytes that decides the output: the cache key's recipe.

        By default the ffmpeg command with a fixed output name; kinds whose output depends
        on more (two-pass settings, split parts, a library's version) extend it.
        """
        return with_placeholders(self.command(job, Path("out")) or [], self.placeholders(job))

    def placeholders(self, job: EncodeJob) -> dict[str, str]:
        """Path text a recipe may hold -> a stable token, so neither the work folder nor the
        source's location reaches the cache key."""
        subs = job.subtitles
        found = {str(job.work_dir): "<work>", str(job.info.path): "<source>"}
        if subs is not None:
            for path, token in ((subs.mux_srt, "<mux_srt>"), (subs.burn_ass, "<burn_ass>"),
                                (subs.fonts_dir, "<fonts>")):
                if path is not None:
                    found[str(path)] = token
        return found

    def transcode(self, job: EncodeJob) -> list[Produced]:
        raise NotImplementedError

    def validate(self, job: EncodeJob, produced: Produced) -> None:
        """Raise CheckFailed naming the item if the output breaks the profile."""

    def item_report(self, job: EncodeJob, produced: list[Produced]) -> dict | None:
        """What report.json says of the item besides its subtitles (what was removed, the
        lint), from the job and its finished files: asked after an encode and after a
        reuse from the cache alike. None: nothing to say."""
        return None

    # -- review -------------------------------------------------------------------------

    def thumbnails_for(self, path: Path) -> tuple[str, ...]:
        """The thumbnails `thumbnail` makes of this card file (a kind whose files differ says so)."""
        return self.thumbnails

    def thumbnail(self, path: Path, duration: float, what: str) -> bytes | None:
        """A PNG of a card file for the review (`what` in `thumbnails`), or None."""
        return None

    def reading_text(self, path: Path) -> list[str]:
        """The text a reviewer reads of a card file, in paragraphs ([]: none to read)."""
        return []


def with_placeholders(args: list[str], placeholders: dict[str, str]) -> list[str]:
    """A command with every placeholder's text replaced by its token (longest first), and the
    program named "ffmpeg" wherever it is installed."""
    recipe = []
    for i, arg in enumerate(args):
        if i == 0 and Path(arg).name.startswith("ffmpeg"):
            arg = "ffmpeg"
        for text in sorted(placeholders, key=len, reverse=True):
            arg = arg.replace(text, placeholders[text])
        recipe.append(arg)
    return recipe
