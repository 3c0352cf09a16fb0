"""dengkou-aid: township examination, confirmation and payment of social assistance."""

from .celery import app as celery_app

__all__ = ("celery_app",)
