"""Each curator's own watchlist in the admin, and big changelists without COUNT(*)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import make_paper
from triage.models import WatchlistEntry

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")


def test_curators_see_and_edit_only_their_own_watchlist(client, curator, other_curator):
    theirs = WatchlistEntry.objects.create(user=other_curator, kind="keyword", term="quantum")
    login(client, curator)
    add = reverse("admin:triage_watchlistentry_add")
    response = client.post(add, {"kind": "author", "term": "Yann LeCun", "positive": "on"})
    assert response.status_code == 302
    mine = WatchlistEntry.objects.get(term="Yann LeCun")
    assert mine.user == curator
    html = client.get(reverse("admin:triage_watchlistentry_changelist")).content.decode()
    assert "Yann LeCun" in html and "quantum" not in html
    assert client.get(reverse("admin:triage_watchlistentry_change", args=[theirs.pk])).status_code == 302
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


def test_one_rule_for_highlights_the_filter_and_the_ranker(curator):
    """The queue's highlights, its "watchlist hits" filter and the ranker's signal agree."""
    from papers.models import Paper
    from triage import ranking
    from triage.watchlists import Watchlist, split_hits

    assert ranking.Watchlist is Watchlist  # the ranker reads the same class, not a copy
    gan = make_paper(title="A GAN for faces", abstract="Adversarial training.")
    organ = make_paper(title="Organ segmentation", abstract="Medical images of organs.")
    by_author = make_paper(title="Something else", authors=[("Mario Lučić", "")])
    quantum = make_paper(title="GAN meets quantum circuits", abstract="A quantum GAN.")
    WatchlistEntry.objects.create(user=curator, kind="keyword", term="GAN")
    WatchlistEntry.objects.create(user=curator, kind="author", term="mario lucic")
    WatchlistEntry.objects.create(user=curator, kind="keyword", term="quantum", positive=False)
    watchlist = Watchlist.of(curator)

    def terms(paper):
        return [(hit.term, hit.positive) for hit in watchlist.paper_hits(paper)]

    assert terms(gan) == [("GAN", True)]
    assert terms(organ) == []  # whole words: "GAN" is not in "Organ"
    assert terms(by_author) == [("mario lucic", True)]  # accents and case folded, like Authors
    assert sorted(terms(quantum)) == [("GAN", True), ("quantum", False)]
    assert split_hits(watchlist.paper_hits(quantum)) == {"positive": ["GAN"], "negative": ["quantum"]}
    filtered = set(watchlist.filter(Paper.objects.all()))
    assert gan in filtered and quantum in filtered and organ not in filtered
    # Everyone's entries feed the ranker; with one curator they are the same hits.
    assert Watchlist.of().paper_hits(organ) == []
