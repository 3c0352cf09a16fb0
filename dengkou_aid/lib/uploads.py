"""Checks on uploaded files: type by content, size, a clean copy to keep, and a SHA-256 for the record.

Only PDF, JPEG and PNG are kept. A PDF must open with pypdf, copy whole into a new PDF (as
the archive export will), must not be encrypted and may carry no script or automatic
action. An image must decode with Pillow and is re-encoded, so nothing appended to it (an
HTML page, a second file) survives. The stored name is chosen
here (a random token and the extension of the detected type); the client's name is only shown.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import unicodedata
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import filetype
from django.conf import settings
from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from .pdf import UnreadablePdf, normalized_pdf

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# filetype never looks past the first 8 KiB.
_HEAD = 8192

_MIME = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png"}
# The client's file name may end in any of these for a type; the stored name ends in the key.
_SUFFIXES = {"pdf": {"pdf"}, "jpg": {"jpg", "jpeg", "jpe", "jfif"}, "png": {"png"}}
# Pillow reads some cameras' JPEGs as MPO (several pictures in one file); the first is kept.
_PIL_FORMATS = {"jpg": {"JPEG", "MPO"}, "png": {"PNG"}}

# PDF dictionary keys and action types that run something when the file is opened or used.
_SCRIPT_KEYS = frozenset({"/JS", "/JavaScript", "/AA", "/XFA"})
_SCRIPT_ACTIONS = frozenset({"/JavaScript", "/Launch", "/SubmitForm", "/ImportData"})
# A bound on the objects visited, so a crafted PDF cannot keep the check running.
_PDF_WALK_LIMIT = 1_000_000
_MAX_PIXELS = 80_000_000


class UploadRejected(ValueError):
    """An upload that may not be stored; the message is for the user, in Chinese."""


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed: the bytes to store under a server-chosen name, and their record."""

    content: ContentFile
    mime: str
    extension: str
    size: int
    sha256: str
    original_name: str


def check_upload(
    file: Any,
    allowed: Iterable[str] = ("pdf", "jpg", "png"),
    max_bytes: int | None = None,
) -> CheckedUpload:
    """Check an upload and return what to store, or raise UploadRejected with the reason.

    The type is read from the bytes, never from the name or the browser's content type;
    a client name ending in another type's suffix (.html, .svg …) is refused all the same.
    max_bytes defaults to settings.UPLOAD_MAX_BYTES, else 10 MB.
    """
    limit = max_bytes if max_bytes is not None else _default_max_bytes()
    allowed_set = {extension.lower() for extension in allowed}
    declared = getattr(file, "size", None)
    if isinstance(declared, int) and declared > limit:
        raise UploadRejected(f"文件过大：超过{format_size(limit)}")
    data = _read(file, limit)
    if not data:
        raise UploadRejected("文件为空")
    extension = _detected_type(data[:_HEAD], allowed_set)
    original_name = display_name(getattr(file, "name", "") or "")
    _refuse_foreign_suffix(original_name, extension, allowed_set)
    if extension == "pdf":
        _check_pdf(data)
    else:
        data = _reencode_image(data, extension)
    return CheckedUpload(
        content=ContentFile(data, name=random_name(extension)),
        mime=_MIME[extension],
        extension=extension,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        original_name=original_name or f"上传文件.{extension}",
    )


def random_name(extension: str) -> str:
    """An unguessable file name for storage: 128 random bits and the given extension."""
    return f"{secrets.token_hex(16)}.{extension.lstrip('.')}"


def display_name(name: str) -> str:
    """The client's file name without folders or control characters, for display only."""
    base = os.path.basename(name.replace("\\", "/"))
    cleaned = "".join(c for c in base if unicodedata.category(c)[0] != "C")
    return cleaned.strip()[:200]


def _read(file: Any, limit: int) -> bytes:
    # Count the bytes actually read: the declared size of an upload can lie.
    file.seek(0)
    data = file.read(limit + 1)
    file.seek(0)
    if len(data) > limit:
        raise UploadRejected(f"文件过大：超过{format_size(limit)}")
    return data


def _detected_type(head: bytes, allowed: set[str]) -> str:
    kind = filetype.guess(head)
    if kind is None or kind.extension not in allowed or kind.extension not in _MIME:
        found = kind.extension if kind else "无法识别"
        raise UploadRejected(f"文件类型不允许：{found}（仅允许 {_allowed_text(allowed)}）")
    return kind.extension


