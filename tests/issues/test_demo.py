import json

import pytest
from django.core.management import call_command

from issues.demo.loader import DEMO_FILE
from issues.models import Issue, Pick
from papers.models import Author, Paper

pytestmark = pytest.mark.django_db

DEMO = json.loads(DEMO_FILE.read_text())


def test_load_demo_publishes_april_2021_with_ten_picks_in_order(client):
    call_command("load_demo")
    issue = Issue.objects.published().get(slug="april-2021")
    ids = list(issue.picks.order_by("position").values_list("paper__arxiv_id", flat=True))
    assert ids == [p["arxiv_id"] for p in DEMO["papers"]]
    assert ids[0] == "2103.10360" and ids[-1] == "2102.12627"
    assert issue.published_at.isoformat().startswith("2021-04-06")
    html = client.get("/").content.decode()
    for paper in DEMO["papers"]:
        assert paper["title"].replace("'", "&#x27;") in html
    assert issue.picks.get(position=9).figures.count() == 1


def test_load_demo_twice_changes_nothing():
    call_command("load_demo")
    before = (
        Issue.objects.count(),
        Pick.objects.count(),
        Paper.objects.count(),
        Author.objects.count(),
        Issue.objects.get().updated_at,
    )
    call_command("load_demo")
    after = (
        Issue.objects.count(),
        Pick.objects.count(),
        Paper.objects.count(),
        Author.objects.count(),
        Issue.objects.get().updated_at,
    )
    assert before == after


def test_demo_authors_keep_their_order():
    call_command("load_demo")
    glm = Paper.objects.get(arxiv_id="2103.10360")
    assert [a.name for a in glm.ordered_authors()] == DEMO["papers"][0]["authors"]


def test_demo_issue_period_covers_every_pick(client):
    call_command("load_demo")
    issue = Issue.objects.get(slug="april-2021")
    submitted = [p.paper.submitted_at.date() for p in issue.picks.select_related("paper")]
    # Hinton's part-whole paper is from 25 February: the period says so.
    assert all(issue.period_start <= day <= issue.period_end for day in submitted)
    assert min(submitted) == issue.period_start
    html = client.get("/issues/april-2021/").content.decode()
    assert "Papers from February 25 to March 31, 2021" in html
    assert "Papers from March 1" not in html
