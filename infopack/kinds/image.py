"""Still images: orientation applied to the pixels, then rebuilt from pixels alone.

Rebuilding drops EXIF, XMP, ICC profiles, comments and thumbnails, and the fresh
quantisation tables replace the camera's (a fingerprint of the source device).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import PIL
from PIL import Image, ImageOps, UnidentifiedImageError

from infopack.errors import CheckFailed, UsageError
from infopack.kinds.base import EncodeJob, Kind, Produced
from infopack.kinds.probe import MediaInfo
from infopack.kinds.specs import Profile
from infopack.kinds.thumbnails import image_thumb

PIL_FORMATS = {"jpeg": "JPEG", "webp": "WEBP"}
# The largest image infopack opens, deliberately: 100 megapixels is above any camera's photo
# and far above any player's screen. Pillow refuses twice its limit outright and warns
# above it; infopack refuses above it itself (open_image), so the warning says nothing more.
MAX_PIXELS = 100_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
IMAGE_BYTES_PER_PIXEL = 0.35        # a JPEG at quality ~82 of a photo, generous
SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF8", b"II*\x00", b"MM\x00*")   # JPEG, PNG, GIF, TIFF


class ImageKind(Kind):
    name = "image"
    extensions = frozenset(".jpg .jpeg .png .webp .gif .bmp .tif .tiff .mpo".split())
    scanned_as = "image"
    card_folder, card_folder_ascii = "사진", "PHOTO"
    thumbnails = ("poster",)
    sampled = True          # plan: transcoded whole for its exact size (a fraction of a second)

    def sniff(self, head: bytes) -> bool:
        return head.startswith(SIGNATURES) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")

    def probe(self, path: Path) -> MediaInfo:
        try:
            with open_image(path) as img:
                img.verify()
            with open_image(path) as img:
                width, height = img.size
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise UsageError(path, f"not a readable image ({exc})") from None
        return MediaInfo(path, self.name, 0.0, None, False, width=width, height=height)

    def output_roles(self, info: MediaInfo, profile: Profile, *, subtitles: tuple = ()) -> dict[str, str]:
        return {"main": profile.image.extension}

    def estimate(self, info: MediaInfo, profile: Profile, *, subtitles: tuple = (),
                 video_bits: int | None = None) -> dict[str, int]:
        """By the pixels the profile keeps (images have no duration to multiply a rate by)."""
        side = profile.image.max_long_side
        scale = min(1.0, side / max(info.width, info.height))
        return {"main": int(info.width * scale * info.height * scale * IMAGE_BYTES_PER_PIXEL) + 1}

    def recipe(self, job: EncodeJob) -> list[str]:
        """No command: Pillow encodes, so its version decides the bytes (the profile's [image] does the rest)."""
        return ["pillow", PIL.__version__]

    def transcode(self, job: EncodeJob) -> list[Produced]:
        spec = job.profile.image
        out = job.work_dir / f"{job.item.id}{spec.extension}"
        try:
            with open_image(job.info.path) as src:
                upright = ImageOps.exif_transpose(src)
                rgb = upright.convert("RGB")
        except OSError as exc:
            raise UsageError(job.info.path, f"cannot read image ({exc})") from None
        rgb.thumbnail((spec.max_long_side, spec.max_long_side), Image.Resampling.LANCZOS)
        clean = Image.frombytes("RGB", rgb.size, rgb.tobytes())   # pixels only: no info, no exif, no icc
        options = {"quality": spec.quality}
        if spec.format == "jpeg":
            options.update(optimize=True, progressive=False, subsampling="4:2:0")
        clean.save(out, PIL_FORMATS[spec.format], **options)
        return [Produced("main", out, spec.extension)]

    def validate(self, job: EncodeJob, produced: Produced) -> None:
        spec = job.profile.image
        with Image.open(produced.path) as img:
            img.load()
            if max(img.size) > spec.max_long_side:
                raise CheckFailed(produced.path, f"item {job.item.id}: image is {img.size}, "
                                                 f"longer than {spec.max_long_side} px")
            if img.getexif() or img.info.get("icc_profile") or img.info.get("comment") or img.info.get("exif"):
                raise CheckFailed(produced.path, f"item {job.item.id}: image still carries metadata")

    def thumbnail(self, path: Path, duration: float, what: str) -> bytes | None:
        return image_thumb(path) if what == "poster" else None


def open_image(path: Path) -> Image.Image:
    """Image.open, refusing more than MAX_PIXELS with one line naming the file: a decompression
    bomb (a small file that decodes to gigabytes) or a picture far beyond any screen's."""
    try:
        with warnings.catch_warnings():        # the check below says it, once, naming the file
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(path)
    except Image.DecompressionBombError:
        raise _too_large(path) from None
    if img.width * img.height > MAX_PIXELS:
        img.close()
        raise _too_large(path, f" ({img.width:,} x {img.height:,} pixels)")
    return img


def _too_large(path: Path, size: str = "") -> UsageError:
    return UsageError(path, f"the image is larger{size} than infopack opens ({MAX_PIXELS // 1_000_000} megapixels): "
                            f"a decompression bomb, or a picture to scale down first")
