"""Video: scale, deinterlace, constant frame rate, 8-bit SDR, encoded for the profile, every trace stripped.

H.264 or HEVC with AAC in MP4, or MPEG-4 Part 2 with MP3 in AVI for the cheapest players
(what is particular to each codec is in infopack.kinds.codecs). Subtitles are burned in,
muxed as a soft track or written beside the video (infopack.kinds.subtitle prepares them).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from infopack.errors import CheckFailed, UsageError
from infopack.kinds.base import EncodeJob, Kind, PreparedSubtitles, Produced, Source, with_placeholders
from infopack.kinds.codecs import VIDEO_CODECS, TwoPass, bitrate_bits
from infopack.kinds.ffmpeg import (
    CONTAINER_OVERHEAD,
    LOUDNORM,
    STRIP_FLAGS,
    VIDEO_FILE_EXTRA,
    audio_problems,
    check_duration,
    check_file_size,
    decode_check,
    ffmpeg_filters,
    ffmpeg_head,
    output_streams,
    run_ffmpeg,
)
from infopack.kinds.geometry import SourceGeometry, deinterlace_first, output_size
from infopack.kinds.levels import largest_size_within, measure_output, output_problems
from infopack.kinds.mpeg_audio import MP3_CLEANED, clean_avi_mp3
from infopack.kinds.probe import MediaInfo, VideoStream, container_signature, probe_av
from infopack.kinds.specs import Profile, VideoSpec
from infopack.kinds.split import split_video
from infopack.kinds.subtitle import prepare_subtitles, sidecar_estimate
from infopack.kinds.thumbnails import contact_sheet, poster
from infopack.subtitles import burn_in_graph
from infopack.tools import safe_arg


def frame_size(info: MediaInfo, spec: VideoSpec) -> tuple[int, int]:
    """The output's width x height: the source upright in square pixels (its display matrix and
    pixel aspect applied, infopack.kinds.geometry), inside the profile's box, and small enough
    for the declared level at the output's frame rate (infopack.kinds.levels)."""
    video = info.video
    geometry = SourceGeometry(video.width, video.height, video.sample_aspect, video.rotation)
    box = output_size(geometry, spec.max_width, spec.max_height)
    try:
        return largest_size_within(geometry.display_aspect, *box, target_fps(video.fps, spec.max_fps), spec.codec,
                                   spec.profile, spec.level)
    except UsageError as exc:
        raise UsageError(info.path, exc.problem) from None


# The rates sources are made at. A measured rate this close to one of them is that rate:
# Matroska's millisecond timestamps make ffprobe say 19001/317 for 59.94 fps.
STANDARD_RATES = tuple(Fraction(n, d) for n, d in ((24000, 1001), (24, 1), (25, 1), (30000, 1001), (30, 1),
                                                  (48, 1), (50, 1), (60000, 1001), (60, 1)))


def target_fps(source_fps: float, max_fps: float) -> Fraction:
    """Keep the source rate when allowed; halve 50/60 fps sources; else cap."""
    fps = next((rate for rate in STANDARD_RATES if abs(source_fps / rate - 1) < 0.0002),
               Fraction(source_fps).limit_denominator(1001))
    if fps <= max_fps:
        return fps
    if fps / 2 <= max_fps:
        return fps / 2
    return Fraction(max_fps).limit_denominator(1001)


