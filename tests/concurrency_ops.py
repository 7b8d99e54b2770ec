"""Random registry edits for convergence tests (local and through the relay)."""

from __future__ import annotations

from hypothesis import strategies as st

from node.domain.registry import LotType
from node.errors import InputError
from node.session import Session

NUMBERS = ["1", "2", "3", "4"]
NAMES = ["Ann", "Bob", "Chloé"]

operation = st.one_of(
    st.tuples(st.just("add_lot"), st.sampled_from(NUMBERS), st.integers(0, 500)),
    st.tuples(st.just("quota"), st.sampled_from(NUMBERS), st.integers(0, 500)),
    st.tuples(st.just("floor"), st.sampled_from(NUMBERS), st.integers(-1, 9)),
    st.tuples(st.just("delete_lot"), st.sampled_from(NUMBERS), st.just(0)),
    st.tuples(st.just("add_person"), st.sampled_from(NAMES), st.just(0)),
    st.tuples(st.just("owner"), st.sampled_from(NUMBERS), st.integers(1, 100)),
    st.tuples(st.just("key"), st.sampled_from(NUMBERS), st.integers(0, 9)),
    st.tuples(st.just("association"), st.sampled_from(NAMES), st.integers(1, 2000)),
)


def apply_op(session: Session, op: tuple[str, str, int]) -> None:
    kind, arg, n = op
    registry = session.registry
    try:
        if kind == "add_lot":
            registry.add_lot(arg, LotType.APARTMENT, n)
        elif kind == "quota":
            registry.update_lot(arg, quota=n)
        elif kind == "floor":
            registry.update_lot(arg, floor=n)
        elif kind == "delete_lot":
            registry.delete_lot(arg)
        elif kind == "add_person":
            registry.add_person(arg)
        elif kind == "owner":
            persons = registry.read().persons
            if persons:
                person = persons[n % len(persons)]
                registry.set_owner(arg, person.id, n * 100, voting=n % 2 == 0)
        elif kind == "key":
            keys = registry.read().keys
            if keys:
                weights = {**keys[0].weights, registry.find_lot(arg).id: n}
                registry.update_key(keys[0].id, weights=weights)
            else:
                registry.add_key("Lift", {arg: n})
        elif kind == "association":
            registry.set_association(name=f"ACP {arg}", quota_total=n)
    except InputError:
        pass  # not possible on this replica right now (e.g. unknown lot): as for a user
