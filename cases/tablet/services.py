"""Receiving the tablet's drafts: once per key, checked against the household's version, with the
server's own clock; and the signatures drawn on the glass.

A draft's owner writes its `apply`: validate everything first (raising DomainError), then make
the one service call, then write only what cannot be refused. `receive_draft` does not wrap it
in a savepoint, so the audit rows a refusing service writes on purpose are kept.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image

from accounts.models import Role, User
from dengkou_aid.errors import Conflict, DomainError, NotAllowed
from dengkou_aid.lib.idnumber import InvalidIdNumber, birth_date_from_id
from dengkou_aid.lib.uploads import CheckedUpload, UploadRejected, check_upload

from .. import api as case_api
from .. import services as case_services
from ..models import Case, CaseFile, FileCategory, Household
from . import selectors
from .models import DraftKind, GlassSignature, SignedDocument, SyncState, TabletSync

MAX_SIGNATURE_BYTES = 400_000
MAX_PHOTOS = 6
MAX_PHOTO_BYTES = 3 * 1024 * 1024
# A mark smaller than this (in pixels, either way) is a dot or a slip, not a signature.
MIN_SIGNATURE_EXTENT = 24
ADULT_AGE = 18


class DraftConflict(Conflict):
    """The household changed on the server after the device read it: nothing is applied."""

    def __init__(self, message: str, *, current: list[list[str]], version: str):
        super().__init__(message, field="base_version")
        self.current = current
        self.version = version


@dataclass
class Applied:
    """What an accepted draft made, as the device is told (again on every retry)."""

    case: Case | None = None
    object_id: int | None = None
    result: dict[str, Any] = field(default_factory=dict)


def payload_digest(payload: dict) -> str:
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


def parse_key(raw: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise DomainError("草稿编号无效，请在平板上重新保存草稿。", field="key") from None


def receive_draft(
    *,
    actor: User,
    key: uuid.UUID,
    kind: str,
    payload: dict,
    apply: Callable[[TabletSync], Applied],
    device: str = "",
    device_made_at: str = "",
) -> TabletSync:
    """Apply a draft once per key; a retry of an accepted draft gets the first answer back."""
    digest = payload_digest(payload)
    now = timezone.now()
    with transaction.atomic():
        # Two retries at once: the second insert waits on the unique key, then finds the first.
        receipt, _ = TabletSync.objects.select_for_update().get_or_create(
            key=key,
            defaults={
                "kind": kind,
                "user": actor,
                "payload_hash": digest,
                "state": SyncState.REFUSED,
                "received_at": now,
            },
        )
        if receipt.user_id != actor.pk or receipt.kind != kind:
            raise Conflict("该草稿编号已被使用，请在平板上重新保存草稿。", field="key")
        receipt.attempts += 1
        receipt.last_attempt_at = now
        if receipt.state == SyncState.ACCEPTED:
            if receipt.payload_hash != digest:
                raise Conflict(
                    "该草稿已同步，服务器已按首次提交的内容接收，不能再更改。", field="key"
                )
            receipt.save(update_fields=["attempts", "last_attempt_at"])
            return receipt
        receipt.payload_hash = digest
        receipt.device = device[:200]
        receipt.device_made_at = device_made_at[:40]
        try:
            applied = apply(receipt)
        except DraftConflict as conflict:
            receipt.state = SyncState.CONFLICT
            receipt.message = conflict.message
            receipt.result = {"current": conflict.current, "version": conflict.version}
        except DomainError as error:
            receipt.state = SyncState.REFUSED
            receipt.message = error.message
            receipt.result = {"field": error.field or "", "status": error.status}
        else:
            receipt.state = SyncState.ACCEPTED
            receipt.accepted_at = now
            receipt.message = ""
            receipt.case = applied.case
            receipt.object_id = applied.object_id
            receipt.result = applied.result
        receipt.save()
    return receipt


def household_conflict(household: Household, base_version: str) -> None:
    """Raise DraftConflict when the household is no longer as the device saw it."""
    fresh = selectors.fresh_household(household.pk)
    version = selectors.household_version(fresh)
    if base_version != version:
        raise DraftConflict(
            "该家庭的信息在您离线期间已在服务器上变更，草稿未提交。请对照变化后重新提交或放弃。",
            current=selectors.household_snapshot(fresh),
            version=version,
        )


# --- signatures on the glass ---------------------------------------------------------------


def decode_signature(data_url: str, *, name: str) -> bytes:
    """The PNG of a signature, refused when missing, not an image, or a single dot."""
    prefix = "data:image/png;base64,"
    if not isinstance(data_url, str) or not data_url.startswith(prefix):
        raise DomainError(f"{name}尚未签字。", field="signatures")
    try:
        data = base64.b64decode(data_url[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        raise DomainError(f"{name}的签字图像无效，请重新签字。", field="signatures") from None
    if len(data) > MAX_SIGNATURE_BYTES:
        raise DomainError(f"{name}的签字图像过大，请清除后重新签字。", field="signatures")
    width, height = ink_extent(data, name=name)
    if max(width, height) < MIN_SIGNATURE_EXTENT:
        raise DomainError(f"{name}的签字过短（只有一个点），请重新签字。", field="signatures")
    return data


def ink_extent(data: bytes, *, name: str) -> tuple[int, int]:
    """Width and height of the drawn part of the image (the pad exports a transparent PNG)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG":
                raise ValueError
            box = image.convert("RGBA").getchannel("A").getbbox()
    except (OSError, ValueError, Image.DecompressionBombError):
        raise DomainError(f"{name}的签字图像无效，请重新签字。", field="signatures") from None
    if box is None:
        return 0, 0
    return box[2] - box[0], box[3] - box[1]


