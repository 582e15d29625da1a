"""Composing in a real browser: shortlist → picks → reorder → preview → publish → public page."""

import pytest
from django.urls import reverse

from issues.models import Issue
from tests.conftest import log_in, make_issue, make_paper
from triage.decisions import shortlist


@pytest.fixture
def page(chromium):
    return chromium.new_context().new_page()


def shortlist_rows(issue, papers, user):
    for paper in papers:
        shortlist(paper, issue, by=user)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_compose_reorder_preview_and_publish(page, live_server, editor):
    issue = make_issue(
        slug="may-2021", title="May 2021", intro="Welcome[^w].\n\n[^w]: https://w.example Welcome page"
    )
    papers = [make_paper(title=f"Shortlisted paper {n}") for n in (1, 2, 3)]
    shortlist_rows(issue, papers, editor)

    log_in(page, live_server, editor.username)

    change = live_server.url + reverse("admin:issues_issue_change", args=[issue.pk])
    page.goto(change)
    # Compose from the shortlist: three picks, in the order added.
    for paper in papers:
        page.select_option("#id_shortlisted", str(paper.pk))
        page.click("#add-shortlisted")
        page.wait_for_selector(f"li[data-pick] >> text=Shortlisted paper {paper.title[-1]}")
    assert page.locator("#readiness").inner_text().count("has no") == 6

    # Write each pick's commentary on its page.
    for n in (1, 2, 3):
        page.click(f"li[data-pick] a:has-text('Shortlisted paper {n}')")
        page.fill("#id_why", f"Why paper {n} matters[^w].")
        page.fill("#id_key_insights", f"- Insight of paper {n}")
        page.click("input[name=_save]")
        page.wait_for_url(change)
    assert "Yes: every pick" in page.locator("#readiness").inner_text()

    # Reorder with the keyboard fallback: focus "Up" on pick 3 and press Enter, twice.
    third = page.locator("li[data-pick]").nth(2)
    third.locator(".compose-up").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#compose-live:has-text('Order saved.')")
    page.locator("li[data-pick]").nth(1).locator(".compose-up").focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "document.querySelector('li[data-pick] .compose-title').textContent.includes('paper 3')"
    )
    # And by dragging: pick 1 (now second) above the top one.
    page.locator("li[data-pick]").nth(1).drag_to(
        page.locator("li[data-pick]").nth(0), target_position={"x": 20, "y": 2}
    )
    page.wait_for_timeout(500)
    order = [
        p.paper.title[-1]
        for p in Issue.objects.get(pk=issue.pk).picks.order_by("position").select_related("paper")
    ]
    assert order == ["1", "3", "2"]
    titles = page.locator("li[data-pick] .compose-title").all_inner_texts()
    assert [t[-1] for t in titles] == order

    # Preview the whole issue, unsaved, in a new tab.
    page.fill("#id_subtitle", "Unsaved subtitle")
    with page.expect_popup() as popup:
        page.click("#preview-issue")
    preview = popup.value
    preview.wait_for_load_state()
    assert "Draft" in preview.locator(".draft-banner").inner_text()
    assert "Unsaved subtitle" in preview.content()
    headings = preview.locator("li.pick h2").all_inner_texts()
    assert [h.split("Shortlisted paper ")[1] for h in headings] == order
    preview.close()

    # Publish as the editor (it asks first); then the public page shows it.
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#publish-now")
    page.wait_for_selector("text=Published:")
    assert page.locator("#issue-status").inner_text() == "published"
    page.goto(live_server.url + "/issues/may-2021/")
    assert page.locator("h1").first.inner_text() == "May 2021"
    public = page.locator("li.pick h2").all_inner_texts()
    assert [h.split("Shortlisted paper ")[1] for h in public] == order
    assert page.locator("#ref-1").inner_text().strip().startswith("Welcome page")
