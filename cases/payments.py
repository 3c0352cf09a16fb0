"""What a case's household is paid now, as the payment layer above tells it.

The cases layer does not read payments; the disbursement app registers the one function
that answers "the amount in force this month, and any change ahead" (`disbursement.in_force`)
and the case page and the public list ask through here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

AmountsProvider = Callable[[Iterable[int]], dict[int, Any]]
_provider: list[AmountsProvider] = []


def register_amounts(provider: AmountsProvider) -> AmountsProvider:
    """Set the function mapping case ids to their shown amount (has `.amount` and `.ahead`)."""
    _provider[:] = [provider]
    return provider


def amounts_for_cases(case_ids: Iterable[int]) -> dict[int, Any]:
    return _provider[0](case_ids) if _provider else {}
