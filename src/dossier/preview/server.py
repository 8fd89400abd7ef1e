"""Preview for editors: build, serve on localhost, rebuild on every change, reload open pages.

The site is built into `.dossier-serve/` (git-ignored), never into `build/` or content, and
its files on disk are those of a normal build: the reload script is added to HTML responses
as they are served. While the content has errors, every page shows them instead of a stale site, and
reloads by itself once the file is fixed. Only files inside the output folder are served.

The preview's build always has the web editor under admin/, saving through the local
backend (localbackend.py) that this server answers at `<site path>api/v1`, and only while
it listens on the loopback address: from any other machine nothing can be written.
"""

from __future__ import annotations

import dataclasses
import gc
import html
import json
import mimetypes
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, quote, unquote, urlsplit

import watchfiles

from dossier.build import BuildOptions, BuildResult
from dossier.content.documents import is_ignored
from dossier.content.load import load_config
from dossier.core.diagnostics import Diagnostic, DossierError
from dossier.core.urls import base_path
from dossier.preview.localbackend import (
    API,
    LocalBackend,
    Refused,
    is_loopback,
    request_problem,
)
from dossier.render.assets import THEME

# The preview's own output folder (SERVE_DIR/site): kept between sessions, so the build
# cache can reuse it and a restart is quick. Its lock and standby are in the build cache.
SERVE_DIR = ".dossier-serve"
# How long a build waits, at most, for the open pages to be sent its reload event before
# the collector runs (a page whose connection is stuck does not hold the next save up).
TELL_SECONDS = 0.5
SERVICE = "/__dossier/"  # outside every site: the reload script and its event stream
EVENTS = SERVICE + "events"
RELOAD_JS = SERVICE + "reload.js"
KEEPALIVE_SECONDS = 10.0  # an idle event stream says so this often, to notice closed tabs
SCRATCH = "saves"  # SERVE_DIR/saves: where the editor's saves are checked before writing
# Python's table does not know YAML everywhere; Decap reads its configuration only when it
# comes as YAML.
_TYPES = {".yml": "text/yaml", ".yaml": "text/yaml"}
INDEXING_ID = "dossier-zoekindex"  # the notice on the search page while its index catches up
SEARCH_PAGE = "zoeken/index.html"

_RELOAD_SCRIPT = f"""\
(function () {{
  var since = document.currentScript ? document.currentScript.dataset.since : "";
  var waiting = document.getElementById("{INDEXING_ID}") ? "&index=1" : "";
  var events = new EventSource("{EVENTS}?since=" + encodeURIComponent(since) + waiting);
  events.addEventListener("reload", function () {{ events.close(); location.reload(); }});
  events.addEventListener("indexed", function () {{ events.close(); location.reload(); }});
}})();
""".encode()


class ListenError(Exception):
    """The server cannot listen on the address it was given (port in use, no permission)."""


class Reporter(Protocol):
    """Told what the preview does, so the command line can say it."""

    def serving(self, url: str) -> None: ...

    def built(self, result: BuildResult, changed: list[str]) -> None: ...

    def failed(self, diagnostics: list[Diagnostic], changed: list[str]) -> None: ...


