"""Language words in subtitle file names: what a sidecar's name says of its language."""

from __future__ import annotations

import os
import re
from pathlib import Path

# Language words in sidecar names (`ep01.ko.srt`, `Film.ENG.srt`, `ep01.en.sdh.srt`): only the
# last two dotted parts before the extension, never the first (the title: `de.lorean.srt`).
KOREAN_NAME_TAGS = frozenset({"ko", "kor", "kr", "korean", "ko-kr", "ko_kr", "한국어", "한글", "한국"})
OTHER_NAME_TAGS = frozenset({
    "en", "eng", "english", "ja", "jp", "jpn", "japanese", "zh", "chi", "zho", "chs", "cht", "cn", "chinese",
    "es", "spa", "spanish", "fr", "fre", "fra", "french", "de", "ger", "deu", "german", "ru", "rus",
    "russian", "vi", "vie", "th", "tha", "pt", "por", "it", "ita", "ar", "ara", "id", "ind", "ms", "may",
})


def name_language(path: str | os.PathLike) -> str | None:
    """The language word in a sidecar's name (`ep01.ko.srt` -> "ko"), or None."""
    stem = Path(path).stem                  # every subtitle extension is one suffix (.srt, .smi, ...)
    for word in reversed(re.split(r"[.\s\[\]()]+", stem.lower())[1:][-2:]):
        if word in KOREAN_NAME_TAGS or word in OTHER_NAME_TAGS:
            return word
    return None


def named_korean(path: str | os.PathLike) -> bool:
    """The file's name says Korean (`ep01.ko.srt`, `ep01.korean.smi`)."""
    return name_language(path) in KOREAN_NAME_TAGS
