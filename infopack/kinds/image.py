"""Still images: orientation applied to the pixels, then rebuilt from pixels alone.

Rebuilding drops EXIF, XMP, ICC profiles, comments and thumbnails, and the fresh
quantisation tables replace the camera's (a fingerprint of the source device).
"""

from __future__ import annotations

from PIL import Image, ImageOps

from infopack.errors import CheckFailed, UsageError
from infopack.kinds.base import EncodeJob, Handler, Produced

PIL_FORMATS = {"jpeg": "JPEG", "webp": "WEBP"}


class ImageHandler(Handler):
    kind = "image"

    def transcode(self, job: EncodeJob) -> list[Produced]:
        spec = job.profile.image
        out = job.work_dir / f"{job.item.id}{spec.extension}"
        try:
            with Image.open(job.info.path) as src:
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