def parse_signatures(raw: Any, *, names: list[str], text: str, text_hash: str) -> list[dict]:
    """Each adult signer's drawing, checked; the text shown must be the one the server sends."""
    if GlassSignature.sha256(text) != text_hash or text != selectors.CONSENT_TEXT:
        raise DomainError(
            "签字时显示的文书内容与服务器版本不一致，请重新签字。", field="signatures"
        )
    drawn = {s.get("name"): s for s in raw if isinstance(s, dict)} if isinstance(raw, list) else {}
    if not names:
        raise DomainError("请由申请人在平板上签字。", field="signatures")
    signatures = []
    for name in names:
        entry = drawn.get(name)
        if entry is None:
            raise DomainError(f"{name}尚未签字。", field="signatures")
        signatures.append(
            {
                "name": name,
                "image": decode_signature(entry.get("image", ""), name=name),
                "device_signed_at": str(entry.get("signed_at", ""))[:40],
            }
        )
    return signatures


def record_glass_signatures(
    *, actor: User, case: Case, signatures: list[dict], sync: TabletSync | None, text: str
) -> list[GlassSignature]:
    """Keep each drawing with the text shown and its hash; the assistant witnesses (signs)."""
    people = {p.name: p for p in case.household.members.all()}
    records = []
    for entry in signatures:
        image_hash = GlassSignature.sha256(entry["image"])
        text_hash = GlassSignature.sha256(text)
        records.append(
            GlassSignature.create_signed(
                signer=actor,
                role=Role.VILLAGE_ASSISTANT,
                over={
                    "case": case.number,
                    "document": SignedDocument.CONSENT,
                    "person": entry["name"],
                    "text_hash": text_hash,
                    "image_hash": image_hash,
                },
                case=case,
                document=SignedDocument.CONSENT,
                person=people.get(entry["name"]),
                person_name=entry["name"],
                document_text=text,
                text_hash=text_hash,
                image=entry["image"],
                image_hash=image_hash,
                device=sync.device if sync else "",
                device_signed_at=entry["device_signed_at"],
                sync=sync,
            )
        )
    return records


# --- photos taken with the draft -----------------------------------------------------------


