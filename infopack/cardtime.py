"""The one time infopack ever writes: 2000-01-01 00:00:00 UTC.

Every file and folder on a card, every timestamp in a FAT image, every zip entry of a
cleaned e-book and every date a format insists on carry it: it says nothing about when
or where a card was made, and keeps builds byte-identical.
"""

from __future__ import annotations

from datetime import datetime, timezone

CARD_TIME = datetime(2000, 1, 1, tzinfo=timezone.utc)
CARD_EPOCH = int(CARD_TIME.timestamp())                    # 946684800, for file times and SOURCE_DATE_EPOCH
CARD_ZIP_DATE = CARD_TIME.timetuple()[:6]                  # (2000, 1, 1, 0, 0, 0), for zip entries
CARD_ISO = CARD_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")        # "2000-01-01T00:00:00Z", for XML dates
