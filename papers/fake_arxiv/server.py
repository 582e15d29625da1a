"""The fake arXiv HTTP server: entries in memory, Atom out, faults on demand."""

import bisect
import gzip
import json
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape, quoteattr

from . import query as q

SAMPLE_MONTH = Path(__file__).resolve().parent.parent / "sample_data" / "2025-06.jsonl.gz"
_ID = re.compile(r"^(?:\d{4}\.\d{4,5}|[a-z][a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?$")
_FEED_HEAD = (
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
    'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">\n'
)


def _iso(value):
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _when(value):
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def normalize_entry(raw):
    """An entry dict as the server keeps it, from JSON (sample data) or Python (tests)."""
    authors = []
    for author in raw.get("authors", []):
        if isinstance(author, str):
            authors.append((author, ""))
        else:
            authors.append((author[0], author[1] if len(author) > 1 else ""))
    categories = list(raw["categories"])
    published = _when(raw["published"])
    entry = {
        "arxiv_id": raw["arxiv_id"],
        "version": int(raw.get("version", 1)),
        "title": raw["title"],
        "abstract": raw.get("abstract", ""),
        "authors": authors,
        "categories": categories,
        "primary": raw.get("primary") or categories[0],
        "published": published,
        "updated": _when(raw.get("updated") or published),
        "comment": raw.get("comment", ""),
        "journal_ref": raw.get("journal_ref", ""),
        "doi": raw.get("doi", ""),
    }
    entry["_cats_lower"] = {c.lower() for c in categories}
    entry["_all_lower"] = " ".join(
        [entry["arxiv_id"], entry["title"], entry["abstract"], *(n for n, _ in authors)]
    ).lower()
    return entry