class Preview:
    """The site as the preview shows it and whether its last build failed; pages wait here
    for the next one. The site stays in memory between builds (session.py)."""

    def __init__(self, site_dir: Path, options: BuildOptions, out: Path) -> None:
        from dossier.preview.session import Session

        self.site_dir = site_dir
        self.out = out
        self.prefix = "/"
        self.generation = 0
        self.indexed = 0  # search indexes finished
        self.problems: list[Diagnostic] = []
        self.failed = False
        self.closing = False
        self.listening = 0  # pages waiting in `wait` for the next build
        self.told = 0  # pages told of the latest build
        self._changed = threading.Condition()
        # Held while the pipeline runs: a run keeps state in its modules (the render
        # pool's job, the parts made), so the editor's checks of a save wait for it.
        self.building = threading.Lock()
        self.session = Session(site_dir, options, out, indexed=self._indexed)

    @property
    def indexing(self) -> bool:
        """Whether the search index is being brought up to date."""
        return self.session.indexing.is_set()

    def rebuild(self, changed: list[str] | None = None) -> BuildResult | DossierError:
        """Build once more (only what `changed` files touch); tell waiting pages, whether
        it worked or not. After a failed build everything is built again. After a save
        the pages are told as soon as the pages are written and checked: the open data
        files follow, each swapped in whole (a visitor never sees half a file)."""
        told: list[int] = []  # how many pages were waiting when told early

        def pages_ready(warnings: list[Diagnostic]) -> None:
            told.append(self._tell(warnings, failed=False))

        try:
            with self.building:
                result: BuildResult | DossierError = self.session.start() \
                    if changed is None or self.failed \
                    else self.session.update(changed, pages_ready)
        except DossierError as exc:
            result = exc
        failed = isinstance(result, DossierError)
        problems = list(result.diagnostics if isinstance(result, DossierError)
                        else result.warnings)
        if failed or not told:
            told = [self._tell(problems, failed)]
        with self._changed:
            self.problems = problems
            # The collection below holds the interpreter for as long as it walks the
            # model (0.4 s at 10,000 projects): the pages waiting are told first.
            self._changed.wait_for(lambda: self.told >= told[-1] or self.closing,
                                   TELL_SECONDS)
        # The model this save replaced is garbage in reference cycles, which Python's
        # collector would only get to after many saves (a full collection waits until
        # the objects that survived collections grow by a quarter, and the first build
        # left a whole model behind): memory then climbed save by save. Collected now,
        # after the reload went out, memory stays level.
        gc.collect()
        return result

    def _tell(self, problems: list[Diagnostic], failed: bool) -> int:
        """A new build to show: the pages waiting for one are woken. Returns how many
        were waiting."""
        prefix = self._prefix()
        with self._changed:
            self.failed = failed
            self.problems = problems
            self.prefix = prefix
            self.generation += 1
            self.told = 0
            self._changed.notify_all()
            return self.listening

    def _indexed(self) -> None:
        with self._changed:
            self.indexed += 1
            self._changed.notify_all()

    def _prefix(self) -> str:
        """The path the site is served under: the path of base_url, as on the real server."""
        try:
            return base_path(load_config(self.site_dir).base_url)
        except DossierError:
            return self.prefix

    def wait(self, seen: tuple[int, int], timeout: float) -> tuple[int, int]:
        """(builds, indexes) after `seen`, or `seen` again when `timeout` passes first."""
        with self._changed:
            self.listening += 1
            try:
                self._changed.wait_for(lambda: (self.generation, self.indexed) != seen
                                       or self.closing, timeout)
            finally:
                self.listening -= 1
            return self.generation, self.indexed

    def told_of(self, generation: int) -> None:
        """A page was sent the reload event of build `generation`."""
        with self._changed:
            if generation == self.generation:
                self.told += 1
                self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            self.closing = True
            self._changed.notify_all()
        self.session.close()


@dataclass(frozen=True)
class Target:
    """What a request path leads to: a file, a redirect, or an HTTP error status."""

    status: int
    file: Path | None = None
    location: str = ""


def resolve(root: Path, prefix: str, raw_path: str) -> Target:
    """Map a request path to a file inside `root`; anything that would leave it is refused."""
    path = unquote(urlsplit(raw_path).path)
    if "\x00" in path or "\\" in path:
        return Target(400)
    if not path.startswith(prefix):
        if path in ("", "/") or path + "/" == prefix:
            return Target(302, location=prefix)
        return Target(404)
    rel = path[len(prefix):]
    if rel.startswith("/") or any(part in (".", "..") for part in rel.split("/")):
        return Target(400)
    candidate = root / rel
    if candidate.is_dir():
        if rel and not rel.endswith("/"):
            return Target(301, location=quote(f"{prefix}{rel}/"))
        candidate = candidate / "index.html"
    try:
        real = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        return Target(404)
    if not real.is_relative_to(root.resolve()) or not real.is_file():
        return Target(404)  # a symbolic link out of the output folder
    return Target(200, real)


def with_reload(page: bytes, generation: int) -> bytes:
    """An HTML page with the reload script before `</body>` (or at its end)."""
    tag = f'<script src="{RELOAD_JS}" data-since="{generation}"></script>'.encode()
    at = page.lower().rfind(b"</body>")
    return page[:at] + tag + page[at:] if at >= 0 else page + tag


def with_notice(page: bytes) -> bytes:
    """The search page with a notice that its index is being brought up to date (it
    reloads by itself when that is done)."""
    notice = (f'<p id="{INDEXING_ID}" class="search-notice" role="status">De zoekindex wordt '
              "bijgewerkt; deze pagina laadt vanzelf opnieuw als dat klaar is.</p>").encode()
    at = page.find(b"<main")
    end = page.find(b">", at) + 1 if at >= 0 else -1
    return page[:end] + notice + page[end:] if end > 0 else notice + page