class VideoKind(Kind):
    name = "video"
    extensions = frozenset(".mp4 .m4v .mkv .webm .avi .mov .mpg .mpeg .ts .m2ts .mts .vob .3gp .3g2 .flv .wmv "
                           ".asf .ogv".split())
    scanned_as = "media"
    card_folder, card_folder_ascii = "영상", "VIDEO"
    subtitled = True
    player = "video"
    thumbnails = ("poster", "sheet")
    transcript_roles = ("sidecar",)
    sampled = True          # its one-pass `command` takes input seeking; bytes scale with the duration

    def sniff(self, head: bytes) -> bool:
        return container_signature(head)

    def probe(self, path: Path) -> MediaInfo:
        """ffprobe decides: a file without a picture stream is an audio item."""
        return probe_av(path)

    def supported_by(self, profile: Profile) -> bool:
        return profile.video is not None

    def output_roles(self, info: MediaInfo, profile: Profile, *, subtitles: tuple = ()) -> dict[str, str]:
        roles = {"main": profile.extension}
        if subtitles and profile.subtitles.sidecar:
            roles["sidecar"] = ".srt"
        return roles

    def estimate(self, info: MediaInfo, profile: Profile, *, subtitles: tuple = (),
                 video_bits: int | None = None) -> dict[str, int]:
        """`video_bits` (a fitted rate, see infopack.plan.fit), else the target bitrate, else the
        maxrate cap (CRF output is usually well below it), plus the soundtrack; 2% and a few
        KiB for the container. A sidecar as infopack.kinds.subtitle estimates it."""
        if profile.video is None:
            raise UsageError(profile.source, f"profile {profile.id} plays no video")
        if video_bits is None:
            video_bits = bitrate_bits(profile.video.bitrate or profile.video.maxrate)
        audio_bits = bitrate_bits(profile.audio.bitrate) if info.has_audio else 0
        sizes = {"main": int(info.duration * (video_bits + audio_bits) / 8 * (1 + CONTAINER_OVERHEAD))
                 + VIDEO_FILE_EXTRA}
        if subtitles and profile.subtitles.sidecar:
            sizes["sidecar"] = sidecar_estimate(subtitles[0], info.duration)
        return sizes

    def prepare_subtitles(self, item: Source, info: MediaInfo, profile: Profile, work_dir: Path, *,
                          language_class: str | None = None, manifest: Path | None = None,
                          require: bool = False, reviewed=None) -> PreparedSubtitles | None:
        """Burned-in subtitles are drawn for the output's frame size; cues end a frame before its end."""
        play_res = frame_size(info, profile.video)
        return prepare_subtitles(item, info, profile, work_dir, fps=float(target_fps(info.video.fps,
                                                                                     profile.video.max_fps)),
                                 manifest=manifest, require=require, language_class=language_class,
                                 play_res=play_res, reviewed=reviewed)

    def command(self, job: EncodeJob, out: Path) -> list[str]:
        """The one-pass command, or with a fitted `job.video_bitrate` the second pass."""
        return self.passes(job, out)[-1]

    def passes(self, job: EncodeJob, out: Path) -> list[list[str]]:
        """The ffmpeg commands of one encode: one pass, or two when size fitting set a rate.

        Two-pass: the first pass only analyses the video (no audio, no subtitles, null
        output) into a stats file in the work folder; the second spends `video_bitrate`
        where the first found it is needed. The stats file never reaches the card.
        """
        if job.video_bitrate is None:
            return [self._encode_args(job, out, None)]
        codec = VIDEO_CODECS[job.profile.video.codec] if job.profile.video else None
        if codec is not None and codec.unfittable:
            raise UsageError(job.info.path, f"item {job.item.id}: profile {job.profile.id} cannot encode to a "
                                            f"fitted bitrate: {codec.unfittable}")
        stats = job.work_dir / f"{job.item.id}.passlog"
        return [self._encode_args(job, out, (1, stats)), self._encode_args(job, out, (2, stats))]

    def recipe(self, job: EncodeJob) -> list[str]:
        """Every pass's command, and the splitting rule (parts depend on it)."""
        placeholders = self.placeholders(job)
        recipe = []
        for args in self.passes(job, Path("out")):
            recipe += with_placeholders(args, placeholders) + [";"]
        if job.profile.split_parts:
            recipe += ["split-parts", str(job.profile.max_file_bytes)]
        if carries_lame(job):
            recipe += [MP3_CLEANED]     # entries made before the cleaning are not reused
        return recipe

    def placeholders(self, job: EncodeJob) -> dict[str, str]:
        """Paths also appear escaped inside `-vf` (the burn-in filter's file and fonts folder)."""
        found = super().placeholders(job)
        return found | {filter_path(Path(text)): token for text, token in found.items()}

    def _encode_args(self, job: EncodeJob, out: Path, two_pass: TwoPass | None) -> list[str]:
        spec, audio = job.profile.video, job.profile.audio
        if spec is None:
            raise UsageError(job.info.path, f"item {job.item.id} is a video, but profile {job.profile.id} "
                                            f"plays no video (use the soundtrack as an audio file, or another profile)")
        codec = VIDEO_CODECS[spec.codec]
        first_pass = two_pass is not None and two_pass[0] == 1
        video = job.info.video
        width, height = frame_size(job.info, spec)
        fps = target_fps(video.fps, spec.max_fps)
        filters = []
        if video.interlaced:           # autorotate turns the picture before -vf: yadif must see the stored fields
            filters += deinterlace_first(video.rotation, "yadif=mode=0:deint=interlaced")
        filters += _to_sdr_8bit(video, spec)
        filters += [f"scale={width}:{height}:flags=lanczos", "setsar=1", f"fps={fps}", f"format={spec.pix_fmt}"]
        subs = job.subtitles
        if subs and subs.burn_ass and job.profile.subtitles.burn:
            burn = f"subtitles=filename={filter_path(subs.burn_ass)}"
            if subs.fonts_dir:
                burn += f":fontsdir={filter_path(subs.fonts_dir)}"
            filters.append(burn)

        picture, video_map = ["-vf", ",".join(filters)], "0:V:0"
        if subs and subs.burn_track and job.profile.subtitles.burn:      # an image track, overlaid
            graph, video_map = burn_in_graph(filters, subs.burn_track, video_size=(video.width, video.height),
                                             output_size=(width, height), pix_fmt=spec.pix_fmt)
            picture = ["-filter_complex", graph]

        args = ffmpeg_head() + ["-i", safe_arg(job.info.path)]
        soft = bool(subs and subs.mux_srt and job.profile.subtitles.soft) and not first_pass
        if soft:
            args += ["-i", safe_arg(subs.mux_srt)]
        args += ["-map", video_map] if first_pass else ["-map", video_map, "-map", "0:a:0?"]
        if soft:
            args += ["-map", "1:s:0"]
        args += STRIP_FLAGS
        if spec.flags:
            args += ["-flags:v", "+bitexact" + spec.flags]      # replaces STRIP_FLAGS' -flags:v, keeps bitexact
        args += picture + ["-c:v", spec.codec, "-threads", str(spec.threads)]
        args += codec.encoder_args(spec, two_pass)
        args += _rate_control(spec, job.video_bitrate)
        args += ["-g", str(max(1, round(float(fps) * spec.gop_seconds))), "-bf", str(spec.bframes)]
        if spec.refs is not None and codec.takes_refs:
            args += ["-refs", str(spec.refs)]
        for key, value in spec.options.items():
            args += [f"-{key}", str(value)]
        if spec.tag:
            args += ["-tag:v", spec.tag]
        if first_pass:
            # cfr: what the real muxers (MP4, AVI) get by default; the null muxer would pass
            # frames through, and a frame count unlike pass 2's breaks x264's stats.
            return args + ["-fps_mode", "cfr", "-an", "-sn", "-f", "null", "-"]
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
        for args in self.passes(job, out):
            run_ffmpeg(args, item_id=job.item.id, source=job.info.path, duration=job.info.duration)
        if carries_lame(job):
            clean_avi_mp3(out)             # before the split: every part is cut from clean audio
        sidecar = None
        if job.subtitles and job.subtitles.sidecar is not None and job.profile.subtitles.sidecar:
            sidecar = job.subtitles.sidecar
        if job.profile.split_parts and out.stat().st_size > job.profile.max_file_bytes:
            return split_video(job, out, sidecar)
        produced = [Produced("main", out, job.profile.extension)]
        if sidecar is not None:
            path = job.work_dir / f"{job.item.id}.srt"
            path.write_bytes(sidecar)
            produced.append(Produced("sidecar", path, ".srt"))
        return produced

    def validate(self, job: EncodeJob, produced: Produced) -> None:
        """ffprobe the output against the profile, then decode it all with errors fatal."""
        if not is_video_file(produced.role):
            return
        spec = job.profile.video
        item = job.item.id
        check_file_size(produced.path, job.profile.max_file_bytes, item, job.profile.id)
        data = output_streams(produced.path)
        videos = [s for s in data.get("streams", []) if s.get("codec_type") == "video"]
        if len(videos) != 1:
            raise CheckFailed(produced.path, f"item {item}: expected one video stream, found {len(videos)}")
        problems = video_problems(videos[0], spec, expected_size=frame_size(job.info, spec),
                                  expected_fps=target_fps(job.info.video.fps, spec.max_fps))
        problems += output_problems(measure_output(produced.path), spec.codec, spec.profile, spec.level)
        audios = [s for s in data.get("streams", []) if s.get("codec_type") == "audio"]
        if job.info.has_audio:
            if len(audios) != 1:
                problems.append(f"{len(audios)} audio streams (expected 1)")
            else:
                problems += audio_problems(audios[0], job.profile.audio)
        elif audios:
            problems.append("an audio stream the source does not have")
        if problems:
            raise CheckFailed(produced.path, f"item {item}: output breaks profile {job.profile.id}: "
                                             + "; ".join(problems))
        if produced.role == "main":        # parts: their durations are summed by the split
            check_duration(produced.path, data, job.info.duration, item)
        decode_check(produced.path, item_id=item, duration=job.info.duration, forbid_b_frames=spec.bframes == 0)

    def thumbnail(self, path: Path, duration: float, what: str) -> bytes | None:
        return poster(path, duration) if what == "poster" else contact_sheet(path, duration)


