"""Each curator's own watchlist in the admin, and big changelists without COUNT(*)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from papers.models import WatchlistEntry
from tests.conftest import make_paper

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")


def test_curators_see_and_edit_only_their_own_watchlist(client, curator, other_curator):
    theirs = WatchlistEntry.objects.create(user=other_curator, kind="keyword", term="quantum")
    login(client, curator)
    add = reverse("admin:papers_watchlistentry_add")
    response = client.post(add, {"kind": "author", "term": "Yann LeCun", "positive": "on"})
    assert response.status_code == 302
    mine = WatchlistEntry.objects.get(term="Yann LeCun")
    assert mine.user == curator
    html = client.get(reverse("admin:papers_watchlistentry_changelist")).content.decode()
    assert "Yann LeCun" in html and "quantum" not in html
    assert client.get(reverse("admin:papers_watchlistentry_change", args=[theirs.pk])).status_code == 302
    # The same entry twice is a form error, not a 500.
    response = client.post(add, {"kind": "author", "term": "yann lecun", "positive": "on"})
    assert response.status_code == 200 and "already on your watchlist" in response.content.decode()
    assert WatchlistEntry.objects.filter(user=curator).count() == 1


@pytest.mark.postgres
def test_paper_changelist_estimates_instead_of_counting(client, editor, monkeypatch):
    from curation import pagination

    for _ in range(3):
        make_paper()
    connection.cursor().execute("ANALYZE papers_paper")
    monkeypatch.setattr(pagination, "EXACT_BELOW", 0)
    login(client, editor)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:papers_paper_changelist"))
    assert response.status_code == 200
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and "papers_paper" in q["sql"]]
    assert counts == []
    assert any("reltuples" in q["sql"] for q in queries)