def parse_photos(raw: Any) -> list[CheckedUpload]:
    """The draft's photos of materials, each checked as an upload is (type read from the bytes)."""
    if not raw:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_PHOTOS:
        raise DomainError(f"每份草稿最多附{MAX_PHOTOS}张照片。", field="photos")
    checked = []
    for number, photo in enumerate(raw, start=1):
        data_url = photo.get("data", "") if isinstance(photo, dict) else ""
        _, _, encoded = data_url.partition(";base64,")
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            data = b""
        try:
            upload = ContentFile(data, name=f"照片{number}.{_suffix(data_url)}")
            checked.append(check_upload(upload, allowed=("jpg", "png"), max_bytes=MAX_PHOTO_BYTES))
        except UploadRejected as error:
            raise DomainError(f"第{number}张照片：{error}", field="photos") from None
    return checked


def _suffix(data_url: str) -> str:
    return "png" if data_url.startswith("data:image/png") else "jpg"


def attach_photo(case: Case, photo: CheckedUpload, *, actor: User) -> CaseFile:
    return CaseFile.objects.create(
        case=case,
        category=FileCategory.MATERIAL,
        file=photo.content,
        original_name=photo.original_name,
        mime=photo.mime,
        size=photo.size,
        sha256=photo.sha256,
        uploaded_by=actor,
    )


# --- the entrusted application -------------------------------------------------------------


def application_applier(actor: User, payload: dict) -> Callable[[TabletSync], Applied]:
    """The entrusted application of a draft: validated as online, then filed, then signed."""

    def apply(receipt: TabletSync) -> Applied:
        village_id = payload.get("village")
        if not assistant_serves(actor, village_id):
            raise NotAllowed(
                "您已不再负责该嘎查村/社区，草稿未提交，仍保留在本机；请联系苏木镇（农场）经办人。",
                field="village",
            )
        with named_field():
            data = case_api.validate_input(case_api.ApplicationSerializer(data=payload))
        with named_field():
            adults = adult_names(data["members"])
        signatures = parse_signatures(
            payload.get("signatures"),
            names=adults,
            text=payload.get("consent_text", ""),
            text_hash=payload.get("consent_hash", ""),
        )
        photos = parse_photos(payload.get("photos"))
        if not actor.may_sign:
            raise NotAllowed("该账号不能见证签字。")
        with named_field():
            case = case_services.file_application(actor=actor, **data)
        records = record_glass_signatures(
            actor=actor, case=case, signatures=signatures, sync=receipt, text=selectors.CONSENT_TEXT
        )
        for photo in photos:
            attach_photo(case, photo, actor=actor)
        return Applied(
            case=case,
            object_id=case.pk,
            result={
                "label": f"申请已提交，案件编号 {case.number}",
                "number": case.number,
                "signatures": [r.pk for r in records],
                "photos": len(photos),
            },
        )

    return apply


def adult_names(members: list[dict]) -> list[str]:
    """Who must sign: every member 18 or older today by the ID number (the device is not asked)."""
    today = timezone.localdate()
    names = []
    for index, member in enumerate(members):
        try:
            born = birth_date_from_id(member["id_number"])
        except InvalidIdNumber as error:
            raise DomainError(
                f"{member['name']}：{error}。", field=f"members[{index}].id_number"
            ) from None
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        if age >= ADULT_AGE:
            names.append(member["name"])
    return names


@contextmanager
def named_field() -> Iterator[None]:
    """A refusal names its field as the online form does: 第1位家庭成员的公民身份号码：…"""
    try:
        yield
    except DomainError as error:
        label = case_api.field_label(case_api.ApplicationSerializer(), error.field or "")
        if label and not error.message.startswith(label):
            error.message = f"{label}：{error.message}"
        raise


def assistant_serves(user: User, village_id: Any) -> bool:
    return selectors.assistant_villages(user).filter(pk=as_int(village_id)).exists()


def as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def receive_application(*, actor: User, body: dict) -> TabletSync:
    """One entrusted application from the tablet."""
    payload = body.get("payload")
    if not isinstance(payload, dict):
        raise DomainError("草稿内容缺失。", field="payload")
    return receive_draft(
        actor=actor,
        key=parse_key(body.get("key")),
        kind=DraftKind.APPLICATION,
        payload=payload,
        apply=application_applier(actor, payload),
        device=str(body.get("device", "")),
        device_made_at=str(body.get("made_at", "")),
    )
