"""Build the Pagefind search bundle from search entries, with byte-identical output.

Pagefind (1.5) writes its filter files and the list of filters in its metadata in hash-map
order, which changes from run to run although the content is the same. `canonical()` sorts
those lists and renames the files after their new content, so the same entries always give
the same bytes (and an unchanged site uploads nothing new). Anything it does not recognise
it leaves exactly as Pagefind wrote it.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import json
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dossier.core.diagnostics import Diagnostic, DossierError
from dossier.search import cbor as _cbor
from dossier.search.entries import SearchEntry

FOLDER = "pagefind"
SIGNATURE = b"pagefind_dcd"
# Pagefind's own ready-made interfaces: the theme has its own, so these are not published.
_UNUSED = ("pagefind-ui.", "pagefind-modular-ui.", "pagefind-component-ui.",
           "pagefind-highlight.")
# Pagefind's program for the browser, the same in every bundle of one version and language.
LOADER = ("pagefind.js", "pagefind-worker.js", "wasm.")


def is_loader(rel: str) -> bool:
    """Whether a file of a bundle (relative to its folder) is part of Pagefind's loader."""
    return "/" not in rel and rel.startswith(LOADER)


def bundle(found: Iterable[SearchEntry], lang: str) -> dict[str, bytes]:
    """The search bundle's files (paths relative to the site), built by Pagefind."""
    # Pagefind may still be writing into it when a preview is stopped during indexing.
    with tempfile.TemporaryDirectory(prefix="dossier-search-",
                                     ignore_cleanup_errors=True) as scratch:
        with _Service(_executable()) as service:
            index = service.request({"type": "NewIndex", "config": None})["index_id"]
            # Keys sorted: an entry taken from the build cache has its fields in another
            # order than a fresh one, and the bundle must not tell them apart.
            service.requests({
                "type": "AddRecord", "index_id": index, "url": entry.url,
                "content": entry.content, "language": lang,
                "meta": dict(sorted(entry.meta.items())),
                "filters": dict(sorted(entry.filters.items())),
                "sort": dict(sorted(entry.sort.items())),
            } for entry in found)
            service.request({"type": "WriteFiles", "index_id": index, "output_path": scratch})
            _wait_until_written(Path(scratch))
        files = {p.relative_to(scratch).as_posix(): p.read_bytes()
                 for p in sorted(Path(scratch).rglob("*")) if p.is_file()}
    _complete(files)
    files = {rel: data for rel, data in files.items() if not rel.startswith(_UNUSED)}
    return {f"{FOLDER}/{rel}": data for rel, data in sorted(canonical(files).items())}


def _wait_until_written(folder: Path, timeout: float = 120.0) -> None:
    """Pagefind may answer WriteFiles before its files are all on disk: wait until they are.

    Done when the entry file names an index whose metadata exists and no file has changed
    size for a moment.
    """
    deadline = time.monotonic() + timeout
    previous: dict[str, int] = {}
    while time.monotonic() < deadline:
        sizes = {p.as_posix(): p.stat().st_size for p in folder.rglob("*") if p.is_file()}
        files = {p.relative_to(folder).as_posix(): b"" for p in folder.rglob("*.pf_meta")}
        entry = folder / "pagefind-entry.json"
        if entry.is_file() and sizes == previous:
            files["pagefind-entry.json"] = entry.read_bytes()
            try:
                _complete(files)
                return
            except DossierError:
                pass
        previous = sizes
        time.sleep(0.05)


def _complete(files: dict[str, bytes]) -> None:
    """Refuse an index that Pagefind did not finish (it would break search on the site)."""
    try:
        entry = json.loads(files.get("pagefind-entry.json", b""))
        hashes = [lang["hash"] for lang in entry["languages"].values()]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise _problem("Pagefind wrote an incomplete index (no pagefind-entry.json)") from None
    for code in hashes:
        if f"pagefind.{code}.pf_meta" not in files:
            raise _problem(f"Pagefind wrote an incomplete index (no pagefind.{code}.pf_meta)")


def signature() -> str:
    """What identifies the Pagefind program in use (its path, size and time), or raise."""
    program = Path(_executable())
    try:
        stat = program.stat()
    except OSError as exc:
        raise _problem(f"cannot start Pagefind ({program}): {exc.strerror}") from None
    return f"{program}:{stat.st_size}:{stat.st_mtime_ns}"


def _executable() -> str:
    try:
        from pagefind.service import get_executable
    except ImportError:
        raise _problem("the Python package 'pagefind' is not installed") from None
    found = get_executable()
    if found is None:
        raise _problem("the Pagefind program is missing; install 'pagefind[bin]'")
    return str(found)


