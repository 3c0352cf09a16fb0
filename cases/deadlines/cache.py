"""This process's copy of the working-day calendar, below both the models and the calendar.

The models drop it when the administrator's table changes; `calendar` fills it. Keeping the
holder here means `cases.models` never imports the calendar that reads the models.
"""

from __future__ import annotations

import threading

lock = threading.Lock()
cached: dict[str, object] = {"fingerprint": None, "calendar": None}


def invalidate() -> None:
    """Drop this process's calendar; the next call rebuilds it from the table."""
    with lock:
        cached["calendar"] = None
        cached["fingerprint"] = None
