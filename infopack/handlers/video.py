"""Video: scale, deinterlace, constant frame rate, H.264/AAC in MP4, every trace stripped."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from infopack.errors import CheckFailed
from infopack.handlers import EncodeJob, Handler, Produced
from infopack.handlers.ffcommon import (LOUDNORM, STRIP_FLAGS, check_duration, decode_check, ffmpeg_head,
                                        output_streams, run_ffmpeg)
from infopack.probe import VideoStream
from infopack.tools import safe_arg

H264_PROFILE_NAMES = {"baseline": "Constrained Baseline", "main": "Main", "high": "High"}


def target_size(video: VideoStream, max_w: int, max_h: int) -> tuple[int, int]:
    """Fit the display aspect into max_w x max_h, never upscaling, even dimensions."""
    display_w = video.width * video.sample_aspect
    scale = min(Fraction(max_w) / display_w, Fraction(max_h, video.height), Fraction(1))
    width = int(round(display_w * scale / 2)) * 2
    height = int(round(video.height * scale / 2)) * 2
    return max(width, 2), max(height, 2)


def target_fps(source_fps: float, max_fps: float) -> Fraction:
    """Keep the source rate when allowed; halve 50/60 fps sources; else cap."""
    fps = Fraction(source_fps).limit_denominator(1001)
    if fps <= max_fps:
        return fps
    if fps / 2 <= max_fps:
        return fps / 2
    return Fraction(max_fps).limit_denominator(1001)


class VideoHandler(Handler):
    kind = "video"

    def command(self, job: EncodeJob, out: Path) -> list[str]:
        spec, audio = job.profile.video, job.profile.audio
        video = job.info.video
        width, height = target_size(video, spec.max_width, spec.max_height)
        fps = target_fps(video.fps, spec.max_fps)
        filters = []
        if video.interlaced:
            filters.append("yadif=mode=0:deint=interlaced")
        filters += [f"scale={width}:{height}:flags=lanczos", "setsar=1", f"fps={fps}", f"format={spec.pix_fmt}"]
        subs = job.subtitles
        if subs and subs.burn_ass and job.profile.subtitles.burn:
            filters.append(f"subtitles=filename={_filter_path(subs.burn_ass)}")

        args = ffmpeg_head() + ["-i", safe_arg(job.info.path)]
        soft = bool(subs and subs.mux_srt and job.profile.subtitles.soft)
        if soft:
            args += ["-i", safe_arg(subs.mux_srt)]
        args += ["-map", "0:V:0", "-map", "0:a:0?"]
        if soft:
            args += ["-map", "1:s:0"]
        args += STRIP_FLAGS
        args += ["-vf", ",".join(filters), "-c:v", spec.codec, "-threads", str(spec.threads)]
        if spec.codec == "libx264":
            args += ["-profile:v", spec.profile, "-level:v", spec.level, "-preset", spec.preset,
                     "-a53cc", "0", "-bsf:v", "filter_units=remove_types=6"]
            if spec.tune:
                args += ["-tune", spec.tune]
        args += _rate_control(spec)
        args += ["-g", str(max(1, round(float(fps) * spec.gop_seconds))), "-bf", str(spec.bframes)]
        if job.info.has_audio:
            if audio.loudnorm:
                args += ["-af", LOUDNORM]
            args += ["-c:a", audio.codec, "-b:a", audio.bitrate, "-ac", str(audio.channels),
                     "-ar", str(audio.sample_rate)]
        if soft:
            args += ["-c:s", "mov_text"]
        if job.profile.container == "mp4":
            args += ["-movflags", "+faststart"]
        args += ["-f", job.profile.container, safe_arg(out)]
        return args

    def transcode(self, job: EncodeJob) -> list[Produced]:
        out = job.work_dir / f"{job.item.id}{job.profile.extension}"
        run_ffmpeg(self.command(job, out), item_id=job.item.id, source=job.info.path, duration=job.info.duration)
        produced = [Produced("main", out, job.profile.extension)]
        if job.subtitles and job.subtitles.sidecar is not None and job.profile.subtitles.sidecar:
            sidecar = job.work_dir / f"{job.item.id}.srt"
            sidecar.write_bytes(job.subtitles.sidecar)
            produced.append(Produced("sidecar", sidecar, ".srt"))
        return produced

    def validate(self, job: EncodeJob, produced: Produced) -> None:
        if produced.role != "main":
            return
        spec = job.profile.video
        data = output_streams(produced.path)
        item = job.item.id
        videos = [s for s in data.get("streams", []) if s.get("codec_type") == "video"]
        if len(videos) != 1:
            raise CheckFailed(produced.path, f"item {item}: expected one video stream, found {len(videos)}")
        v = videos[0]
        expected_codec = {"libx264": "h264", "libx265": "hevc", "mpeg4": "mpeg4"}.get(spec.codec, spec.codec)
        problems = []
        if v.get("codec_name") != expected_codec:
            problems.append(f"codec {v.get('codec_name')} (expected {expected_codec})")
        if spec.codec == "libx264":
            want = H264_PROFILE_NAMES.get(spec.profile, spec.profile)
            if v.get("profile") != want:
                problems.append(f"profile {v.get('profile')} (expected {want})")
            if int(v.get("level") or 0) > round(float(spec.level) * 10):
                problems.append(f"level {v.get('level')} (expected at most {spec.level})")
        if int(v.get("width", 0)) > spec.max_width or int(v.get("height", 0)) > spec.max_height:
            problems.append(f"size {v.get('width')}x{v.get('height')} (max {spec.max_width}x{spec.max_height})")
        if v.get("pix_fmt") != spec.pix_fmt:
            problems.append(f"pixel format {v.get('pix_fmt')} (expected {spec.pix_fmt})")
        fps = Fraction(v.get("avg_frame_rate") or "0")
        if fps > spec.max_fps + 0.01:
            problems.append(f"frame rate {float(fps):.3f} (max {spec.max_fps})")
        audios = [s for s in data.get("streams", []) if s.get("codec_type") == "audio"]
        if job.info.has_audio:
            if len(audios) != 1 or int(audios[0].get("channels", 0)) != job.profile.audio.channels:
                problems.append("audio layout does not match the profile")
        if problems:
            raise CheckFailed(produced.path, f"item {item}: output breaks profile {job.profile.id}: "
                                             + "; ".join(problems))
        check_duration(produced.path, data, job.info.duration, item)
        decode_check(produced.path, item_id=item, duration=job.info.duration)


def _rate_control(spec) -> list[str]:
    args = []
    if spec.bitrate:
        args += ["-b:v", spec.bitrate]
    elif spec.crf is not None:
        args += ["-crf", str(spec.crf)]
    if spec.maxrate:
        args += ["-maxrate", spec.maxrate, "-bufsize", spec.bufsize or spec.maxrate]
    return args


def _filter_path(path: Path) -> str:
    """Escape a path for use inside an ffmpeg filter argument."""
    text = str(path)
    for ch in ("\\", ":", "'", ",", "[", "]", ";"):
        text = text.replace(ch, "\\" + ch)
    return text
