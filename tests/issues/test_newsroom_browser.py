"""The newsroom's rough edges, in a real browser (Debian's Chromium, headless, via Playwright).

The pick page fits a 1280 px screen and shows the abstract; saving says so;
Publish now, Back to draft and Restore ask first; the preview banner says
what the page is; a footnote back-link does not hide the citation under the
top edge; the site has a favicon. Screenshots go to test-results/.
"""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from curation.roles import ensure_roles
from issues.editing import add_pick
from issues.figures import add_figure
from issues.models import Issue
from issues.preview import preview_url
from tests.conftest import log_in, make_issue, make_paper, png_file

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
RESULTS = Path(settings.BASE_DIR) / "test-results"
WIDE = {"width": 1280, "height": 900}


@pytest.fixture
def page(chromium):
    return chromium.new_context(viewport=WIDE).new_page()


@pytest.fixture
def composed(editor):
    issue = make_issue(slug="june-2025", title="June 2025", picks=0)
    paper = make_paper(title="A paper worth reading", abstract="We show that a small model reads well.")
    pick = add_pick(issue, paper, by=editor, why="Because.", key_insights="- One")
    add_figure(
        pick,
        by=editor,
        image=png_file("a-figure-with-a-long-descriptive-file-name.png"),
        alt_text="A plot of accuracy against model size",
        caption="Accuracy rises with size, then levels off.",
        credit="Source: A paper worth reading",
        credit_url="https://arxiv.org/abs/2103.10001",
    )
    return issue, pick


def test_pick_page_fits_the_screen_shows_the_abstract_and_confirms_a_save(
    page, live_server, editor, composed
):
    issue, pick = composed
    log_in(page, live_server, editor.username)
    page.goto(live_server.url + reverse("admin:issues_pick_change", args=[pick.pk]))
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / "pick-page-1280.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280, f"the pick page is {width} px wide at 1280"
    # And the figures table fits its column: every field in view, no sideways scrolling.
    table = page.locator(".inline-group .tabular")
    assert table.evaluate("el => el.scrollWidth <= el.clientWidth"), table.evaluate(
        "el => [el.scrollWidth, el.clientWidth, ...Array.from(el.querySelectorAll('tr.form-row td, tr.form-row th')).map(td => td.className + ':' + td.getBoundingClientRect().width)]"
    )
    abstract = page.locator("#paper-abstract")
    assert abstract.is_visible() and "We show that a small model reads well." in abstract.inner_text()
    # The abstract is above the Why field, in view while writing.
    assert abstract.bounding_box()["y"] < page.locator("#id_why").bounding_box()["y"]

    page.fill("#id_why", "Because it reads well.")
    page.click("input[name=_save]")
    page.wait_for_url(live_server.url + reverse("admin:issues_issue_change", args=[issue.pk]))
    assert "Saved pick 1, “A paper worth reading”." in page.locator(".messagelist").inner_text()


def test_publish_now_asks_first(page, live_server, editor, composed):
    issue, _pick = composed
    log_in(page, live_server, editor.username)
    page.goto(live_server.url + reverse("admin:issues_issue_change", args=[issue.pk]))
    questions = []

    def dismiss(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.click("#publish-now")
    page.wait_for_timeout(300)
    assert questions and questions[0].startswith("Publish “June 2025” now?")
    assert Issue.objects.get(pk=issue.pk).status == "draft"  # refused: nothing happened

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#publish-now")
    page.wait_for_selector("text=Published:")
    assert Issue.objects.get(pk=issue.pk).status == "published"

    # Back to draft asks too.
    page.once("dialog", dismiss)
    page.click("#back-to-draft")
    page.wait_for_timeout(300)
    assert "Readers get “not found”" in questions[-1]
    assert Issue.objects.get(pk=issue.pk).status == "published"


def test_restore_asks_first(page, live_server, editor, composed):
    issue, pick = composed
    from issues.editing import update_pick

    update_pick(pick, by=editor, data={"why": "Second thoughts."}, lock_version=pick.lock_version)
    log_in(page, live_server, editor.username)
    page.goto(live_server.url + reverse("admin:issues_issue_revisions", args=[issue.pk]))
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.locator("button.compose-restore").last.click()
    page.wait_for_timeout(300)
    assert questions and questions[0].startswith("Restore the text of ")
    pick.refresh_from_db()
    assert pick.why == "Second thoughts."


def test_a_shared_preview_link_says_what_it_is_and_nothing_about_sharing(page, live_server, editor, composed):
    issue, _pick = composed
    url = preview_url(issue, by=editor).replace(settings.SITE_URL, live_server.url)
    page.goto(url)
    banner = page.locator(".draft-banner").inner_text()
    assert banner == "Draft preview — this issue is a draft, not published yet."
    assert "don't share" not in page.content().lower()


def test_a_footnote_back_link_leaves_the_citation_in_view(page, live_server):
    ensure_roles()
    call_command("load_demo")
    page.goto(live_server.url + "/issues/april-2021/")
    # A citation far down the page, so that the browser has to scroll up to it.
    marker = page.locator("sup.footnote-ref a").last
    marker_id = marker.get_attribute("id")
    marker.click()
    page.locator(f'a.backref[href="#{marker_id}"]').click()
    page.wait_for_timeout(200)
    line = page.locator(f"#{marker_id}").evaluate("el => el.closest('p, li, td').getBoundingClientRect().top")
    sup = page.locator(f"#{marker_id}").evaluate("el => el.closest('sup').getBoundingClientRect().top")
    # The cited line and a little before it are visible, not cut by the top edge.
    assert sup >= 48 and line >= 0, (sup, line)


def test_every_page_has_a_favicon(page, live_server):
    page.goto(live_server.url + "/about/")
    href = page.locator('link[rel="icon"]').first.get_attribute("href")
    assert page.request.get(live_server.url + href).status == 200
    # Browsers and bots that ask for the conventional address get it too (the admin has no <link>).
    response = page.request.get(live_server.url + "/favicon.ico")
    assert response.status == 200 and response.headers["content-type"] in {
        "image/x-icon",
        "image/vnd.microsoft.icon",
    }