def carries_lame(job: EncodeJob) -> bool:
    """An AVI with libmp3lame audio: LAME's version is in the MP3 frames until clean_avi_mp3."""
    return job.profile.container == "avi" and job.info.has_audio and job.profile.audio.codec == "libmp3lame"


def is_video_file(role: str) -> bool:
    """"main", or "part-01", "part-02", ... when the video was split."""
    return role == "main" or role.startswith("part-")


def video_problems(v: dict, spec: VideoSpec, *, expected_size: tuple[int, int] | None = None,
                   expected_fps: Fraction | None = None) -> list[str]:
    """What in one ffprobe video stream breaks the profile's [video] table (empty: nothing)."""
    problems = []
    codec = VIDEO_CODECS[spec.codec]
    if v.get("codec_name") != codec.ffprobe_name:
        problems.append(f"codec {v.get('codec_name')} (expected {codec.ffprobe_name})")
    want_profile = codec.profile_names.get(spec.profile, spec.profile)
    if v.get("profile") != want_profile:
        problems.append(f"profile {v.get('profile')} (expected {want_profile})")
    level, max_level = int(v.get("level") or 0), codec.max_level(str(spec.level))
    if not 0 < level <= max_level:
        problems.append(f"level {v.get('level')} (expected at most {spec.level})")
    width, height = int(v.get("width", 0)), int(v.get("height", 0))
    if width > spec.max_width or height > spec.max_height or width % 2 or height % 2:
        problems.append(f"size {width}x{height} (max {spec.max_width}x{spec.max_height}, even)")
    elif expected_size and (width, height) != expected_size:
        problems.append(f"size {width}x{height} (expected {expected_size[0]}x{expected_size[1]})")
    if v.get("sample_aspect_ratio", "1:1") not in ("1:1", "0:1", None):
        problems.append(f"sample aspect {v.get('sample_aspect_ratio')} (expected square pixels)")
    if v.get("pix_fmt") != spec.pix_fmt:
        problems.append(f"pixel format {v.get('pix_fmt')} (expected {spec.pix_fmt})")
    if v.get("field_order", "progressive") not in ("progressive", "unknown"):
        problems.append(f"field order {v.get('field_order')} (expected progressive)")
    fps = Fraction(v.get("avg_frame_rate") or "0/1") if v.get("avg_frame_rate") != "0/0" else Fraction(0)
    if fps > spec.max_fps + 0.01:
        problems.append(f"frame rate {float(fps):.3f} (max {spec.max_fps})")
    elif expected_fps and abs(fps - expected_fps) > Fraction(1, 50):
        problems.append(f"frame rate {float(fps):.3f} (expected {float(expected_fps):.3f})")
    if spec.bframes == 0 and int(v.get("has_b_frames") or 0) != 0:
        problems.append(f"has_b_frames {v.get('has_b_frames')} (the profile allows no B-frames)")
    if spec.tag and v.get("codec_tag_string") != spec.tag:
        problems.append(f"codec tag {v.get('codec_tag_string')} (expected {spec.tag})")
    return problems


