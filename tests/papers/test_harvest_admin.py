"""The admin's harvest pages: runs, coverage with gaps flagged, adding papers, harvest now."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from papers.models import HarvestRun, HarvestSource, Paper
from tests.conftest import make_paper
from tests.papers.harvest_entries import entries_on

pytestmark = pytest.mark.django_db


def default_source():
    # Created by a data migration, but a transactional test's flush removes it.
    return HarvestSource.objects.get_or_create(
        name="machine-learning", defaults={"categories": ["cs.LG", "cs.CL", "cs.CV", "cs.AI", "stat.ML"]}
    )[0]


def test_coverage_counts_papers_per_day_and_flags_weekday_gaps(client, editor):
    source = default_source()
    source.high_water_mark = datetime(2025, 6, 7, tzinfo=UTC)  # a Saturday, 00:00
    source.save()
    for hour in range(3):
        make_paper(submitted_at=datetime(2025, 6, 2, hour, tzinfo=UTC), categories=["cs.LG"])  # Monday
    make_paper(submitted_at=datetime(2025, 6, 4, 9, tzinfo=UTC), categories=["cs.CL", "cs.LG"])  # Wednesday
    make_paper(submitted_at=datetime(2025, 6, 3, 9, tzinfo=UTC), categories=["math.AG"])  # not ours
    HarvestRun.objects.create(source=source, status="partial", unknown_days=["2025-06-05"])
    client.force_login(editor)

    response = client.get(reverse("admin:papers_harvestrun_coverage"), {"days": 7})

    assert response.status_code == 200
    rows = {row["day"]: row["cells"][0] for row in response.context["rows"]}
    assert rows[date(2025, 6, 2)] == {"count": 3, "gap": False, "unknown": False}
    assert rows[date(2025, 6, 3)]["gap"] is True  # Tuesday with nothing: flagged
    assert rows[date(2025, 6, 4)]["count"] == 1
    assert rows[date(2025, 6, 5)] == {"count": 0, "gap": True, "unknown": True}
    assert max(rows) == date(2025, 6, 6)  # up to the high-water mark
    html = response.content.decode()
    assert 'class="count gap"' in html and "(unknown)" in html


def test_the_runs_list_links_to_coverage_and_add_papers(client, editor):
    HarvestRun.objects.create(
        kind="harvest", status="failed", error="arXiv rejected the query (HTTP 400): nope"
    )
    client.force_login(editor)
    response = client.get(reverse("admin:papers_harvestrun_changelist"), {"status__exact": "failed"})
    html = response.content.decode()
    assert response.status_code == 200
    assert reverse("admin:papers_harvestrun_coverage") in html
    assert reverse("admin:papers_harvestrun_add_papers") in html
    assert "failed" in html


def test_adding_papers_in_the_admin(client, curator, harvest_settings, fake_arxiv, arxiv_queue):
    fake_arxiv.set_entries(entries_on(date(2021, 3, 18), 1, arxiv_id="2103.10360"))
    client.force_login(curator)

    response = client.post(
        reverse("admin:papers_harvestrun_add_papers"),
        {"ids": "https://arxiv.org/abs/2103.10360v1, not/an-id"},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "<td>https://arxiv.org/abs/2103.10360v1</td>" in html and "<td>queued</td>" in html
    assert "“not/an-id” is not an arXiv id" in html
    arxiv_queue.work()  # the arxiv worker fetches it (tests/papers/test_request_papers.py has more)
    assert Paper.objects.filter(arxiv_id="2103.10360").exists()
    assert HarvestRun.objects.get(kind="fetch").requested_by == curator


def test_an_empty_add_papers_form_is_a_form_error(client, curator):
    client.force_login(curator)
    response = client.post(reverse("admin:papers_harvestrun_add_papers"), {"ids": "  "})
    assert response.status_code == 200
    assert response.context["form"].errors


@pytest.mark.django_db(transaction=True)
def test_harvest_now_runs_the_source(admin_client, harvest_settings, fake_arxiv, monkeypatch):
    # (A superuser: a transactional test's flush may have dropped the groups' permissions.)
    from papers import tasks

    # With a broker the task would wait for the arxiv worker: run it here instead.
    monkeypatch.setattr(tasks.harvest_source, "delay", lambda *a, **k: tasks.harvest_source.apply(a, k))
    today = timezone.now().astimezone(UTC).date()
    source = default_source()
    source.high_water_mark = datetime.combine(today, time.min, UTC)
    source.save()
    fake_arxiv.set_entries(entries_on(today - timedelta(days=1), 2) + entries_on(today, 2))
    harvest_settings.ARXIV_EMPTY_FIRST_PAGE_RETRIES = 0

    response = admin_client.post(
        reverse("admin:papers_harvestsource_changelist"),
        {"action": "harvest_now", "_selected_action": [source.pk]},
        follow=True,
    )

    assert "Harvest queued for 1 source(s)" in response.content.decode()
    run = HarvestRun.objects.get(source=source)
    assert run.window_start == datetime.combine(today - timedelta(days=1), time.min, UTC)
    assert Paper.objects.count() == 4


def test_an_editor_setting_links_in_the_admin_protects_them_from_harvests(client, editor):
    from django.forms.models import model_to_dict

    paper = make_paper()
    client.force_login(editor)
    data = {
        key: ("" if value is None else value)
        for key, value in model_to_dict(paper).items()
        if key not in {"id", "authors", "search_vector"}
    }
    data.update(
        code_url="https://github.com/editor/chosen",
        submitted_at_0=paper.submitted_at.strftime("%Y-%m-%d"),
        submitted_at_1=paper.submitted_at.strftime("%H:%M:%S"),
        updated_at_0=paper.updated_at.strftime("%Y-%m-%d"),
        updated_at_1=paper.updated_at.strftime("%H:%M:%S"),
        categories='["cs.LG", "cs.AI"]',
        **{
            "authorships-TOTAL_FORMS": "0",
            "authorships-INITIAL_FORMS": "0",
            "authorships-MIN_NUM_FORMS": "0",
            "authorships-MAX_NUM_FORMS": "1000",
        },
    )
    response = client.post(reverse("admin:papers_paper_change", args=[paper.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    paper.refresh_from_db()
    assert paper.code_url == "https://github.com/editor/chosen"
    assert paper.links_set_by_editor is True
