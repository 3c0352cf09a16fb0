"""Checks on uploaded files: type by content, size, and a SHA-256 for the record."""

import hashlib
from collections.abc import Iterable
from typing import Any

import filetype
from django.conf import settings

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
_CHUNK = 64 * 1024
# filetype never looks past the first 8 KiB.
_HEAD = 8192


class UploadRejected(ValueError):
    """An upload that may not be stored; the message is for the user, in Chinese."""


def check_upload(
    file: Any,
    allowed: Iterable[str] = ("pdf", "jpg", "png"),
    max_bytes: int | None = None,
) -> tuple[str, int, str]:
    """Return (mime, size, sha256 hex) of an upload whose content is an allowed type and not too big.

    The type is read from the bytes, never from the name or the browser's content
    type. max_bytes defaults to settings.UPLOAD_MAX_BYTES, else 10 MB. The file is
    left positioned at its start so it can be saved afterwards.
    """
    limit = max_bytes if max_bytes is not None else _default_max_bytes()
    declared = getattr(file, "size", None)
    if isinstance(declared, int) and declared > limit:
        raise UploadRejected(f"文件过大：超过{format_size(limit)}")
    file.seek(0)
    head = file.read(_HEAD)
    if not head:
        raise UploadRejected("文件为空")
    kind = filetype.guess(head)
    allowed_set = {extension.lower() for extension in allowed}
    if kind is None or kind.extension not in allowed_set:
        found = kind.extension if kind else "无法识别"
        allowed_text = "、".join(extension.upper() for extension in allowed)
        raise UploadRejected(f"文件类型不允许：{found}（仅允许 {allowed_text}）")
    size, digest = _measure(file, head, limit)
    file.seek(0)
    return kind.mime, size, digest


def _measure(file: Any, head: bytes, limit: int) -> tuple[int, str]:
    # Count the bytes actually read: the declared size of an upload can lie.
    digest = hashlib.sha256(head)
    size = len(head)
    chunk = head
    while chunk:
        if size > limit:
            raise UploadRejected(f"文件过大：超过{format_size(limit)}")
        chunk = file.read(_CHUNK)
        size += len(chunk)
        digest.update(chunk)
    return size, digest.hexdigest()


def _default_max_bytes() -> int:
    return int(getattr(settings, "UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES))


def format_size(size: int) -> str:
    """Write a byte count the way limits are announced: 10MB, 512KB, 100B."""
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= factor:
            return f"{round(size / factor, 1):g}{unit}"
    return f"{size}B"