def load_entries(path=SAMPLE_MONTH):
    """Entries from a JSON-lines file, plain or gzip."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def render_entry(entry):
    versioned = f"{entry['arxiv_id']}v{entry['version']}"
    parts = [
        "  <entry>\n",
        f"    <id>http://arxiv.org/abs/{versioned}</id>\n",
        f"    <title>{escape(entry['title'])}</title>\n",
        f"    <updated>{_iso(entry['updated'])}</updated>\n",
        f'    <link href="https://arxiv.org/abs/{versioned}" rel="alternate" type="text/html"/>\n',
        f'    <link href="https://arxiv.org/pdf/{versioned}" rel="related" type="application/pdf" title="pdf"/>\n',
        f"    <summary>{escape(entry['abstract'])}</summary>\n",
    ]
    for category in entry["categories"]:
        parts.append(f'    <category term={quoteattr(category)} scheme="http://arxiv.org/schemas/atom"/>\n')
    parts.append(f"    <published>{_iso(entry['published'])}</published>\n")
    if entry["comment"]:
        parts.append(f"    <arxiv:comment>{escape(entry['comment'])}</arxiv:comment>\n")
    parts.append(f"    <arxiv:primary_category term={quoteattr(entry['primary'])}/>\n")
    if entry["journal_ref"]:
        parts.append(f"    <arxiv:journal_ref>{escape(entry['journal_ref'])}</arxiv:journal_ref>\n")
    for name, affiliation in entry["authors"]:
        parts.append(f"    <author>\n      <name>{escape(name)}</name>\n")
        if affiliation:
            parts.append(f"      <arxiv:affiliation>{escape(affiliation)}</arxiv:affiliation>\n")
        parts.append("    </author>\n")
    if entry["doi"]:
        parts.append(f"    <arxiv:doi>{escape(entry['doi'])}</arxiv:doi>\n")
        parts.append(f'    <link href="https://doi.org/{escape(entry["doi"])}" rel="related" title="doi"/>\n')
    parts.append("  </entry>\n")
    return "".join(parts)


def render_feed(title, entries_xml, total, start, per_page):
    now = _iso(datetime.now(UTC))
    head = (
        f"{_FEED_HEAD}  <id>https://arxiv.org/api/fake</id>\n"
        f"  <title>{escape(title)}</title>\n  <updated>{now}</updated>\n"
        f"  <opensearch:itemsPerPage>{per_page}</opensearch:itemsPerPage>\n"
        f"  <opensearch:totalResults>{total}</opensearch:totalResults>\n"
        f"  <opensearch:startIndex>{start}</opensearch:startIndex>\n"
    )
    return head + "".join(entries_xml) + "</feed>\n"


def render_error(message):
    slug = re.sub(r"\W+", "_", message).strip("_")
    now = _iso(datetime.now(UTC))
    return (
        f"{_FEED_HEAD}  <id>https://arxiv.org/</id>\n  <title>arXiv Search Results</title>\n"
        f"  <updated>{now}</updated>\n  <opensearch:itemsPerPage>1</opensearch:itemsPerPage>\n"
        "  <opensearch:totalResults>1</opensearch:totalResults>\n"
        "  <opensearch:startIndex>0</opensearch:startIndex>\n  <entry>\n"
        f"    <id>https://arxiv.org/api/errors#{slug}</id>\n    <title>Error</title>\n"
        f"    <updated>{now}</updated>\n    <summary>{escape(message)}</summary>\n"
        "    <author>\n      <name>arXiv api core</name>\n    </author>\n  </entry>\n</feed>\n"
    )


def render_invalid_entry(entry, n):
    """The entry as a broken arXiv would send it: the nth kind of breakage, in turn."""
    xml = render_entry(entry)
    versioned = f"{entry['arxiv_id']}v{entry['version']}"
    kind = n % 3
    if kind == 0:  # an id that is not arXiv's
        return xml.replace(
            f"<id>http://arxiv.org/abs/{versioned}</id>", f"<id>http://arxiv.org/abs/bogus-{n}</id>"
        )
    if kind == 1:  # a date that is not a date
        return re.sub(r"<published>[^<]*</published>", "<published>last Tuesday</published>", xml)
    return re.sub(r"\s*<published>[^<]*</published>", "", xml)  # no <published> at all


@dataclass
class Fault:
    """One injected fault. ``match``: a substring of the decoded query string it applies to;
    ``skip``: let this many matching requests through first; ``times``: then apply it this often.

    Kinds: "status" (``status``, ``retry_after``, ``body``), "empty", "malformed",
    "delay" (``delay`` seconds before answering), "drip" (the normal answer, one
    byte every ``delay`` seconds), "huge" (``size`` bytes of feed, streamed; without
    Content-Length when ``declare_length`` is false), "invalid" (the page's first
    ``count`` entries broken: a bogus id, an unreadable date, no date, in turn).
    ``sent`` counts the body bytes the server managed to write.
    """

    kind: str
    status: int = 503
    retry_after: str | None = None
    body: str = ""
    delay: float = 0.0
    size: int = 0
    declare_length: bool = True
    count: int = 1
    match: str = ""
    skip: int = 0
    times: int = 1
    hook: object = None  # called (with the query) when the fault fires: lets tests act mid-run
    sent: int = 0


class FakeArxiv:
    def __init__(self, entries=None, *, host="127.0.0.1", port=0, max_page=2000):
        self.host, self.port, self.max_page = host, port, max_page
        self.faults = []
        self.requests = []  # (monotonic time, decoded query string)
        self._lock = threading.Lock()
        self._cache = {}
        self._httpd = None
        self.set_entries(entries if entries is not None else [])

    # Data ------------------------------------------------------------------

    def set_entries(self, entries):
        normalized = [e if "_cats_lower" in e else normalize_entry(e) for e in entries]
        # The latest version of an id wins, as on arXiv.
        by_id = {}
        for entry in normalized:
            if entry["arxiv_id"] not in by_id or entry["version"] >= by_id[entry["arxiv_id"]]["version"]:
                by_id[entry["arxiv_id"]] = entry
        with self._lock:
            self.entries = sorted(by_id.values(), key=lambda e: (e["published"], e["arxiv_id"]))
            self._published = [e["published"] for e in self.entries]
            self._by_id = {e["arxiv_id"]: e for e in self.entries}
            self._xml = {}
            self._cache = {}

    def add_entries(self, entries):
        self.set_entries([*self.entries, *entries])

    def _entry_xml(self, entry):
        key = (entry["arxiv_id"], entry["version"])
        xml = self._xml.get(key)
        if xml is None:
            xml = self._xml[key] = render_entry(entry)
        return xml

    # Faults ----------------------------------------------------------------

    def add_fault(self, kind, **options):
        fault = Fault(kind, **options)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self):
        with self._lock:
            self.faults = []

    def _take_fault(self, query_text):
        with self._lock:
            for fault in self.faults:
                if fault.match and fault.match not in query_text:
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                if fault.times <= 0:
                    continue
                fault.times -= 1
                return fault
        return None

    # Queries ---------------------------------------------------------------

    def search(self, search_query, id_list, sort_by, sort_order):
        """The matching entries, sorted; raises QueryError (→ HTTP 400)."""
        key = (search_query, tuple(id_list), sort_by, sort_order)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if id_list:
            found = []
            for raw in id_list:
                if not _ID.match(raw):
                    raise q.QueryError(f"incorrect id format for {raw}")
                entry = self._by_id.get(re.sub(r"v\d+$", "", raw))
                if entry is not None:
                    found.append(entry)
            result = found
        else:
            node = q.parse(search_query)
            if node is None:
                result = []
            else:
                window = q.date_range(node)
                if window:
                    lo = bisect.bisect_left(self._published, window[0])
                    hi = bisect.bisect_right(self._published, window[1])
                    pool = self.entries[lo:hi]
                else:
                    pool = self.entries
                result = [e for e in pool if q.matches(node, e)]
        if sort_by == "submittedDate":
            result = sorted(result, key=lambda e: e["published"], reverse=sort_order == "descending")
        elif sort_by == "lastUpdatedDate":
            result = sorted(result, key=lambda e: e["updated"], reverse=sort_order == "descending")
        if len(self._cache) > 256:
            self._cache.clear()
        self._cache[key] = result
        return result

    def respond(self, params, query_text, fault=None):
        """(status, headers, body bytes, delay) for one request (``fault``: the one it fires)."""
        delay = fault.delay if fault and fault.kind == "delay" else 0.0
        if fault and fault.kind == "status":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            body = fault.body or (
                render_error(f"injected HTTP {fault.status}") if fault.status == 400 else ""
            )
            return fault.status, headers, body.encode(), delay
        try:
            start = int(params.get("start", ["0"])[0] or 0)
            max_results = int(params.get("max_results", ["10"])[0] or 10)
        except ValueError:
            return 400, {}, render_error("start and max_results must be integers").encode(), delay
        if start < 0 or max_results < 0:
            return 400, {}, render_error("start and max_results must be non-negative").encode(), delay
        max_results = min(max_results, self.max_page)
        id_list = [i for i in params.get("id_list", [""])[0].split(",") if i]
        try:
            result = self.search(
                params.get("search_query", [""])[0],
                id_list,
                params.get("sortBy", ["relevance"])[0],
                params.get("sortOrder", ["descending"])[0],
            )
        except q.QueryError as exc:
            return 400, {}, render_error(str(exc)).encode(), delay
        page = [] if fault and fault.kind == "empty" else result[start : start + max_results]
        entries_xml = [self._entry_xml(e) for e in page]
        if fault and fault.kind == "invalid":
            for n in range(min(fault.count, len(page))):
                entries_xml[n] = render_invalid_entry(page[n], n)
        body = render_feed(f"arXiv Query: {query_text}", entries_xml, len(result), start, len(page))
        if fault and fault.kind == "malformed":
            # A feed cut off mid-entry, as a dropped connection would leave it.
            body = body[: max(len(body) // 2, 200)]
        return 200, {}, body.encode("utf-8"), delay

    # HTTP ------------------------------------------------------------------

    def start(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - the http.server API
                parts = urlsplit(self.path)
                if parts.path.rstrip("/") not in ("/api/query", ""):
                    self._send(404, {}, b"not found")
                    return
                params = parse_qs(parts.query, keep_blank_values=True)
                query_text = "&".join(f"{k}={v[0]}" for k, v in params.items())
                with server._lock:
                    server.requests.append((time.monotonic(), query_text))
                fault = server._take_fault(query_text)
                if fault and fault.hook:
                    fault.hook(query_text)
                if fault and fault.kind == "huge":
                    self._send_huge(fault)
                    return
                status, headers, body, delay = server.respond(params, query_text, fault)
                if delay:
                    time.sleep(delay)
                self._send(status, headers, body, drip=fault if fault and fault.kind == "drip" else None)

            def _send(self, status, headers, body, drip=None):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/atom+xml; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    if drip is None:
                        self.wfile.write(body)
                        return
                    # Never silent for a whole read timeout, never done either.
                    for i in range(len(body)):
                        self.wfile.write(body[i : i + 1])
                        self.wfile.flush()
                        drip.sent += 1
                        time.sleep(drip.delay)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test): nothing to tell it

            def _send_huge(self, fault):
                head = render_feed("huge", [], 0, 0, 0).replace("</feed>\n", "").encode() + b"<!--"
                tail = b"-->\n</feed>\n"
                padding = max(0, fault.size - len(head) - len(tail))
                block = b"x" * 65536
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/atom+xml; charset=utf-8")
                    if fault.declare_length:
                        self.send_header("Content-Length", str(len(head) + padding + len(tail)))
                    else:
                        # No length: the body ends when the connection closes.
                        self.send_header("Connection", "close")
                        self.close_connection = True
                    self.end_headers()
                    self.wfile.write(head)
                    while padding > 0:
                        piece = block[: min(padding, len(block))]
                        self.wfile.write(piece)
                        fault.sent += len(piece)
                        padding -= len(piece)
                    self.wfile.write(tail)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format, *args):  # noqa: A002 - keep tests and benches quiet
                pass

        self._httpd = ThreadingHTTPServer((self.host, self.port), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        thread = threading.Thread(target=self._httpd.serve_forever, name="fake-arxiv", daemon=True)
        thread.start()
        return self

    @property
    def url(self):
        return f"http://{self.host}:{self.port}/api/query"

    def stop(self):
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self):
        return self.start() if self._httpd is None else self

    def __exit__(self, *exc):
        self.stop()
