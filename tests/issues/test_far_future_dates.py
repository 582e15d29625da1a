"""Far-future dates: a schedule beyond the horizon is refused everywhere; one already stored is undone."""

import importlib
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from issues.models import Issue
from issues.publishing import TransitionError, schedule_issue
from tests.conftest import make_issue

YEAR_9999 = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)
EAST_OF_UTC = "Asia/Tokyo"


@pytest.fixture
def ready(db):
    return make_issue("march-2021", picks=1)


def test_schedule_issue_refuses_a_time_beyond_the_horizon(ready, editor):
    for when in (YEAR_9999, timezone.now() + timedelta(days=5 * 366)):
        with pytest.raises(TransitionError) as refused:
            schedule_issue(ready, by=editor, publish_at=when)
        assert "at most 5 years ahead" in str(refused.value)
    ready.refresh_from_db()
    assert ready.status == Issue.Status.DRAFT and ready.publish_at is None
    # Within the horizon is fine.
    soon = timezone.now() + timedelta(days=4 * 365)
    assert schedule_issue(ready, by=editor, publish_at=soon).publish_at == soon


def test_the_admin_refuses_it_with_the_message_east_of_utc(client, editor, ready, settings):
    settings.TIME_ZONE = EAST_OF_UTC
    client.force_login(editor)
    url = f"/admin/issues/issue/{ready.pk}/transition/schedule/"
    response = client.post(url, {"publish_at_input": "9999-12-31T23:59"}, follow=True)
    assert response.status_code == 200
    assert "at most 5 years ahead" in response.content.decode()
    ready.refresh_from_db()
    assert ready.publish_at is None


def test_the_api_refuses_it_with_the_message(client, editor, ready):
    client.force_login(editor)
    response = client.post(
        f"/api/v1/issues/{ready.slug}/schedule/",
        {"publish_at": "9999-12-31T23:59:00Z"},
        content_type="application/json",
    )
    assert 400 <= response.status_code < 500
    assert "at most 5 years ahead" in response.json()["error"]["message"] + str(response.json())
    ready.refresh_from_db()
    assert ready.publish_at is None


def test_a_far_future_schedule_already_stored_goes_back_to_draft_and_the_admin_renders(
    client, editor, ready, settings
):
    """Stored before the horizon existed: east of UTC that time lies past year 9999's end."""
    from django.apps import apps

    migration = importlib.import_module("issues.migrations.0011_far_future_schedules")
    soon = make_issue("april-2021", picks=1, status="scheduled")
    Issue.objects.filter(pk=ready.pk).update(status=Issue.Status.SCHEDULED, publish_at=YEAR_9999)

    migration.unschedule_far_future(apps, None)

    ready.refresh_from_db()
    assert ready.status == Issue.Status.DRAFT and ready.publish_at is None
    assert "9999-12-31 23:00 UTC, more than 5 years ahead" in ready.publish_error
    # A schedule within the horizon is left alone.
    assert Issue.objects.get(pk=soon.pk).status == Issue.Status.SCHEDULED
    settings.TIME_ZONE = EAST_OF_UTC
    client.force_login(editor)
    for url in ("/admin/issues/issue/", f"/admin/issues/issue/{ready.pk}/change/", "/admin/"):
        assert client.get(url).status_code == 200, url
    page = client.get(f"/admin/issues/issue/{ready.pk}/change/").content.decode()
    assert "more than 5 years ahead" in page