def error_page(site_dir: Path, problems: Iterable[Diagnostic]) -> str:
    """A page listing the diagnostics of a failed build, each with the line it points at."""
    items = []
    shown = list(problems)
    for d in shown:
        line = source_line(site_dir, d.path, d.line)
        excerpt = f"<pre>{d.line:>5} | {html.escape(line)}</pre>" if line else ""
        severity = "fout" if d.is_error else "waarschuwing"
        items.append(f"<li><code>{html.escape(f'{d.path}:{d.line}:{d.column}')}</code> "
                     f"<strong>{severity}</strong>: {html.escape(d.text)}{excerpt}</li>")
    count = sum(d.is_error for d in shown)
    return _ERROR_PAGE.format(count=count, plural="" if count == 1 else "en",
                              items="\n".join(items))


def source_line(site_dir: Path, rel: str, number: int) -> str:
    """Line `number` of a file of the site, or '' if it cannot be shown."""
    file = (site_dir / rel).resolve()
    if not file.is_relative_to(site_dir.resolve()) or not file.is_file():
        return ""
    try:
        with open(file, encoding="utf-8", errors="replace") as handle:
            for i, text in enumerate(handle, start=1):
                if i == number:
                    return text.rstrip("\n")
    except OSError:
        pass
    return ""