class _Service:
    """Pagefind's indexing service (`pagefind --service`), the program behind its Python API.

    Messages are base64-encoded JSON, each followed by a comma. The Python wrapper polls for
    one answer every 0.1 s, which makes 1,000 records take 100 s; this client writes the
    requests from one thread and reads the answers as they come.
    """

    def __init__(self, executable: str) -> None:
        self.executable = executable
        self.next_id = 0
        self.buffer = b""

    def __enter__(self) -> _Service:
        try:
            self.process = subprocess.Popen(
                [self.executable, "--service"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL)
        except OSError as exc:
            raise _problem(f"cannot start Pagefind ({self.executable}): {exc.strerror}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.process.stdin is not None
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        # Pagefind finishes writing its files before it exits: wait for that (a busy machine
        # can take a while); killing it early leaves a half-written index.
        try:
            self.process.wait(timeout=600)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        assert self.process.stdout is not None
        self.process.stdout.close()

    def request(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Send one request and return its answer."""
        return self.requests([payload])[-1]

    def requests(self, payloads: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send many requests while reading their answers; raise on the first error.

        The payloads are made and sent by a thread while this one reads the answers, so
        Pagefind indexes one record while the next is being made, and no more than one
        encoded request is held at a time.
        """
        first = self.next_id + 1
        sent: list[int] = []  # the last id sent, once everything is sent
        failed: list[BaseException] = []
        writer = threading.Thread(target=self._write, args=(payloads, sent, failed),
                                  daemon=True)
        writer.start()
        by_id: dict[int, dict[str, Any]] = {}
        while True:
            if len(by_id) < self.next_id - first + 1:  # an answer is due
                message_id, answer = self._read()
                if message_id >= first:
                    by_id[message_id] = answer
            elif sent:
                break
            else:
                time.sleep(0.001)  # the next request is still being made
        writer.join()
        if failed:
            raise failed[0]
        answers = [by_id[i] for i in range(first, self.next_id + 1)]
        for answer in answers:
            if answer.get("type") == "Error":
                raise _problem(f"Pagefind failed: {answer.get('message', answer)}")
        return answers

    def _encode(self, payload: dict[str, Any]) -> bytes:
        self.next_id += 1
        message = {"message_id": self.next_id, "payload": payload}
        return base64.b64encode(json.dumps(message).encode("utf-8")) + b","

    def _write(self, payloads: Iterable[dict[str, Any]], sent: list[int],
               failed: list[BaseException]) -> None:
        assert self.process.stdin is not None
        try:
            for payload in payloads:
                self.process.stdin.write(self._encode(payload))
            self.process.stdin.flush()
        except OSError:
            pass  # the reader reports a service that died
        except BaseException as exc:  # making a payload failed: report it from the reader
            failed.append(exc)
        finally:
            sent.append(self.next_id)

    def _read(self) -> tuple[int, dict[str, Any]]:
        """The next answer and the id of the request it answers."""
        assert self.process.stdout is not None
        while b"," not in self.buffer:
            chunk = os.read(self.process.stdout.fileno(), 1 << 16)
            if not chunk:
                raise _problem("Pagefind stopped unexpectedly")
            self.buffer += chunk
        message, _, self.buffer = self.buffer.partition(b",")
        decoded = json.loads(base64.b64decode(message))
        answer: dict[str, Any] = decoded["payload"]
        return int(decoded.get("message_id") or 0), answer


def _problem(message: str) -> DossierError:
    return DossierError([Diagnostic("content", 1, 1, "error", "",
                                     f"search index: {message}; or build with --no-search")])


def canonical(files: dict[str, bytes]) -> dict[str, bytes]:
    """Pagefind's files with filter lists sorted and files renamed after their content."""
    try:
        entry = json.loads(files["pagefind-entry.json"])
        languages = entry["languages"]
    except (KeyError, ValueError):
        return files
    result = dict(files)
    for lang, info in sorted(languages.items()):
        meta_name = f"pagefind.{info['hash']}.pf_meta"
        if meta_name not in files:
            return files
        try:
            meta = _unpack(files[meta_name])
            renamed = _sort_filters(meta, files, result, lang)
        except (_cbor.CborError, ValueError, TypeError, KeyError, IndexError):
            return files
        if not renamed:
            continue
        data = _pack(meta)
        new_hash = _unique_hash(lang, data, 10, set())
        del result[meta_name]
        result[f"pagefind.{new_hash}.pf_meta"] = data
        info["hash"] = new_hash
    result["pagefind-entry.json"] = json.dumps(
        entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return result


def _sort_filters(meta: list[Any], files: dict[str, bytes], result: dict[str, bytes],
                  lang: str) -> bool:
    """Sort the filter files named in `meta` (Pagefind's metadata) and the list of them."""
    if not (isinstance(meta, list) and len(meta) >= 5 and isinstance(meta[3], list)):
        raise ValueError("unknown Pagefind metadata layout")
    taken: set[str] = set()
    filters = []
    for name, old_hash in meta[3]:
        old_path = f"filter/{old_hash}.pf_filter"
        index = _unpack(files[old_path])
        if not (isinstance(index, list) and len(index) == 2 and index[0] == name):
            raise ValueError("unknown Pagefind filter layout")
        index[1] = sorted(index[1], key=lambda pair: pair[0])
        data = _pack(index)
        new_hash = _unique_hash(lang, data, 7, taken)
        del result[old_path]
        result[f"filter/{new_hash}.pf_filter"] = data
        filters.append([name, new_hash])
    meta[3] = sorted(filters)
    meta[4] = sorted(meta[4], key=lambda pair: pair[0])
    return True


def _unpack(data: bytes) -> Any:
    raw = gzip.decompress(data)
    if not raw.startswith(SIGNATURE):
        raise ValueError("not a Pagefind index file")
    return _cbor.loads(raw[len(SIGNATURE):])


def _pack(value: Any) -> bytes:
    return gzip.compress(SIGNATURE + _cbor.dumps(value), compresslevel=9, mtime=0)


def _unique_hash(lang: str, data: bytes, length: int, taken: set[str]) -> str:
    digest = hashlib.sha256(gzip.decompress(data)).hexdigest()
    while f"{lang}_{digest[:length]}" in taken and length < len(digest):
        length += 1
    name = f"{lang}_{digest[:length]}"
    taken.add(name)
    return name
