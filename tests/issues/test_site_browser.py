"""A reader in a real browser (Debian's Chromium, headless): footnotes, search, dark mode, axe-core.

Screenshots of the issue page at desktop and phone widths are saved under
test-results/ (git-ignored).
"""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from curation.roles import ensure_roles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RESULTS = Path(settings.BASE_DIR) / "test-results"


@pytest.fixture
def site(live_server):
    # Transactional tests start from a flushed database: the roles migration's groups are gone.
    ensure_roles()
    call_command("load_demo")
    return live_server.url


@pytest.fixture
def browser(site, chromium):
    # After ``site``: Playwright's sync API runs an event loop, and Django refuses
    # database calls from a thread with a running loop.
    return chromium


def open_page(browser, url, **context_options):
    context = browser.new_context(**context_options)
    page = context.new_page()
    csp_errors = []
    page.on(
        "console",
        lambda message: csp_errors.append(message.text)
        if "Content Security Policy" in message.text
        else None,
    )
    page.goto(url)
    return page, csp_errors


def assert_no_axe_violations(page):
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_reader_follows_a_footnote_and_comes_back(browser, site):
    page, csp_errors = open_page(
        browser, f"{site}/issues/april-2021/", viewport={"width": 1280, "height": 900}
    )
    assert page.locator("h1").inner_text() == "April 2021"

    marker = page.locator("sup.footnote-ref a").first
    reference = marker.get_attribute("href")
    marker_id = marker.get_attribute("id")
    marker.click()
    assert page.url.endswith(reference)
    target = page.locator(reference)
    assert target.is_visible() and target.evaluate("el => el.matches(':target')")

    target.locator(f'a.backref[href="#{marker_id}"]').click()
    assert page.url.endswith(f"#{marker_id}")
    assert page.locator(f"#{marker_id}").evaluate("el => el.matches(':target')")
    assert csp_errors == []


def test_issue_page_has_no_accessibility_violations_and_is_screenshotted(browser, site):
    RESULTS.mkdir(exist_ok=True)
    page, csp_errors = open_page(
        browser, f"{site}/issues/april-2021/", viewport={"width": 1280, "height": 900}
    )
    assert_no_axe_violations(page)
    page.screenshot(path=RESULTS / "issue-desktop.png", full_page=True)

    phone, _ = open_page(
        browser,
        f"{site}/issues/april-2021/",
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    # Nothing wider than the phone's screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert_no_axe_violations(phone)
    phone.screenshot(path=RESULTS / "issue-phone.png", full_page=True)
    assert (RESULTS / "issue-desktop.png").stat().st_size > 0 and (
        RESULTS / "issue-phone.png"
    ).stat().st_size > 0
    assert csp_errors == []


def test_reader_searches_from_the_menu(browser, site):
    page, csp_errors = open_page(browser, f"{site}/")
    page.get_by_role("navigation", name="Site").get_by_role("link", name="Search").click()
    page.get_by_label("Words, “a phrase”, -excluded").fill("prompt")
    page.get_by_label("Year").select_option("2021")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/search/?q=prompt*")
    results = page.locator("li.result")
    assert results.count() >= 1
    assert "GPT Understands, Too" in page.locator(".search-results").inner_text()
    assert page.locator(".search-results mark").count() >= 1
    assert_no_axe_violations(page)
    assert csp_errors == []


def test_dark_mode_follows_the_system_setting(browser, site):
    light, _ = open_page(browser, f"{site}/issues/april-2021/", color_scheme="light")
    dark, csp_errors = open_page(browser, f"{site}/issues/april-2021/", color_scheme="dark")
    background = "getComputedStyle(document.body).backgroundColor"
    assert light.evaluate(background) == "rgb(253, 253, 252)"
    assert dark.evaluate(background) == "rgb(21, 21, 24)"
    assert_no_axe_violations(dark)  # contrast holds in dark mode too
    RESULTS.mkdir(exist_ok=True)
    dark.screenshot(path=RESULTS / "issue-dark.png")
    assert csp_errors == []
