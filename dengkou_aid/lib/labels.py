"""Model and field names through gettext: an app whose names are plain strings (a third-party
app's English, or a field of ours named only by its attribute, "created at") reads in Chinese
from the project locale, locale/zh_Hans."""

from __future__ import annotations

from django.utils.translation import gettext_lazy


def _lazy(value):
    """A plain string made translatable; an already translatable name is kept as it is."""
    return gettext_lazy(value) if isinstance(value, str) and value else value


def translatable(config) -> None:
    """Route an app's plain model and field names through gettext, so the project locale
    translates them; migrations read a field's _verbose_name, so they do not change."""
    for model in config.get_models():
        opts = model._meta
        opts.verbose_name = _lazy(opts.verbose_name)
        # Without a plural of its own Django adds an English "s"; Chinese has none.
        if "verbose_name_plural" in opts.original_attrs:
            opts.verbose_name_plural = _lazy(opts.verbose_name_plural)
        else:
            opts.verbose_name_plural = opts.verbose_name
        for field in opts.fields:
            field.verbose_name = _lazy(field.verbose_name)
            field.help_text = _lazy(field.help_text)
