"""dengkou-aid: township examination, confirmation and payment of social assistance.

The project package wires the apps together (settings, the URL map mounting each app's urls.py
and api_urls.py once, the Celery app and beat schedules, per-role home pages, the one download
door for stored files in files.py, which reads every layer) and starts the embedded PostgreSQL
of `make run`/`make test` (devdb.py). Its lib/ holds the domain-free tools at the very bottom,
below accounts: it imports no app."""

from .celery import app as celery_app

__all__ = ("celery_app",)
