"""Audio-only items (music, audiobooks): AAC in M4A or MP3, loudness normalised, no cover art."""

from __future__ import annotations

from pathlib import Path

from infopack.errors import CheckFailed
from infopack.kinds.base import EncodeJob, Kind, Produced
from infopack.kinds.codecs import bitrate_bits
from infopack.kinds.ffmpeg import (
    AUDIO_FILE_EXTRA,
    CONTAINER_OVERHEAD,
    LOUDNORM,
    STRIP_FLAGS,
    audio_problems,
    check_duration,
    check_file_size,
    decode_check,
    ffmpeg_head,
    output_streams,
    run_ffmpeg,
)
from infopack.kinds.mpeg_audio import MP3_CLEANED, clean_mp3_file
from infopack.kinds.probe import MediaInfo, container_signature, probe_av, sound_signature
from infopack.kinds.specs import Profile
from infopack.tools import safe_arg


class AudioKind(Kind):
    name = "audio"
    extensions = frozenset(".mp3 .m4a .m4b .aac .ogg .oga .opus .flac .wav .wma .amr .mka .ac3".split())
    scanned_as = "media"
    card_folder, card_folder_ascii = "소리", "AUDIO"
    player = "audio"

    def sniff(self, head: bytes) -> bool:
        """Sound formats, and the containers that hold sound as often as pictures (the extension decides)."""
        return sound_signature(head) or container_signature(head)

    def probe(self, path: Path) -> MediaInfo:
        """ffprobe decides: a file with a picture stream (cover art aside) is a video item."""
        return probe_av(path)

    def output_roles(self, info: MediaInfo, profile: Profile, *, subtitles: tuple = ()) -> dict[str, str]:
        return {"main": profile.audio_only.extension or ".m4a"}

    def estimate(self, info: MediaInfo, profile: Profile, *, subtitles: tuple = (),
                 video_bits: int | None = None) -> dict[str, int]:
        """The audio-only bitrate; 2% and a few KiB for the container."""
        bits = bitrate_bits(profile.audio_only.bitrate)
        return {"main": int(info.duration * bits / 8 * (1 + CONTAINER_OVERHEAD)) + AUDIO_FILE_EXTRA}

    def command(self, job: EncodeJob, out: Path) -> list[str]:
        spec = job.profile.audio_only
        args = ffmpeg_head() + ["-i", safe_arg(job.info.path), "-map", "0:a:0", "-vn", "-sn", "-dn"]
        args += STRIP_FLAGS
        if spec.loudnorm:
            args += ["-af", LOUDNORM]
        args += ["-c:a", spec.codec, "-b:a", spec.bitrate, "-ac", str(spec.channels), "-ar", str(spec.sample_rate)]
        if spec.container == "mp3":
            # No Xing/Info header (it names the encoder) and no ID3 tags; CBR keeps durations exact.
            args += ["-write_xing", "0", "-id3v2_version", "0", "-write_id3v1", "0"]
        if spec.container == "mp4":
            args += ["-movflags", "+faststart"]
        args += ["-f", spec.container or "mp4", safe_arg(out)]
        return args

    def transcode(self, job: EncodeJob) -> list[Produced]:
        ext = job.profile.audio_only.extension or ".m4a"
        out = job.work_dir / f"{job.item.id}{ext}"
        run_ffmpeg(self.command(job, out), item_id=job.item.id, source=job.info.path, duration=job.info.duration)
        if ext == ".mp3":
            clean_mp3_file(out)            # LAME's version string, in the frames' unused bits
        return [Produced("main", out, ext)]

    def recipe(self, job: EncodeJob) -> list[str]:
        """The command, and for MP3 the cleaning (entries made before it are not reused)."""
        recipe = super().recipe(job)
        if (job.profile.audio_only.extension or ".m4a") == ".mp3":
            recipe.append(MP3_CLEANED)
        return recipe

    def validate(self, job: EncodeJob, produced: Produced) -> None:
        spec = job.profile.audio_only
        check_file_size(produced.path, job.profile.max_file_bytes, job.item.id, job.profile.id)
        data = output_streams(produced.path)
        streams = data.get("streams", [])
        if len(streams) != 1 or streams[0].get("codec_type") != "audio":
            raise CheckFailed(produced.path, f"item {job.item.id}: expected one audio stream and nothing else, "
                                             f"found {len(streams)} streams")
        problems = audio_problems(streams[0], spec)
        if problems:
            raise CheckFailed(produced.path, f"item {job.item.id}: output breaks profile {job.profile.id}: "
                                             + "; ".join(problems))
        check_duration(produced.path, data, job.info.duration, job.item.id, tolerance=0.1)
        decode_check(produced.path, item_id=job.item.id, duration=job.info.duration)
