"""Size-targeted encoding: a video bitrate budget per item so the whole bundle fits the card."""

from __future__ import annotations


def fit_budgets(bundle, profile, card, infos) -> dict[str, int]:
    """Video bits per second per item id (infos: item id -> MediaInfo); {} means "use the profile's rates"."""
    return {}
