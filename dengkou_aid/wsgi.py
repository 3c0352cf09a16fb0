"""WSGI entry point (gunicorn dengkou_aid.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dengkou_aid.settings")
application = get_wsgi_application()
