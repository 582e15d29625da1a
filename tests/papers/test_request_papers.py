"""Adding papers from a web page never waits for arXiv: known papers at once, the rest queued.

Before, the admin's "Add papers" page and the issue page's add-by-id called
arXiv inside the request (98 s for three ids with arXiv slow, a gunicorn
timeout and a 500), and with Redis down answered 500 and left a run
"running" forever.
"""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from papers import harvest
from papers.adding import QUEUE_DOWN, request_papers
from papers.models import HarvestRun, Paper
from tests.conftest import make_issue, make_paper
from tests.papers.harvest_entries import entry

pytestmark = pytest.mark.django_db
DAY = date(2021, 3, 18)


@pytest.fixture
def arxiv_papers(harvest_settings, fake_arxiv):
    fake_arxiv.set_entries([entry(DAY, "2103.10360", title="GLM"), entry(DAY, "1810.04805", title="BERT")])
    return fake_arxiv


def test_known_papers_answer_at_once_and_the_rest_is_queued(arxiv_papers, arxiv_queue, curator):
    make_paper("2103.00020")

    results, run = request_papers(
        ["arXiv:2103.00020", "2103.10360v2", "not-an-id", "https://arxiv.org/abs/1810.04805"], by=curator
    )

    assert [(r["arxiv_id"], r["status"]) for r in results] == [
        ("2103.00020", "known"),
        ("2103.10360", "queued"),
        ("", "error"),
        ("1810.04805", "queued"),
    ]
    assert results[0]["message"] == "2103.00020: already here (version 1); nothing to fetch."
    assert results[1]["message"] == f"2103.10360: being fetched from arXiv (harvest run #{run.pk})."
    assert (run.kind, run.status, run.query, run.requested_by) == (
        "fetch",
        "queued",
        "2103.10360 1810.04805",
        curator,
    )
    assert arxiv_papers.requests == []  # arXiv was not asked inside the request
    assert arxiv_queue.sent == [((run.pk,), {})]

    assert arxiv_queue.work() == [run.pk]  # the arxiv worker's turn

    run.refresh_from_db()
    assert (run.status, run.created_count, run.heartbeat_at is not None) == ("succeeded", 2, True)
    assert set(Paper.objects.values_list("arxiv_id", flat=True)) == {"2103.00020", "2103.10360", "1810.04805"}


def test_nothing_to_fetch_queues_nothing(arxiv_papers, arxiv_queue, curator):
    make_paper("2103.10360")
    results, run = request_papers(["2103.10360", "2103.10360v3"], by=curator)
    assert run is None and arxiv_queue.sent == []
    assert [r["status"] for r in results] == ["known", "known"]
    assert not HarvestRun.objects.exists()


def test_with_the_broker_down_the_answer_says_so_and_the_run_ends_failed(arxiv_papers, broker_down, curator):
    results, run = request_papers(["2103.10360"], by=curator)

    assert results[0]["status"] == "error"
    assert results[0]["message"] == f"2103.10360: not fetched. {QUEUE_DOWN}"
    assert QUEUE_DOWN == "Task queue unavailable; try again in a minute."
    assert (run.status, run.error) == ("failed", QUEUE_DOWN)
    assert run.finished_at is not None  # not "queued" forever


def test_readers_may_not_request_papers(arxiv_papers, arxiv_queue, reader):
    with pytest.raises(PermissionDenied):
        request_papers(["2103.10360"], by=reader)


def test_more_than_the_limit_is_refused(arxiv_queue, curator):
    with pytest.raises(ValueError, match="At most 500 ids"):
        request_papers([f"2103.{n:05d}" for n in range(501)], by=curator)


def test_a_task_delivered_again_after_its_run_ended_does_nothing(arxiv_papers, arxiv_queue, curator):
    _, run = request_papers(["2103.10360"], by=curator)
    arxiv_queue.work()
    asked = len(arxiv_papers.requests)

    assert harvest.run_fetch(run.pk).status == "succeeded"
    assert len(arxiv_papers.requests) == asked


