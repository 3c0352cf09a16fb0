"""WSGI entry point (gunicorn dengkou_aid.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dengkou_aid.settings")
application = get_wsgi_application()

# Each gunicorn worker loads this module before it serves: pay WeasyPrint's start-up here.
from dengkou_aid.lib.pdf import warm_up  # noqa: E402

warm_up()
