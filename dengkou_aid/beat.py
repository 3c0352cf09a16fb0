"""A beat scheduler that runs only while it holds a Redis lock, so two beats never both send.

Every beat started with this scheduler tries, on each tick, to take or renew the lock
`dengkou-aid:beat-lock:<database name>` (SET NX with a TTL). The holder renews it and sends the due tasks;
any other beat stands by and takes over within `LOCK_TTL` seconds of the holder's death
(at once if the holder shut down cleanly and released it). Without Redis (the embedded
default, where beat does not run) the lock is skipped.
"""

from __future__ import annotations

import logging
import os
import socket

from django.conf import settings
from django_celery_beat.schedulers import DatabaseScheduler

logger = logging.getLogger("dengkou_aid.beat")

LOCK_KEY = "dengkou-aid:beat-lock:{database}"
LOCK_TTL = 30
STANDBY_INTERVAL = 5.0

# Renew only if the lock is still ours: compare and expire in one step.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('expire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


def lock_key() -> str:
    """One lock per deployment: beats sharing a Redis but not a database do not compete."""
    return LOCK_KEY.format(database=settings.DATABASES["default"]["NAME"])


class BeatLock:
    """A Redis lock with a TTL, identified by this process's host and pid."""

    def __init__(self, url: str, *, key: str | None = None, ttl: int = LOCK_TTL) -> None:
        import redis

        self.client = redis.Redis.from_url(url)
        self.key, self.ttl = key or lock_key(), ttl
        self.token = f"{socket.gethostname()}:{os.getpid()}"
        self._renew = self.client.register_script(_RENEW)
        self._release = self.client.register_script(_RELEASE)

    def hold(self) -> bool:
        """Take the lock if free, renew it if ours; False while another beat holds it."""
        if self._renew(keys=[self.key], args=[self.token, self.ttl]):
            return True
        return bool(self.client.set(self.key, self.token, nx=True, ex=self.ttl))

    def holder(self) -> str | None:
        value = self.client.get(self.key)
        return value.decode() if value else None

    def release(self) -> None:
        self._release(keys=[self.key], args=[self.token])


class LockedDatabaseScheduler(DatabaseScheduler):
    """django_celery_beat's scheduler, sending tasks only while holding the beat lock."""

    def __init__(self, *args, **kwargs) -> None:
        url = getattr(settings, "REDIS_URL", "")
        self.beat_lock = BeatLock(url) if url else None
        self.holding = self.beat_lock is None
        super().__init__(*args, **kwargs)

    def tick(self, *args, **kwargs) -> float:
        if self.beat_lock is not None and not self._hold():
            return STANDBY_INTERVAL
        return min(super().tick(*args, **kwargs), LOCK_TTL / 3)

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.beat_lock is not None and self.holding:
                self.beat_lock.release()
                self.holding = False
                logger.info("beat lock released by %s", self.beat_lock.token)

    def _hold(self) -> bool:
        try:
            held = self.beat_lock.hold()
        except Exception:
            logger.exception("beat lock: Redis unreachable; not sending tasks")
            held = False
        if held and not self.holding:
            logger.info(
                "beat lock acquired by %s; this beat sends the schedule", self.beat_lock.token
            )
            # Re-read the schedule: the previous holder may have run entries since we loaded it.
            self._initial_read = True
            self._heap = None
        elif not held and self.holding:
            logger.warning("beat lock lost by %s; standing by", self.beat_lock.token)
        elif not held and not getattr(self, "_announced_standby", False):
            logger.info(
                "beat lock held by %s; %s stands by", self.beat_lock.holder(), self.beat_lock.token
            )
            self._announced_standby = True
        self.holding = held
        return held
