"""Fixtures of the papers tests."""

import pytest

from papers import tasks


class ArxivQueue:
    """The ``arxiv`` queue with no worker: tasks sent to it wait here until ``work()`` runs them."""

    def __init__(self):
        self.sent = []

    def apply_async(self, args=None, kwargs=None, **options):
        self.sent.append((tuple(args or ()), dict(kwargs or {})))

    def work(self):
        """Run every waiting task as the worker would; their return values."""
        sent, self.sent = self.sent, []
        return [tasks.fetch_papers.run(*args, **kwargs) for args, kwargs in sent]


@pytest.fixture
def arxiv_queue(monkeypatch):
    """fetch_papers is queued, not run: in the embedded mode it would run in-process, at once."""
    queue = ArxivQueue()
    monkeypatch.setattr(tasks.fetch_papers, "apply_async", queue.apply_async)
    return queue


@pytest.fixture
def broker_down(monkeypatch):
    """Redis (the broker) refuses connections: kombu's error, as curation.queue.enqueue sees it."""
    from kombu.exceptions import OperationalError

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.fetch_papers, "apply_async", refuse)