_ERROR_PAGE = """\
<!DOCTYPE html>
<html lang="nl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fout in de inhoud · dossier serve</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto;
  padding: 0 1rem; line-height: 1.5; }}
h1 {{ color: #a4161a; }}
li {{ margin-bottom: 1rem; }}
pre {{ background: #f3f5f8; color: #1b1b1b; padding: 0.5rem; overflow-x: auto; }}
</style>
</head>
<body>
<main>
<h1>De site kan niet worden gebouwd</h1>
<p>dossier vond {count} fout{plural} in de inhoud. Verbeter het bestand en sla het op:
deze pagina laadt dan vanzelf opnieuw.</p>
<ol>
{items}
</ol>
</main>
</body>
</html>
"""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    preview: Preview
    # The web editor's local backend: only when listening on the loopback address.
    backend: LocalBackend | None = None

    def __init__(self, address: tuple[str, int]) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    @property
    def bound(self) -> tuple[str, int]:
        host, port = self.server_address[:2]
        return _url_host(str(host)), int(port)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "dossier-serve"

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def do_POST(self) -> None:
        """The web editor's local backend; nothing else takes a POST."""
        preview, backend = self.server.preview, self.server.backend
        path = urlsplit(self.path).path
        if path not in (preview.prefix + API, "/" + API):
            self._send(404, "text/plain; charset=utf-8", b"not found\n", True)
            return
        try:
            if backend is None:
                raise Refused(403, "Bewerken kan alleen als dossier serve alleen op dit "
                                   "apparaat luistert (--host 127.0.0.1).")
            length = self.headers.get("Content-Length")
            size = int(length) if length is not None and length.isdigit() else None
            problem = request_problem(self.headers.get, self.server.bound, size)
            if problem is not None:
                raise problem
            assert size is not None
            answer = backend.answer(self.rfile.read(size))
        except Refused as refused:
            self.close_connection = True  # a refused body may not have been read
            self._json(refused.status, {"error": refused.message,
                                        "diagnostics": refused.diagnostics})
            return
        self._json(200, answer)

    def _json(self, status: int, data: object) -> None:
        self._send(status, "application/json; charset=utf-8",
                   json.dumps(data, ensure_ascii=False).encode(), True)

    def log_message(self, format: str, *args: object) -> None:
        """Requests are not logged: the terminal is for build results."""

    def _respond(self, send_body: bool) -> None:
        preview = self.server.preview
        url = urlsplit(self.path)
        if url.path == EVENTS:
            self._events(url.query)
            return
        if url.path == RELOAD_JS:
            self._send(200, "text/javascript; charset=utf-8", _RELOAD_SCRIPT, send_body)
            return
        target = resolve(preview.out, preview.prefix, self.path)
        if target.location:
            self.send_response(target.status)
            self.send_header("Location", target.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if target.status == 400:
            self._send(400, "text/plain; charset=utf-8", b"bad request path\n", send_body)
            return
        is_page = target.file is None or target.file.suffix == ".html"
        # The editor stays open while the content has errors: it is one way to mend them.
        editor = target.file is not None and target.file.is_relative_to(
            preview.out.resolve() / "admin")
        if preview.failed and is_page and not editor:
            page = error_page(preview.site_dir, preview.problems).encode()
            self._send(500, "text/html; charset=utf-8",
                       with_reload(page, preview.generation), send_body)
            return
        self._file(target, preview, send_body)

    def _file(self, target: Target, preview: Preview, send_body: bool) -> None:
        status, file = target.status, target.file
        if file is None:
            file = preview.out / "404.html"
        try:
            data = file.read_bytes()
        except OSError:  # gone between resolving and reading: a rebuild swapped it out
            status, data = 404, b"<!DOCTYPE html><title>404</title><h1>404</h1>"
        kind = _TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0] \
            or "application/octet-stream"
        if kind == "text/html":
            if preview.indexing and file == preview.out / SEARCH_PAGE:
                data = with_notice(data)
            data = with_reload(data, preview.generation)
        if kind.startswith("text/") or kind in ("application/json", "application/xml",
                                                "application/javascript"):
            kind += "; charset=utf-8"
        self._send(status, kind, data, send_body)

    def _send(self, status: int, kind: str, data: bytes, send_body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if send_body:
            self.wfile.write(data)

    def _events(self, query: str) -> None:
        """Server-sent events: 'reload' whenever a build newer than the page's finishes."""
        preview = self.server.preview
        asked = parse_qs(query)
        since = asked.get("since", [""])[0]
        seen = (int(since) if since.isdigit() else preview.generation, preview.indexed)
        index = asked.get("index") == ["1"]  # the search page, waiting for its index
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        try:
            self.wfile.write(b"retry: 1000\n\n")
            self.wfile.flush()
            while not preview.closing:
                now = preview.wait(seen, KEEPALIVE_SECONDS)
                if now[0] != seen[0]:
                    self.wfile.write(f"event: reload\ndata: {now[0]}\n\n".encode())
                    self.wfile.flush()
                    preview.told_of(now[0])
                # Both may have changed while this waited: the search page reloads on the
                # first, and a listener that waits for the index still hears of it.
                if now[1] != seen[1] and index:
                    self.wfile.write(f"event: indexed\ndata: {now[1]}\n\n".encode())
                if now == seen:
                    self.wfile.write(b": still here\n\n")
                seen = now
                self.wfile.flush()
        except OSError:  # the page was closed or reloaded
            return


def watched_folders(site_dir: Path) -> list[Path]:
    """What a rebuild depends on: the content, the site's templates and the built-in theme."""
    folders = [site_dir / "content", site_dir / "templates", THEME]
    return [f for f in folders if f.is_dir()]


class _ContentFilter(watchfiles.DefaultFilter):
    """watchfiles' defaults, and the files the loader ignores too (editor backups, …)."""

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        return super().__call__(change, path) and not is_ignored(Path(path).name)


def serve(site_dir: Path, options: BuildOptions, host: str, port: int, reporter: Reporter,
          stop: threading.Event | None = None) -> None:
    """Serve the site until interrupted (or until `stop` is set), rebuilding on changes."""
    try:
        server = _Server((host, port))
    except OSError as exc:
        raise ListenError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    local = is_loopback(str(server.server_address[0]))
    preview = Preview(site_dir, dataclasses.replace(options, admin_local=local),
                      site_dir / SERVE_DIR / "site")
    server.preview = preview
    if local:
        server.backend = LocalBackend(site_dir, options, site_dir / SERVE_DIR / SCRATCH,
                                      preview.building)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    try:
        _report(reporter, preview.rebuild(), [])
        thread.start()
        bound_host, bound_port = server.server_address[:2]
        reporter.serving(f"http://{_url_host(str(bound_host))}:{bound_port}{preview.prefix}")
        caught_up = False
        for changes in watchfiles.watch(*watched_folders(site_dir), watch_filter=_ContentFilter(),
                                        stop_event=stop, yield_on_timeout=True,
                                        rust_timeout=1000):
            changed = changed_files(changes, site_dir)
            if not changes and not caught_up:  # saved before the watcher began to watch
                changed, caught_up = preview.session.missed(), True
            if changed:
                _report(reporter, preview.rebuild(changed), changed)
    finally:
        preview.close()
        if thread.is_alive():
            server.shutdown()
        server.server_close()


def _report(reporter: Reporter, outcome: BuildResult | DossierError, changed: list[str]) -> None:
    if isinstance(outcome, DossierError):
        reporter.failed(outcome.diagnostics, changed)
    else:
        reporter.built(outcome, changed)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def changed_files(changes: Iterable[tuple[watchfiles.Change, str]], site_dir: Path) -> list[str]:
    """The files that changed, without those an editor created and removed in one save."""
    kinds: dict[str, set[watchfiles.Change]] = {}
    for change, path in changes:
        kinds.setdefault(path, set()).add(change)
    passing = {watchfiles.Change.added, watchfiles.Change.deleted}
    return sorted(_shown(Path(p), site_dir) for p, k in kinds.items() if not passing <= k)


def _shown(path: Path, site_dir: Path) -> str:
    """A changed file as the editor knows it: relative to the site where possible."""
    try:
        return path.resolve().relative_to(site_dir.resolve()).as_posix()
    except ValueError:
        return str(path)
