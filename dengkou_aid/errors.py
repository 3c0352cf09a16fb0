"""Domain errors that services raise and every interface turns into the same answer.

Each carries a Chinese message for the user and, where one field is at fault, its name.
"""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the request (HTTP 400)."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None, missing: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.missing = missing or []

    def as_dict(self) -> dict:
        body: dict = {"detail": self.message}
        if self.field:
            body["field"] = self.field
            body[self.field] = [self.message]
        if self.missing:
            body["missing"] = self.missing
        return body


class NotAllowed(DomainError):
    """The actor's role or unit may not do this (HTTP 403)."""

    status = 403


class Conflict(DomainError):
    """Someone else changed the record first (HTTP 409)."""

    status = 409


class Immutable(DomainError):
    """A signed or archived record cannot be changed (HTTP 409)."""

    status = 409
