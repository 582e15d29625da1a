"""pytest fixtures for the fake arXiv: import them into a test module.

from papers.fake_arxiv.testing import fake_arxiv, harvest_settings  # noqa: F401
"""

import pytest

from .server import FakeArxiv


@pytest.fixture
def fake_arxiv():
    """A fake arXiv on a free port, in a thread, with no entries yet."""
    server = FakeArxiv().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def harvest_settings(settings, fake_arxiv):
    """Point the harvester at the fake server; no politeness wait, tiny backoffs."""
    settings.ARXIV_API_URL = fake_arxiv.url
    settings.ARXIV_REQUEST_INTERVAL = 0
    settings.ARXIV_BACKOFF = 0.01
    settings.ARXIV_MAX_RETRIES = 3
    settings.ARXIV_EMPTY_FIRST_PAGE_RETRIES = 1
    settings.ARXIV_TIMEOUT = 2
    settings.ARXIV_PAGE_SIZE = 5
    return settings
