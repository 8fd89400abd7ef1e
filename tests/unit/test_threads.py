"""Renderings in two threads keep their own reads and parts.

`dossier serve` brings the search index up to date in a thread of its own, rendering
result cards, while the next save's pages render in the main thread. Before the recordings
were kept per thread, a card's parts went into a page's collector and the preview died
with an IndexError on the second quick save.
"""

from __future__ import annotations

import threading

from dossier.core import deps
from dossier.render import parts


def _in_thread(step: object) -> None:
    thread = threading.Thread(target=step)  # type: ignore[arg-type]
    thread.start()
    thread.join()


def test_reads_in_another_thread_are_not_recorded_here() -> None:
    with deps.recording() as mine:
        deps.note(("f", "projecten", "een", "titel"))
        _in_thread(lambda: deps.note(("f", "projecten", "twee", "titel")))
        seen_elsewhere: list[bool] = []
        _in_thread(lambda: seen_elsewhere.append(deps.active()))
    assert mine == {("f", "projecten", "een", "titel")}
    assert seen_elsewhere == [False]


def test_a_part_shown_in_another_thread_stays_out_of_this_rendering() -> None:
    card = parts.Part.made("<p>kaart</p>", parts.Meta())
    outside: list[object] = []

    def page() -> str:
        _in_thread(lambda: outside.append(parts.finalize(card)))
        return f"<main>{parts.finalize(card)}</main>"

    shell, collector = parts.collect(page)
    assert len(collector.parts) == 1
    assert parts.assemble(shell, collector.parts) == "<main><p>kaart</p></main>"
    assert outside == [card]  # no rendering was going on in that thread
