"""`dossier serve`: what an editor sees in the browser while changing content files."""

from __future__ import annotations

import http.client
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urljoin, urlsplit

import pytest
from click.testing import CliRunner

from dossier.cli import main
from dossier.core.diagnostics import DossierError
from helpers import ROOT, edit, generated_project, generated_site, snapshot

START_TIMEOUT = 30.0  # a hang guard for starting the server, not a performance bound
RELOAD_BOUND = 2.0  # the bound: a change is served and announced within 2 seconds
SETTLE_TIMEOUT = 10.0  # a hang guard for steps the issue sets no bound for


@dataclass
class Served:
    """A running `dossier serve` and what it printed."""

    process: subprocess.Popen[str]
    url: str  # of the site's home page, with the path prefix
    site: Path
    output: list[str] = field(default_factory=list)

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc

    def get(self, path: str) -> tuple[int, str]:
        """GET a raw path (sent exactly as given) and return the status and the body."""
        conn = http.client.HTTPConnection(self.host, timeout=10)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read().decode("utf-8", "replace")
        finally:
            conn.close()

    def page(self, rel: str) -> tuple[int, str]:
        return self.get(urlsplit(self.url).path + rel)


class EventStream:
    """Reads a server-sent event stream in a thread and keeps the events it saw."""

    def __init__(self, host: str, path: str) -> None:
        self.conn = http.client.HTTPConnection(host, timeout=30)
        self.conn.request("GET", path)
        self.response = self.conn.getresponse()
        self.events: queue.Queue[str] = queue.Queue()
        self.connected = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                if line.startswith("retry:"):
                    self.connected.set()
                if line.startswith("event: "):
                    self.events.put(line.removeprefix("event: "))
        except OSError:
            pass

    def close(self) -> None:
        self.conn.close()


def _pump(stream: IO[str], lines: list[str], ready: queue.Queue[str]) -> None:
    for line in stream:
        lines.append(line)
        if line.startswith("serving "):
            ready.put(line.split()[1])


