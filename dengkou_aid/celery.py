"""The Celery application; tasks live in each app's tasks.py.

Every task is a `GuardedTask`: it refuses a countdown or ETA further ahead than the Redis
visibility timeout (Redis would hand such a message to a second worker before it is due),
and offers `delay_on_commit` so a service queues work only once its transaction commits.
The one beat that may send the schedule is chosen by a Redis lock (`dengkou_aid.beat`).
"""

from __future__ import annotations

import os
from datetime import datetime

from celery import Celery
from celery.contrib.django.task import DjangoTask

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dengkou_aid.settings")

DEFAULT_VISIBILITY_TIMEOUT = 3600


class GuardedTask(DjangoTask):
    """A task that cannot be scheduled beyond the broker's visibility timeout."""

    def apply_async(
        self,
        args=None,
        kwargs=None,
        task_id=None,
        producer=None,
        link=None,
        link_error=None,
        shadow=None,
        **options,
    ):
        delay = _delay_seconds(options.get("countdown"), options.get("eta"))
        limit = visibility_timeout(self.app)
        if delay is not None and delay > limit:
            raise ValueError(
                f"{self.name}: countdown/eta of {delay:.0f}s exceeds the broker visibility "
                f"timeout ({limit}s); schedule it with beat instead"
            )
        return super().apply_async(
            args, kwargs, task_id, producer, link, link_error, shadow, **options
        )


def visibility_timeout(app: Celery) -> int:
    options = app.conf.broker_transport_options or {}
    return int(options.get("visibility_timeout", DEFAULT_VISIBILITY_TIMEOUT))


def _delay_seconds(countdown, eta) -> float | None:
    if countdown is not None:
        return float(countdown)
    if eta is None:
        return None
    if isinstance(eta, str):
        eta = datetime.fromisoformat(eta)
    from django.utils import timezone

    now = timezone.now() if eta.tzinfo else datetime.now()  # noqa: DTZ005 - naive eta, naive now
    return (eta - now).total_seconds()


app = Celery("dengkou_aid", task_cls=GuardedTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
