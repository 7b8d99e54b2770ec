"""Splitting an amount by weights, to the cent (DOMAIN §1, §5).

An invoice line is divided among lots by a distribution key (the quotas, or
a special key's weights); a lot's share of a call is divided among its
holders by their shares. The parts must add up to the whole to the cent,
and two devices must split the same way.

**Rounding rule** (largest remainder, deterministic): each part first gets
``floor(amount × weight / total)`` cents; the cents left over (fewer than
the number of parts) go one each to the parts with the largest remainders;
equal remainders are broken by the larger weight, then by the smaller id.
A negative amount (a credit note) is split as its opposite, then negated,
so that a credit note exactly undoes its invoice. Parts with weight 0 get 0.
"""

from __future__ import annotations

from collections.abc import Mapping

from ...errors import InputError
from ...i18n import _


def allocate(amount: int, weights: Mapping[str, int]) -> dict[str, int]:
    """``amount`` (cents) split by ``weights``; the parts sum to ``amount``."""
    if amount < 0:
        return {k: -v for k, v in allocate(-amount, weights).items()}
    total = sum(weights.values())
    if any(w < 0 for w in weights.values()):
        raise InputError(_("Weights of a distribution are zero or more."))
    if total == 0:
        raise InputError(_("Nothing to divide by: every weight of the key is zero."))
    parts = {}
    remainders = []
    for key, weight in weights.items():
        whole, remainder = divmod(amount * weight, total)
        parts[key] = whole
        remainders.append((-remainder, -weight, key))
    left = amount - sum(parts.values())
    for _remainder, _weight, key in sorted(remainders)[:left]:
        parts[key] += 1
    return parts