@pytest.fixture
def served(base_site: Path) -> Iterator[Served]:
    """`dossier serve` on a free loopback port, as an editor starts it."""
    with subprocess.Popen(
        [sys.executable, "-m", "dossier", "serve", str(base_site), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as process:
        output: list[str] = []
        ready: queue.Queue[str] = queue.Queue()
        pumps = [threading.Thread(target=_pump, args=(stream, output, ready), daemon=True)
                 for stream in (process.stdout, process.stderr)]
        for pump in pumps:
            pump.start()
        try:
            url = ready.get(timeout=START_TIMEOUT)
        except queue.Empty:
            process.kill()
            pytest.fail("dossier serve did not start:\n" + "".join(output))
        yield Served(process, url, base_site, output)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=START_TIMEOUT) == 0, "".join(output)
        for pump in pumps:
            pump.join(timeout=START_TIMEOUT)
        printed = "".join(output)
        assert "Traceback" not in printed, printed


def _since(html: str) -> str:
    match = re.search(r'data-since="(\d+)"', html)
    assert match, "the served page has no reload script"
    return match.group(1)


def _poll(check: Callable[[], bool], timeout: float) -> bool:
    """Call `check` until it is true or `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def _title(served: Served, rel: str) -> str:
    status, html = served.page(rel)
    match = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    return f"{status} {match.group(1).strip() if match else ''}"


def test_serves_the_site_under_the_path_of_base_url(served: Served) -> None:
    assert urlsplit(served.url).path == "/test/"  # base_url https://databank.example.org/test/
    conn = http.client.HTTPConnection(served.host, timeout=10)
    conn.request("GET", "/")
    response = conn.getresponse()
    assert (response.status, response.getheader("Location")) == (302, "/test/")
    conn.close()
    status, html = served.page("projecten/project-een/")
    assert status == 200
    assert "Project één (gegenereerd)" in html
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert stylesheet, "the page links its stylesheet"
    css = urljoin(urlsplit(served.url).path + "projecten/project-een/", stylesheet.group(1))
    assert served.get(css)[0] == 200


def test_a_changed_title_is_served_and_announced_within_two_seconds(served: Served) -> None:
    status, html = served.page("projecten/project-een/")
    assert status == 200
    events = EventStream(served.host, f"/__dossier/events?since={_since(html)}")
    try:
        assert events.connected.wait(SETTLE_TIMEOUT)
        record = served.site / "content" / "projecten" / "project-een.md"
        record.write_text(record.read_text().replace(
            "titel: Project één (gegenereerd)", "titel: Project één, hernoemd (gegenereerd)"))
        assert _poll(lambda: "hernoemd" in _title(served, "projecten/project-een/"),
                     RELOAD_BOUND), _title(served, "projecten/project-een/")
        assert events.events.get(timeout=RELOAD_BOUND) == "reload"
    finally:
        events.close()


def test_broken_content_shows_in_the_page_until_it_is_fixed(served: Served) -> None:
    record = served.site / "content" / "projecten" / "project-een.md"
    good = record.read_text()
    _, html = served.page("projecten/project-een/")
    events = EventStream(served.host, f"/__dossier/events?since={_since(html)}")
    try:
        assert events.connected.wait(SETTLE_TIMEOUT)
        record.write_text(good.replace("titel: Project één (gegenereerd)", "titel: [kapot"))
        assert _poll(lambda: served.page("projecten/project-een/")[0] == 500, SETTLE_TIMEOUT)
        html = served.page("projecten/project-een/")[1]
        assert "content/projecten/project-een.md:3:" in html
        assert "YAML syntax error" in html
        assert served.page("")[0] == 500, "every page shows the errors, not a stale site"
        assert events.events.get(timeout=SETTLE_TIMEOUT) == "reload"
        assert _since(html), "the error page reloads by itself too"

        record.write_text(good)
        assert _poll(lambda: _title(served, "projecten/project-een/")
                     == "200 Project één (gegenereerd)", SETTLE_TIMEOUT)
        assert events.events.get(timeout=SETTLE_TIMEOUT) == "reload"
    finally:
        events.close()
    assert any("build failed: 1 error" in line for line in served.output)


CLIMBING_PATHS = [
    "/../etc/passwd",
    "/%2e%2e/",
    "/test/../../etc/passwd",
    "/test/%2e%2e/%2e%2e/etc/passwd",
    "/test/..%2f..%2fetc/passwd",
    "/test//etc/passwd",
    "/test/%2Fetc%2Fpasswd",
]


def test_never_serves_files_outside_the_output_folder(served: Served) -> None:
    answers = {path: served.get(path) for path in CLIMBING_PATHS}
    assert {path: status for path, (status, _) in answers.items()
            if status not in (400, 404)} == {}
    assert not [path for path, (_, body) in answers.items() if "root:" in body]


def test_build_output_on_disk_has_no_reload_script(served: Served) -> None:
    _, html = served.page("")
    assert "/__dossier/reload.js" in html, "the served page does have it"
    result = CliRunner().invoke(main, ["build", str(served.site), "--quiet"])
    assert result.exit_code == 0, result.output
    pages = list((served.site / "build").rglob("*.html"))
    assert pages
    assert not [p for p in pages if "__dossier" in p.read_text()]


def test_serve_writes_only_into_its_own_git_ignored_folders(example_site: Path) -> None:
    site = example_site  # over 50 pages: rendered in worker processes, which end quietly
    before = sorted(p.relative_to(site) for p in site.rglob("*"))
    with subprocess.Popen(
        [sys.executable, "-m", "dossier", "serve", str(site), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        lines = [process.stdout.readline(), process.stdout.readline()]
        assert lines[1].startswith("serving http://127.0.0.1:"), lines
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=START_TIMEOUT) == 0
        assert "Traceback" not in process.stderr.read()
    after = sorted(p.relative_to(site) for p in site.rglob("*"))
    added = {p.parts[0] for p in after if p not in before}
    assert added <= {".dossier-serve", ".dossier-cache"}, added
    assert ".dossier-serve" in added
    assert [p for p in before if p not in after] == []
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "/.dossier-serve/" in ignored and ".dossier-cache/" in ignored


def test_a_port_in_use_is_an_error_not_a_traceback(served: Served) -> None:
    port = urlsplit(served.url).port
    result = CliRunner().invoke(main, ["serve", str(served.site), "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.output


def test_an_added_and_a_deleted_record_are_served_and_gone(served: Served) -> None:
    folder = served.site / "content" / "projecten"
    source = (folder / "project-een.md").read_text()
    (folder / "project-vijf.md").write_text(source.replace(
        "titel: Project één (gegenereerd)", "titel: Project vijf (gegenereerd)"))
    assert _poll(lambda: _title(served, "projecten/project-vijf/")
                 == "200 Project vijf (gegenereerd)", SETTLE_TIMEOUT), "".join(served.output)
    assert _poll(lambda: "Project vijf" in served.page("a-z/")[1], SETTLE_TIMEOUT)
    (folder / "project-vijf.md").unlink()
    assert _poll(lambda: served.page("projecten/project-vijf/")[0] == 404, SETTLE_TIMEOUT)
    assert "Project vijf" not in served.page("a-z/")[1]


def test_saves_one_after_another_while_the_index_catches_up_are_all_served(
        served: Served) -> None:
    """Each save's pages render while the search index of the save before is made in a
    thread of the preview: every title is served in turn, and the preview keeps running."""
    record = served.site / "content" / "projecten" / "project-een.md"
    source = record.read_text()
    for n in range(20):
        record.write_text(source.replace("titel: Project één (gegenereerd)",
                                         f"titel: Project één, versie {n} (gegenereerd)"))
        assert _poll(lambda n=n: _title(served, "projecten/project-een/")
                     == f"200 Project één, versie {n} (gegenereerd)", SETTLE_TIMEOUT), \
            "".join(served.output)
    assert served.process.poll() is None, "".join(served.output)


def test_the_preview_reads_only_the_saved_file_and_renders_what_shows_it(
        base_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        documents_read: list[str]) -> None:
    """After the first build the site stays in memory: a save reads that one file, and
    renders the pages that read what changed (here: its body, on its page and in its
    dossier's printable page); the result is what a clean build makes."""
    from dossier.build import BuildOptions, build
    from dossier.preview.session import Session

    out = tmp_path / "preview"
    session = Session(base_site, BuildOptions(search=False), out)
    session.start()
    documents_read.clear()
    record = base_site / "content" / "projecten" / "project-twee.md"
    record.write_text(record.read_text().replace("Tekst.", "Andere tekst.", 1))
    result = session.update(["content/projecten/project-twee.md"])
    assert documents_read == ["content/projecten/project-twee.md"]
    assert result.rendered == 2
    monkeypatch.undo()
    build(base_site, BuildOptions(out=tmp_path / "clean", cache=False, search=False))
    assert snapshot(out) == snapshot(tmp_path / "clean")


def test_saves_one_after_another_leave_what_a_clean_build_makes(tmp_path: Path) -> None:
    """Each save copies the unchanged rows of the export files from the files the save
    before wrote: after saves that change the length of a row, the preview's exports are
    byte for byte a clean build's (they were cut at the first build's places: from the
    second save on, rows of other projects came out cut in the middle)."""
    from dossier.build import BuildOptions, build
    from dossier.preview.session import Session

    site = generated_site(tmp_path / "site", 40, organisations=8, words=40)
    out = tmp_path / "preview"
    session = Session(site, BuildOptions(search=False), out)
    session.start()
    for n, title in [(3, "een veel langere titel dan hij had"), (20, "kort"), (3, "weer")]:
        record = generated_project(site, n)
        edit(record, f"project {n:05d}", f"project {n:05d}: {title}")
        session.update([record.relative_to(site).as_posix()])
    session.close()
    build(site, BuildOptions(out=tmp_path / "clean", cache=False, search=False))
    assert snapshot(out / "data") == snapshot(tmp_path / "clean" / "data")


def test_a_save_keeps_the_records_of_the_files_it_did_not_touch(base_site: Path,
                                                                tmp_path: Path) -> None:
    """A record whose file was not saved is the record of the save before, with what was
    worked out of it (references, facet values, sort key): a save at 10,000 projects does
    not work that out again for every record."""
    from dossier.build import BuildOptions
    from dossier.preview.session import Session

    session = Session(base_site, BuildOptions(search=False), tmp_path / "preview")
    session.start()
    record = base_site / "content" / "projecten" / "project-twee.md"
    shown: list[dict[str, object]] = []
    for n in range(2):
        record.write_text(record.read_text().replace("Tekst", f"Tekst {n}", 1))
        session.update(["content/projecten/project-twee.md"])
        assert session.loaded is not None
        shown.append({r.path: r for r in session.loaded.site.all_records()})
    first, second = shown
    assert first.keys() == second.keys()
    assert [path for path in second if second[path] is not first[path]] == [
        "content/projecten/project-twee.md"]
    page = tmp_path / "preview" / "projecten" / "project-twee" / "index.html"
    assert "Tekst 1" in page.read_text()


def test_a_save_leaves_nothing_of_the_model_it_replaced(base_site: Path, tmp_path: Path) -> None:
    """Memory stays level over many saves: once a save is shown, the model it replaced is
    gone (it is garbage in reference cycles, which the collector would otherwise keep until
    many saves later: the preview's memory then climbed save by save)."""
    import weakref

    from dossier.build import BuildOptions
    from dossier.preview.server import Preview

    preview = Preview(base_site, BuildOptions(search=False), tmp_path / "preview")
    assert not isinstance(preview.rebuild(), DossierError)
    record = base_site / "content" / "projecten" / "project-twee.md"
    text = record.read_text()
    for n in range(3):
        assert preview.session.loaded is not None
        replaced = weakref.ref(preview.session.loaded.site)
        record.write_text(text.replace("Tekst.", f"Tekst {n}.", 1))
        assert not isinstance(preview.rebuild(["content/projecten/project-twee.md"]),
                              DossierError)
        assert replaced() is None, f"save {n + 1}: the model before it is still in memory"
    preview.close()


def test_open_pages_hear_of_a_save_before_the_collector_runs(
        base_site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After each save the preview collects the model it replaced, which holds the
    interpreter for as long as the walk takes (0.4 s at 10,000 projects): the open pages
    are sent their reload event first, so that time is not added to the editor's wait.
    (Whether a page was sent it is read from its socket, which the collector cannot hold
    up, as it would a thread of this process reading the stream.)"""
    import gc
    import select

    from dossier.build import BuildOptions
    from dossier.preview.server import serve
    from helpers import ServeReporter

    pages: list[http.client.HTTPConnection] = []
    streams: list[http.client.HTTPResponse] = []
    sent: list[list[bool]] = []  # per collection: whether each page had been sent anything
    collect = gc.collect

    def noted_collect(*args: int) -> int:
        sent.append([bool(select.select([s.fp], [], [], 0)[0]) for s in streams])
        return collect(*args)

    reporter, stop = ServeReporter(), threading.Event()
    thread = threading.Thread(target=serve, args=(base_site, BuildOptions(search=False),
                                                  "127.0.0.1", 0, reporter, stop), daemon=True)
    thread.start()
    try:
        assert reporter.ready.wait(START_TIMEOUT), "dossier serve did not start"
        host = urlsplit(reporter.url[0]).netloc
        for _ in range(3):
            page = http.client.HTTPConnection(host, timeout=SETTLE_TIMEOUT)
            page.request("GET", "/__dossier/events")
            streams.append(page.getresponse())
            assert streams[-1].fp.readline() == b"retry: 1000\n"
            assert streams[-1].fp.readline() == b"\n"
            pages.append(page)
        time.sleep(0.2)  # the pages wait for the next build
        monkeypatch.setattr(gc, "collect", noted_collect)
        record = base_site / "content" / "projecten" / "project-twee.md"
        record.write_text(record.read_text().replace("Tekst.", "Nieuwe tekst.", 1))
        assert _poll(lambda: bool(sent), SETTLE_TIMEOUT), "no build after the save"
        monkeypatch.undo()
        assert sent[0] == [True, True, True], "a page was sent nothing before the collection"
        assert all(s.fp.readline() == b"event: reload\n" for s in streams)
    finally:
        monkeypatch.undo()
        stop.set()
        thread.join(START_TIMEOUT)
        for page in pages:
            page.close()


def test_open_pages_are_told_of_a_save_when_its_pages_are_written_not_after_the_open_data(
        base_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The open data files of a large site take longest after a save (three files of
    60 MB each at 10,000 projects): open pages are told as soon as the pages are written,
    and the open data follows (each of its files swapped in whole)."""
    import dossier.build.sides
    from dossier.build import BuildOptions
    from dossier.preview.server import Preview

    out = tmp_path / "preview"
    preview = Preview(base_site, BuildOptions(search=False), out)
    assert not isinstance(preview.rebuild(), DossierError)
    write_files = dossier.build.sides.write_files

    def slow_open_data(*args: Any, **kwargs: Any) -> Any:
        time.sleep(3)
        return write_files(*args, **kwargs)

    monkeypatch.setattr(dossier.build.sides, "write_files", slow_open_data)
    record = base_site / "content" / "projecten" / "project-twee.md"
    record.write_text(record.read_text().replace("Project twee", "Project twee, bewerkt", 1))
    seen = (preview.generation, preview.indexed)
    saving = threading.Thread(target=preview.rebuild, args=(["content/projecten/project-twee.md"],))
    saving.start()
    assert preview.wait(seen, timeout=30) != seen
    page = (out / "projecten" / "project-twee" / "index.html").read_text()
    data = (out / "data" / "projecten.json").read_text()
    saving.join()
    preview.close()
    assert "Project twee, bewerkt" in page
    assert "Project twee, bewerkt" not in data, "told only after the open data was made"
    assert "Project twee, bewerkt" in (out / "data" / "projecten.json").read_text()
