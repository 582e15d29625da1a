"""The triage history is read-only in the admin: decisions and events change only through the queue."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from tests.conftest import make_issue, make_paper
from triage import decisions
from triage.models import TriageDecision, TriageEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.org", "pw-1234567890")


@pytest.fixture(params=["curator", "editor", "superuser"])
def staff(request):
    return request.getfixturevalue(request.param)


@pytest.fixture
def history(other_curator):
    """Cora's shortlist of a paper in a draft issue: one decision and its event."""
    issue, paper = make_issue(), make_paper()
    decisions.shortlist(paper, issue, by=other_curator, note="Cora's reason")
    return TriageDecision.objects.get(), TriageEvent.objects.get()


def snapshot():
    return (
        list(TriageDecision.objects.values_list("pk", "state", "by", "note")),
        list(TriageEvent.objects.values_list("pk", "action", "user", "undone")),
    )


def admin_url(obj, view):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[obj.pk])


def test_staff_see_the_history_read_only(client, staff, history):
    decision, event = history
    client.force_login(staff)
    for obj in (decision, event):
        page = client.get(admin_url(obj, "change"))
        assert page.status_code == 200
        html = page.content.decode()
        # A view page: no inputs, no save or delete buttons.
        assert 'name="_save"' not in html and 'name="state"' not in html and "deletelink" not in html
        changelist = client.get(reverse(f"admin:triage_{obj._meta.model_name}_changelist")).content.decode()
        assert "delete_selected" not in changelist


def test_nobody_adds_a_decision_or_event_from_a_form(client, staff, history, curator):
    decision, event = history
    client.force_login(staff)
    before = snapshot()
    for model in ("triagedecision", "triageevent"):
        url = reverse(f"admin:triage_{model}_add")
        assert client.get(url).status_code == 403
        post = {"issue": decision.issue_id, "paper": decision.paper_id, "state": "rejected", "by": curator.pk}
        post |= {"user": curator.pk, "action": "reject"}
        assert client.post(url, post).status_code == 403
    assert snapshot() == before


def test_nobody_rewrites_anothers_decision_from_the_change_form(client, staff, history, curator):
    decision, event = history
    client.force_login(staff)
    before = snapshot()
    rewrite = {
        "issue": decision.issue_id,
        "paper": decision.paper_id,
        "state": "rejected",
        "by": curator.pk,
        "at_0": "2021-03-01",
        "at_1": "12:00:00",
        "note": "rewritten",
    }
    assert client.post(admin_url(decision, "change"), rewrite).status_code == 403
    forged = {"issue": event.issue_id, "paper": event.paper_id, "user": curator.pk, "action": "reject"}
    assert client.post(admin_url(event, "change"), forged | {"undone": "on"}).status_code == 403
    assert snapshot() == before


def test_nobody_deletes_history_from_the_delete_view_or_the_changelist(client, staff, history):
    decision, event = history
    client.force_login(staff)
    before = snapshot()
    for obj in (decision, event):
        assert client.get(admin_url(obj, "delete")).status_code == 403
        assert client.post(admin_url(obj, "delete"), {"post": "yes"}).status_code == 403
        changelist = reverse(f"admin:triage_{obj._meta.model_name}_changelist")
        client.post(changelist, {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"})
    assert snapshot() == before


def test_a_curator_triages_through_the_queue_which_keeps_the_history(history, curator):
    decision, _ = history
    decisions.reject(decision.paper, decision.issue, by=curator)
    event = TriageEvent.objects.latest("pk")
    assert (event.action, event.user, event.previous_state, event.detail["previous_by"]) == (
        "reject",
        curator,
        "shortlisted",
        decision.by_id,
    )


@pytest.mark.parametrize("group", ["Curators", "Editors"])
def test_the_roles_may_only_view_decisions_and_events(curator, editor, group):
    # The fixtures make sure the groups exist after a flushing test; the grants are the migrations'.
    permissions = set(
        Group.objects.get(name=group)
        .permissions.filter(content_type__app_label="triage")
        .values_list("content_type__model", "codename")
    )
    assert {codename for model, codename in permissions if model == "triagedecision"} == {
        "view_triagedecision"
    }
    assert {codename for model, codename in permissions if model == "triageevent"} == {"view_triageevent"}
    assert not {
        codename for _, codename in permissions if codename.startswith(("add_", "change_", "delete_"))
    } - {
        "add_watchlistentry",
        "change_watchlistentry",
        "delete_watchlistentry",
    }
