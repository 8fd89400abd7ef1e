"""The packed dependencies of an output file, and the search for changed ids in them."""

from __future__ import annotations

import random
import sys

from dossier.core.deps import _FEW, dep_id, pack, reads_any


def test_an_id_is_found_only_where_it_starts_not_across_two_ids() -> None:
    """An id's bytes can stand in the packed bytes across the end of one id and the start
    of the next: that is no read of it (the build would make the page again for nothing,
    or, worse, a search that took it for one would find ids that were never read)."""
    first, second = 0x1122334455667788, 0x99AABBCCDDEEFF00 - (1 << 64)
    packed = b"".join(i.to_bytes(8, sys.byteorder, signed=True) for i in (first, second))
    across = int.from_bytes(packed[4:12], sys.byteorder, signed=True)
    assert reads_any(packed, {first}) and reads_any(packed, {second})
    assert not reads_any(packed, {across})


def test_the_search_answers_as_the_set_of_read_ids_does() -> None:
    rng = random.Random(25)
    ids = [dep_id(("f", "projecten", f"p{n}", "titel")) for n in range(300)]
    for _ in range(300):
        read = set(rng.sample(ids, rng.randrange(0, 40)))
        packed = pack(("f", "projecten", f"p{ids.index(i)}", "titel") for i in read)
        found = set(rng.sample(ids, rng.choice([1, 2, 5, _FEW, _FEW + 1, 60])))
        assert reads_any(packed, found) == (not read.isdisjoint(found))