def test_a_run_left_running_by_a_dead_worker_is_run_again_when_its_task_comes_back(
    arxiv_papers, arxiv_queue, curator
):
    _, run = request_papers(["2103.10360"], by=curator)
    HarvestRun.objects.filter(pk=run.pk).update(status="running")  # the first worker died mid-way

    assert harvest.run_fetch(run.pk).status == "succeeded"
    assert Paper.objects.filter(arxiv_id="2103.10360").exists()


# The admin page -----------------------------------------------------------------


def test_the_admin_page_answers_at_once_and_links_the_run_to_follow(
    client, curator, arxiv_papers, arxiv_queue
):
    make_paper("2103.00020")
    client.force_login(curator)

    response = client.post(
        reverse("admin:papers_harvestrun_add_papers"),
        {"ids": "https://arxiv.org/abs/2103.10360v1, 2103.00020 not/an-id"},
        follow=True,
    )

    assert response.status_code == 200
    html = response.content.decode()
    run = HarvestRun.objects.get(kind="fetch")
    assert (
        f'href="{reverse("admin:papers_harvestrun_change", args=[run.pk])}">harvest run #{run.pk}</a>, queued'
        in html
    )
    assert "<td>https://arxiv.org/abs/2103.10360v1</td>" in html and "<td>queued</td>" in html
    assert "<td>known</td>" in html and "“not/an-id” is not an arXiv id" in html
    assert "1 already here, 1 being fetched from arXiv, 1 with errors." in html
    assert arxiv_papers.requests == []

    # The run's page, to poll: it reloads itself while the run is under way, and shows the outcome.
    page = client.get(reverse("admin:papers_harvestrun_change", args=[run.pk])).content.decode()
    assert '<meta http-equiv="refresh" content="5">' in page
    arxiv_queue.work()
    page = client.get(reverse("admin:papers_harvestrun_change", args=[run.pk])).content.decode()
    assert "succeeded" in page and 'http-equiv="refresh"' not in page


def test_the_admin_page_with_the_broker_down_says_nothing_was_fetched(
    client, curator, arxiv_papers, broker_down
):
    client.force_login(curator)

    response = client.post(reverse("admin:papers_harvestrun_add_papers"), {"ids": "2103.10360"}, follow=True)

    assert response.status_code == 200
    html = response.content.decode()
    assert f"Nothing was fetched: {QUEUE_DOWN}" in html
    assert HarvestRun.objects.get(kind="fetch").status == "failed"


# The issue page's add-by-id -----------------------------------------------------------


def add_pick(client, issue, text):
    return client.post(f"/admin/issues/issue/{issue.pk}/add-pick/", {"arxiv": text}, follow=True)


def test_adding_an_unknown_paper_to_an_issue_queues_it_and_says_so(client, editor, arxiv_papers, arxiv_queue):
    issue = make_issue()
    client.force_login(editor)

    html = add_pick(client, issue, "arXiv:2103.10360").content.decode()

    run = HarvestRun.objects.get(kind="fetch")
    assert "2103.10360 is not here yet: it is being fetched from arXiv" in html
    assert f"harvest run #{run.pk}</a>" in html
    assert not issue.picks.exists() and arxiv_papers.requests == []
    arxiv_queue.work()
    add_pick(client, issue, "arXiv:2103.10360")  # once it has arrived
    assert issue.picks.get().paper.arxiv_id == "2103.10360"


def test_adding_an_unknown_paper_with_the_broker_down(client, editor, arxiv_papers, broker_down):
    issue = make_issue()
    client.force_login(editor)

    response = add_pick(client, issue, "2103.10360")

    assert response.status_code == 200
    assert "could not give us 2103.10360" in response.content.decode()
    assert QUEUE_DOWN in response.content.decode()
    assert not issue.picks.exists()


def test_in_the_embedded_mode_the_paper_arrives_in_process_and_becomes_a_pick(
    client, editor, arxiv_papers, monkeypatch
):
    from papers import tasks

    # No broker: Celery runs the task eagerly, in the request (the embedded mode's promise).
    monkeypatch.setattr(
        tasks.fetch_papers, "apply_async", lambda args, **options: tasks.fetch_papers.apply(args)
    )
    issue = make_issue()
    client.force_login(editor)

    add_pick(client, issue, "2103.10360")

    assert issue.picks.get().paper.title == "GLM"
