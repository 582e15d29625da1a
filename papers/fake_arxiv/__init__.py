"""A local fake of the arXiv API (``/api/query``) for tests, benchmarks and the demo.

Serves Atom feeds in arXiv's current format from entries held in memory,
honours ``search_query`` (cat:, submittedDate:[… TO …], ti:/abs:/au:/all:,
AND/OR/ANDNOT, parentheses), ``id_list``, ``start``, ``max_results``,
``sortBy``/``sortOrder``, answers malformed ids with arXiv's HTTP 400 error
feed, and injects faults on request (status codes with Retry-After, empty
pages, malformed XML, delays, answers dripped a byte at a time, huge answers,
broken entries).

    server = FakeArxiv(entries).start()   # a free port, in a thread
    server.add_fault("status", status=503, times=1)
    ... ARXIV_API_URL = server.url ...
    server.stop()

Run it standalone with ``python -m papers.fake_arxiv --port 8765``.
"""

from .server import FakeArxiv, Fault, load_entries

__all__ = ["Fault", "FakeArxiv", "load_entries"]
