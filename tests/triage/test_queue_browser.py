"""Keyboard triage in a real browser (Playwright driving the machine's Chromium)."""

import pytest
from django.urls import reverse

from tests.conftest import log_in, make_issue, make_paper
from triage.models import PaperScore, RankerModel, TriageDecision


@pytest.fixture
def browser_page(chromium):
    return chromium.new_page()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_keyboard_triage(browser_page, live_server, curator):
    issue = make_issue()
    ranker = RankerModel.objects.create(version=1, active=True)
    papers = [make_paper(title=f"Paper number {i}") for i in range(4)]
    for rank, paper in enumerate(papers):
        PaperScore.objects.create(paper=paper, ranker=ranker, score=1.0 - rank / 10, explanation={})
    first, second, third, fourth = papers
    page = browser_page
    log_in(page, live_server, curator.username)
    page.goto(live_server.url + reverse("triage:queue", args=[issue.pk]))
    page.wait_for_selector(".triage-current")

    def row_state(paper, state):
        page.wait_for_selector(f"#paper-{paper.pk}[data-state={state}]")

    url = page.url
    page.keyboard.press("s")  # shortlist the first, move to the second
    row_state(first, "shortlisted")
    page.keyboard.press("x")  # reject the second, move to the third
    row_state(second, "rejected")
    page.keyboard.press("u")  # undo the rejection
    row_state(second, "new")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")  # back on the third
    page.keyboard.press("x")
    row_state(third, "rejected")
    page.keyboard.press("?")
    assert page.is_visible("#triage-help")
    assert page.url == url  # no page reload, no navigation

    assert dict(TriageDecision.objects.filter(issue=issue).values_list("paper_id", "state")) == {
        first.pk: "shortlisted",
        third.pk: "rejected",
    }
    assert not TriageDecision.objects.filter(paper=fourth).exists()
