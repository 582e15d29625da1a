import pytest
from django.db import IntegrityError, transaction

from issues.models import Issue, Pick
from tests.conftest import make_issue, make_paper

pytestmark = pytest.mark.django_db


def test_a_paper_is_picked_once_per_issue():
    issue = make_issue(picks=1)
    pick = issue.picks.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Pick.objects.create(issue=issue, paper=pick.paper, position=2)
    assert issue.picks.count() == 1


def test_positions_are_unique_within_an_issue():
    issue = make_issue(picks=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Pick.objects.create(issue=issue, paper=make_paper(), position=1)
    # The same position in another issue is fine.
    other = make_issue(slug="april-2021")
    Pick.objects.create(issue=other, paper=make_paper(), position=1)


def test_status_must_be_a_known_state():
    issue = make_issue()
    with pytest.raises(IntegrityError), transaction.atomic():
        Issue.objects.filter(pk=issue.pk).update(status="bogus")


@pytest.mark.parametrize("status", ["draft", "review", "scheduled"])
def test_published_hides_unpublished_states(status):
    hidden = make_issue(slug=f"hidden-{status}", picks=1, status=status)
    shown = make_issue(slug="shown", picks=1, status="published")
    assert list(Issue.objects.published()) == [shown]
    assert hidden not in Issue.objects.for_public_page()
