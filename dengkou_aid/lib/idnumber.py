"""PRC resident ID numbers (GB 11643-1999): validation, derived facts, masking."""

import re
from datetime import date

from django.utils import timezone

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_EARLIEST_BIRTH = date(1900, 1, 1)
_DIGITS17 = re.compile(r"[0-9]{17}")
_CHECK = re.compile(r"[0-9X]")


class InvalidIdNumber(ValueError):
    """An ID number that fails GB 11643-1999; the message says why, in Chinese."""


def check_char(first17: str) -> str:
    """Return the ISO 7064 MOD 11-2 check character for 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def validate_id_number(value: str, *, today: date | None = None) -> str:
    """Return the 18-character ID number with an upper-case X, or raise InvalidIdNumber."""
    normalized = (value or "").strip().upper()
    if len(normalized) != 18:
        raise InvalidIdNumber("身份证号长度不是18位")
    if not _DIGITS17.fullmatch(normalized[:17]):
        raise InvalidIdNumber("身份证号前17位必须是数字")
    if not _CHECK.fullmatch(normalized[17]):
        raise InvalidIdNumber("身份证号末位只能是数字或X")
    # The birth date is checked before the check character: a mistyped birth date
    # also breaks the check character, and naming the date helps the clerk more.
    birth = _parse_birth(normalized[6:14])
    if birth is None or not _EARLIEST_BIRTH <= birth <= (today or timezone.localdate()):
        raise InvalidIdNumber("身份证号中的出生日期无效")
    if check_char(normalized[:17]) != normalized[17]:
        raise InvalidIdNumber("身份证号校验位错误")
    return normalized


def birth_date_from_id(value: str) -> date:
    """Return the birth date encoded in digits 7–14 of a valid ID number."""
    birth = _parse_birth(validate_id_number(value)[6:14])
    assert birth is not None  # validate_id_number has checked it
    return birth


def sex_from_id(value: str) -> str:
    """Return 'M' when the 17th digit is odd, 'F' when it is even."""
    return "M" if int(validate_id_number(value)[16]) % 2 else "F"


def mask_id_number(value: str) -> str:
    """Keep the first 4 and last 4 characters and mask the rest (1502**********1234)."""
    value = (value or "").strip()
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def make_id_number(
    region: str = "150822", birth: date = date(1980, 1, 1), seq: int = 0, sex: str = "M"
) -> str:
    """Build a valid ID number; seq 0–499 and sex pick the 3-digit order code."""
    if len(region) != 6 or not region.isdecimal():
        raise ValueError("region must be 6 digits")
    if not 0 <= seq <= 499:
        raise ValueError("seq must be between 0 and 499")
    if sex not in ("M", "F"):
        raise ValueError("sex must be 'M' or 'F'")
    order = seq * 2 + (1 if sex == "M" else 0)
    first17 = f"{region}{birth:%Y%m%d}{order:03d}"
    return first17 + check_char(first17)


def _parse_birth(digits: str) -> date | None:
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None