def _to_sdr_8bit(video: VideoStream, spec: VideoSpec) -> list[str]:
    """Filters that bring a 10/12-bit or HDR source to 8-bit SDR BT.709 (before scaling).

    HDR (PQ or HLG transfer) is tone mapped with zscale + tonemap when this ffmpeg has
    zscale; without it, the plain conversion below keeps the picture but looks washed out.
    High-bit-depth SDR needs nothing here: `format=yuv420p` after scaling converts it.
    """
    if not any(depth in video.pix_fmt for depth in ("10", "12", "16")):
        return []
    if video.color_transfer not in ("smpte2084", "arib-std-b67"):
        return []
    if "zscale" not in ffmpeg_filters():
        return ["colorspace=all=bt709:iall=bt2020:fast=1"]
    return ["zscale=t=linear:npl=100", "format=gbrpf32le", "zscale=p=bt709",
            f"tonemap={spec.hdr_tonemap}:desat=0", "zscale=t=bt709:m=bt709:r=tv"]


def _rate_control(spec: VideoSpec, fitted: int | None = None) -> list[str]:
    """The profile's rate control; with a fitted rate (two-pass) that average, under the same caps.

    The profile's maxrate/bufsize stay the VBV limits (they are the level's and the
    players' limits); a fitted rate never exceeds them (infopack.plan.fit caps it there).
    """
    args = []
    if fitted is not None:
        cap = bitrate_bits(spec.maxrate)
        args += ["-b:v", str(min(fitted, cap) if cap else fitted)]
    elif spec.bitrate:
        args += ["-b:v", spec.bitrate]
    elif spec.crf is not None:
        args += ["-crf", str(spec.crf)]
    elif spec.qscale is not None:
        args += ["-q:v", str(spec.qscale)]            # MPEG-4 Part 2: constant quantiser
    if spec.maxrate:
        args += ["-maxrate", spec.maxrate, "-bufsize", spec.bufsize or spec.maxrate]
    return args


def filter_path(path: Path) -> str:
    """Escape a path for an option value inside `-vf`: two levels, as ffmpeg parses two.

    The filtergraph parser runs first: it splits on `,` `;` `[` `]` and removes one level
    of `\\` and `'`; the filter's option parser then splits on `:` and removes another.
    """
    text = str(path)
    for ch in ("\\", "'", ":"):
        text = text.replace(ch, "\\" + ch)
    for ch in ("\\", "'", "[", "]", ",", ";"):
        text = text.replace(ch, "\\" + ch)
    return text
