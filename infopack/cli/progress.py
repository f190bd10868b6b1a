"""How build events are shown: bars on a terminal, one line per item otherwise, or JSON lines.

Encodes report {"event": "progress", "item", "done_s", "total_s"} (infopack.progress), so
the overall bar counts seconds of media encoded and its ETA is media seconds left divided
by media seconds per second, honest from the first minute. Cache hits leave the total.
"""

from __future__ import annotations

import json
import sys
import threading

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

LINES = {   # event -> the one line it gets in a log (events not listed get none)
    "encoded": "  encoded {item} ({bytes:,} bytes, {seconds:.1f} s)",
    "cached": "  reused {item} from the cache",
    "cache-corrupt": "  cache entry of {item} was damaged ({detail}); encoding it again",
    "assemble": "  assembling {card}",
    "image": "  writing {card}.img",
    "stale": "  removed {removed} unfinished build folder(s) left by a killed build",
    "no-subtitles": "  warning: {message}",
    "encoder-warning": "  warning from the encoder of {item} (kept in report.json): {lines[0]}",
    "cache-unwritable": "infopack: warning: {detail}",
    "repacked": "  the cards differ from the plan: {reason}",
    "sampling": "  planning the cards: {to_encode} of {windows} sample encode(s) to run (the rest from the cache)",
}


def describe(event: dict) -> str | None:
    """The one line a finished step gets when nobody watches a terminal (None: nothing to say)."""
    template = LINES.get(event.get("event"))
    if template is None:
        return None
    line = template.format_map(event)
    return f"{line} on {event['worker']}" if event.get("worker") else line      # a cluster worker's job


class Lines:
    """Not a terminal: one line per finished step (stderr by default), whole lines even from threads."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.lock = threading.Lock()

    def render(self, event: dict) -> str | None:
        return describe(event)

    def __call__(self, event: dict) -> None:
        line = self.render(event)
        if line is not None:
            with self.lock:
                self.stream.write(line + "\n")
                self.stream.flush()

    def close(self) -> None:
        pass


class JsonLines(Lines):
    """`--json`: every event as one JSON object per line (stdout by default), for scripts."""

    def __init__(self, stream=None):
        super().__init__(stream or sys.stdout)

    def render(self, event: dict) -> str:
        return json.dumps(event, ensure_ascii=False, sort_keys=True)


class Bars:
    """A terminal: one bar per running encode and one for the build (seconds of media)."""

    def __init__(self):
        self.console = Console(stderr=True)
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                                 TimeElapsedColumn(), TimeRemainingColumn(), console=self.console,
                                 transient=True)
        self.lock = threading.Lock()
        self.overall = None
        self.steps: dict[str, int] = {}      # "samples", "cards": the steps before and after encoding
        self.tasks: dict[str, int] = {}
        self.done: dict[str, float] = {}
        self.progress.start()

    def __call__(self, event: dict) -> None:
        kind = event.get("event")
        with self.lock:
            if kind == "probed":
                self.overall = self.progress.add_task("build", total=max(event["total_s"], 0.001))
            elif kind == "cached" and self.overall is not None:
                task = self.progress.tasks[self.overall]
                self.progress.update(self.overall, total=max(task.total - event.get("duration", 0), 0.001))
            elif kind == "encode" and event.get("duration"):
                self.tasks[event["item"]] = self.progress.add_task(f"  {event['item']}", total=event["duration"])
            elif kind == "progress" and event["item"] in self.tasks:
                self.progress.update(self.tasks[event["item"]], completed=event["done_s"])
                self.done[event["item"]] = event["done_s"]
                self._overall()
            elif kind == "encoded" and event["item"] in self.tasks:
                self.progress.remove_task(self.tasks.pop(event["item"]))
                self.done[event["item"]] = event.get("duration", self.done.get(event["item"], 0))
                self._overall()
            elif kind == "sampling" and event["to_encode"]:
                self.steps["samples"] = self.progress.add_task("sample encodes (plan)", total=event["windows"],
                                                               completed=event["windows"] - event["to_encode"])
            elif kind == "sampled" and "samples" in self.steps:
                self.progress.update(self.steps["samples"], completed=event["done"])
            elif kind == "sealing":
                # assemble, self-scan, hash, sign (and image) each card: counted in card bytes
                self.steps["cards"] = self.progress.add_task(f"cards ({event['cards']})",
                                                             total=max(event["bytes"], 1))
            elif kind == "sealed" and "cards" in self.steps:
                self.progress.update(self.steps["cards"], advance=event["bytes"])
            line = describe(event)
            if line:
                self.progress.console.print(line, highlight=False)

    def _overall(self) -> None:
        if self.overall is not None:
            self.progress.update(self.overall, completed=sum(self.done.values()))

    def close(self) -> None:
        self.progress.stop()


def make_reporter(json_lines: bool = False, stream=None):
    """JSON lines for scripts, bars on a terminal, else plain lines."""
    if json_lines:
        return JsonLines(stream)
    if sys.stderr.isatty():
        return Bars()
    return Lines(stream)


class StepBar:
    """One bar on a terminal (stderr) for a step that is not an encode: sample encodes, copying,
    verifying, scanning. Counts steps, or bytes with `in_bytes`; safe to call from threads."""

    def __init__(self, description: str, total: float | None = None, *, in_bytes: bool = False):
        columns = [TextColumn("{task.description}"), BarColumn(), TaskProgressColumn()]
        columns += [DownloadColumn()] if in_bytes else [MofNCompleteColumn()]
        self.progress = Progress(*columns, TimeElapsedColumn(), TimeRemainingColumn(),
                                 console=Console(stderr=True), transient=True)
        self.task = self.progress.add_task(description, total=total)
        self.progress.start()

    def update(self, *, completed: float | None = None, total: float | None = None, advance: float = 0) -> None:
        self.progress.update(self.task, completed=completed, total=total, advance=advance)

    def close(self) -> None:
        self.progress.stop()


class NoBar:
    """Not a terminal: nothing to draw (logs get the command's own lines)."""

    def update(self, *, completed: float | None = None, total: float | None = None, advance: float = 0) -> None:
        pass

    def close(self) -> None:
        pass


def step_bar(description: str, total: float | None = None, *, in_bytes: bool = False):
    """A StepBar when stderr is a terminal, else a NoBar."""
    return StepBar(description, total, in_bytes=in_bytes) if sys.stderr.isatty() else NoBar()


def bar_feed(bar, start: str, step: str, size: str = "bytes"):
    """A library progress callback for a bar: `start` events add their `size` to the total (one per
    card, say), `step` events advance it by theirs (by one without a size)."""
    totals = [0]

    def feed(event: dict) -> None:
        if event["event"] == start:
            totals[0] += event.get(size, 0)
            bar.update(total=totals[0])
        elif event["event"] == step:
            bar.update(advance=event.get(size, 1))
    return feed
