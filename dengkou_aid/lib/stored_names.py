"""Names for files the server writes: chosen here, unguessable, carrying only the type."""

import secrets


def stored_name(extension: str) -> str:
    """A random file name with the given extension, e.g. 'Xk3…q9.xlsx' (128 bits of token)."""
    return f"{secrets.token_urlsafe(16)}.{extension.lstrip('.').lower()}"
