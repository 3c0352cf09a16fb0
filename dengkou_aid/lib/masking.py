"""Masking of personal data for publicity lists and screens."""


def mask_name(name: str) -> str:
    """Keep the first and last characters of a 3+ character name, the surname of a 2-character one."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_account(value: str) -> str:
    """Keep the last 4 characters of an account number and mask the rest."""
    value = _compact(value)
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]


def mask_phone(value: str) -> str:
    """Keep the first 3 and last 4 digits of a phone number (138****5678)."""
    value = _compact(value)
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def _compact(value: str) -> str:
    return "".join(ch for ch in (value or "") if ch not in " -\u3000")
