"""Audio-only items (music, audiobooks): AAC in M4A or MP3, loudness normalised, no cover art."""

from __future__ import annotations

from pathlib import Path

from infopack.errors import CheckFailed
from infopack.kinds.base import EncodeJob, Handler, Produced
from infopack.kinds.ffmpeg import (
    LOUDNORM,
    STRIP_FLAGS,
    check_duration,
    check_file_size,
    decode_check,
    ffmpeg_head,
    output_streams,
    run_ffmpeg,
)
from infopack.tools import safe_arg


class AudioHandler(Handler):
    kind = "audio"

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
        return [Produced("main", out, ext)]

    def validate(self, job: EncodeJob, produced: Produced) -> None:
        from infopack.kinds.video import audio_problems
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
