"""Fixtures for the papers tests: the fake arXiv server (see papers/fake_arxiv/testing.py)."""

from papers.fake_arxiv.testing import fake_arxiv, harvest_settings

__all__ = ["fake_arxiv", "harvest_settings"]