def _refuse_foreign_suffix(name: str, extension: str, allowed: set[str]) -> None:
    suffix = os.path.splitext(name)[1].lstrip(".").lower()
    accepted = set().union(*(_SUFFIXES[a] for a in allowed if a in _SUFFIXES))
    if suffix and suffix not in accepted:
        raise UploadRejected(
            f"文件名后缀“.{suffix[:10]}”与文件内容（{extension.upper()}）不符"
            f"（仅允许 {_allowed_text(allowed)}）"
        )


def _allowed_text(allowed: Iterable[str]) -> str:
    order = [a for a in ("pdf", "jpg", "png") if a in set(allowed)]
    return "、".join(a.upper() for a in order)


# --- PDF ---------------------------------------------------------------------------------


def _check_pdf(data: bytes) -> None:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
    except Exception:  # pypdf raises many kinds on a broken file; all mean the same here
        raise UploadRejected(
            "PDF文件已损坏或格式不正确，无法打开，请重新扫描或导出后上传"
        ) from None
    if encrypted:
        raise UploadRejected("PDF文件已加密，请上传未加密的文件")
    try:
        pages = len(reader.pages)
        scripted = _has_script(reader.trailer)
    except Exception:
        raise UploadRejected(
            "PDF文件已损坏或格式不正确，无法打开，请重新扫描或导出后上传"
        ) from None
    if pages == 0:
        raise UploadRejected("PDF文件没有页面，请重新扫描或导出后上传")
    if scripted:
        raise UploadRejected("PDF文件含有脚本或自动执行的动作，不能上传，请另存为普通PDF后上传")
    try:
        # What the archive export does with it: every object copied into a new volume.
        normalized_pdf(data)
    except UnreadablePdf:
        raise UploadRejected(
            "PDF文件已损坏或格式不正确，无法打开，请重新扫描或导出后上传"
        ) from None


def _has_script(trailer: DictionaryObject) -> bool:
    """True if any object reachable from the trailer (catalog, names, pages, annotations,
    form fields, outlines) holds JavaScript, an additional action or another active action."""
    stack: list[Any] = [trailer]
    seen: set[tuple[int, int]] = set()
    visited = 0
    while stack:
        visited += 1
        if visited > _PDF_WALK_LIMIT:
            return True  # too big to check: refused rather than trusted
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            key = (obj.idnum, obj.generation)
            if key in seen:
                continue
            seen.add(key)
            obj = obj.get_object()
        if isinstance(obj, DictionaryObject):
            if _SCRIPT_KEYS.intersection(obj.keys()) or obj.get("/S") in _SCRIPT_ACTIONS:
                return True
            stack.extend(dict.values(obj))
        elif isinstance(obj, ArrayObject):
            stack.extend(list.__iter__(obj))
    return False


# --- Images ------------------------------------------------------------------------------


def _reencode_image(data: bytes, extension: str) -> bytes:
    pil_format = "JPEG" if extension == "jpg" else "PNG"
    broken = UploadRejected("图片文件已损坏或格式不正确，请重新拍摄或导出后上传")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in _PIL_FORMATS[extension]:
                    raise broken
                if probe.width * probe.height > _MAX_PIXELS:
                    raise UploadRejected("图片像素过多，请缩小后上传")
                probe.verify()
            # verify() leaves the image unusable: open again to decode every pixel.
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                upright = ImageOps.exif_transpose(image)
                return _encode(upright, pil_format)
    except UploadRejected:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise broken from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise broken from None


def _encode(image: Image.Image, pil_format: str) -> bytes:
    # Only the pixels are written again: no EXIF (it may hold the place), no comments, no trailer.
    out = io.BytesIO()
    if pil_format == "JPEG":
        if image.mode not in ("1", "L", "RGB", "CMYK"):
            image = image.convert("RGB")
        image.save(out, format="JPEG", quality=90)
    else:
        if image.mode not in ("1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"):
            image = image.convert("RGBA")
        image.save(out, format="PNG")
    return out.getvalue()


def _default_max_bytes() -> int:
    return int(getattr(settings, "UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES))


def format_size(size: int) -> str:
    """Write a byte count the way limits are announced: 10MB, 512KB, 100B."""
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= factor:
            return f"{round(size / factor, 1):g}{unit}"
    return f"{size}B"
