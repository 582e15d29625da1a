"""The admin is a caller too: every change it makes goes through the function that owns it.

Figures, picks and issues of a scheduled or published issue are the editors' to
correct, on every admin page (the figure's own form, the pick page's figure
inline, delete views, changelist actions); each change leaves its Revision. The
history itself and the API tokens are not editable from a form.
"""

import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from rest_framework.authtoken.models import Token

from issues.editing import add_pick
from issues.figures import add_figure
from issues.models import Figure, Issue, Pick, Revision
from issues.publishing import publish_issue, schedule_issue
from issues.tasks import make_figure_renditions
from tests.conftest import make_issue, make_paper, make_publisher

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def renditions_in_process(monkeypatch):
    """The worker, in this process: the enqueued task runs when the commit's callbacks do."""
    monkeypatch.setattr(
        make_figure_renditions, "delay", lambda figure_id: make_figure_renditions.apply((figure_id,))
    )


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.org", "pw-1234567890")


def image_file(name="fig.png", size=(1200, 600)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def issue_with_figure(status):
    """An issue with one pick carrying one figure, in ``status``."""
    issue = make_issue(picks=1)
    add_figure(
        issue.picks.get(),
        by=make_publisher(),
        image=image_file(),
        alt_text="A loss curve",
        caption="As drawn.",
    )
    if status != "draft":
        issue = make_issue_status(issue, status)
    return issue, Figure.objects.get()


def make_issue_status(issue, status):
    """Publish or schedule ``issue`` through the transition functions."""
    if status == "published":
        return publish_issue(issue, by=make_publisher())
    return schedule_issue(issue, by=make_publisher(), publish_at=timezone.now() + timedelta(days=1))


def figure_form(figure, **changes):
    values = {
        "alt_text": figure.alt_text,
        "caption": figure.caption,
        "credit": figure.credit,
        "credit_url": figure.credit_url,
        "position": figure.position,
    }
    return values | changes


def pick_form(pick, figures=(), new=None, delete=()):
    """The pick page's POST: the pick's fields and its figure inline (existing rows, one new row)."""
    data = {
        "paper_title": pick.paper_title,
        "paper_version": pick.paper_version,
        "why": pick.why,
        "key_insights": pick.key_insights,
        "code_url": pick.code_url,
        "demo_url": pick.demo_url,
        "edit_lock": pick.lock_version,
        "figures-TOTAL_FORMS": len(figures) + (1 if new else 0),
        "figures-INITIAL_FORMS": len(figures),
    }
    for index, (figure, changes) in enumerate(figures):
        data |= {f"figures-{index}-{name}": value for name, value in figure_form(figure, **changes).items()}
        data |= {f"figures-{index}-id": figure.pk, f"figures-{index}-pick": pick.pk}
        if figure in delete:
            data[f"figures-{index}-DELETE"] = "on"
    if new:
        index = len(figures)
        data |= {f"figures-{index}-{name}": value for name, value in new.items()}
        data[f"figures-{index}-pick"] = pick.pk
    return data


def figure_revisions():
    return list(
        Revision.objects.filter(object_type="figure").order_by("pk").values_list("comment", "user__username")
    )


# Figures: the figure's own admin page --------------------------------------------------------


@pytest.mark.parametrize("status", ["scheduled", "published"])
def test_a_curator_cannot_change_or_delete_a_public_issues_figure_on_its_page(client, curator, status):
    issue, figure = issue_with_figure(status)
    client.force_login(curator)
    url = reverse("admin:issues_figure_change", args=[figure.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'name="caption"' not in page.content.decode()  # read-only
    assert client.post(url, figure_form(figure, caption="Hijacked")).status_code == 403
    delete = reverse("admin:issues_figure_delete", args=[figure.pk])
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    changelist = reverse("admin:issues_figure_changelist")
    client.post(changelist, {"action": "delete_selected", "_selected_action": [figure.pk], "post": "yes"})
    figure.refresh_from_db()
    assert figure.caption == "As drawn."
    assert len(figure_revisions()) == 1  # only its addition


def test_an_editor_corrects_a_published_figure_on_its_page_with_a_revision(client, editor):
    issue, figure = issue_with_figure("published")
    client.force_login(editor)
    url = reverse("admin:issues_figure_change", args=[figure.pk])
    response = client.post(url, figure_form(figure, caption="Corrected caption."))
    assert response.status_code == 302
    figure.refresh_from_db()
    assert figure.caption == "Corrected caption."
    assert figure_revisions()[-1] == ("changed figure 1 of pick 1", "edna")
    response = client.post(reverse("admin:issues_figure_delete", args=[figure.pk]), {"post": "yes"})
    assert response.status_code == 302 and not Figure.objects.exists()
    assert figure_revisions()[-1] == ("removed figure 1 of pick 1", "edna")


def test_the_figure_changelists_delete_action_goes_through_remove_figure(client, curator):
    issue, figure = issue_with_figure("draft")
    client.force_login(curator)
    changelist = reverse("admin:issues_figure_changelist")
    response = client.post(
        changelist, {"action": "delete_selected", "_selected_action": [figure.pk], "post": "yes"}
    )
    assert response.status_code == 302 and not Figure.objects.exists()
    assert figure_revisions()[-1] == ("removed figure 1 of pick 1", "carl")


# Figures: the pick page's inline -------------------------------------------------------------


@pytest.mark.parametrize("status", ["scheduled", "published"])
def test_a_curator_cannot_touch_a_public_issues_figures_through_the_pick_page(client, curator, status):
    issue, figure = issue_with_figure(status)
    pick = issue.picks.get()
    client.force_login(curator)
    url = reverse("admin:issues_pick_change", args=[pick.pk])
    attempts = [
        pick_form(pick, [(figure, {"caption": "Hijacked"})]),
        pick_form(pick, [(figure, {})], delete=[figure]),
        pick_form(pick, [(figure, {})], new={"image": image_file(), "alt_text": "Smuggled", "position": 2}),
    ]
    for data in attempts:
        assert client.post(url, data).status_code == 403
    assert list(Figure.objects.values_list("alt_text", "caption")) == [("A loss curve", "As drawn.")]
    assert len(figure_revisions()) == 1


def test_an_editor_corrects_a_published_issues_figures_through_the_pick_page(client, editor):
    issue, figure = issue_with_figure("published")
    pick = issue.picks.get()
    client.force_login(editor)
    url = reverse("admin:issues_pick_change", args=[pick.pk])
    data = pick_form(
        pick, [(figure, {"caption": "Corrected."})], new={"image": image_file(), "alt_text": "A second one"}
    )
    data["figures-1-position"] = 2
    assert client.post(url, data).status_code == 302
    assert list(pick.figures.order_by("position").values_list("caption", "alt_text")) == [
        ("Corrected.", "A loss curve"),
        ("", "A second one"),
    ]
    assert figure_revisions()[-2:] == [
        ("changed figure 1 of pick 1", "edna"),
        ("added figure 2 of pick 1", "edna"),
    ]
    pick.refresh_from_db()
    data = pick_form(pick, [(f, {}) for f in pick.figures.order_by("position")], delete=[figure])
    assert client.post(url, data).status_code == 302
    assert list(pick.figures.values_list("alt_text", flat=True)) == ["A second one"]
    assert figure_revisions()[-1] == ("removed figure 1 of pick 1", "edna")


def test_figures_uploaded_on_a_draft_pick_page_get_revisions_and_renditions(
    client, curator, django_capture_on_commit_callbacks
):
    pick = add_pick(make_issue(), make_paper(), by=curator, why="W", key_insights="K")
    client.force_login(curator)
    url = reverse("admin:issues_pick_change", args=[pick.pk])
    not_an_image = SimpleUploadedFile("fig.png", b"not an image at all", content_type="image/png")
    response = client.post(
        url, pick_form(pick, new={"image": not_an_image, "alt_text": "Alt", "position": 1})
    )
    assert response.status_code == 200
    assert (
        "Upload a valid image" in response.content.decode()
        or "not a readable PNG" in response.content.decode()
    )
    assert not pick.figures.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, pick_form(pick, new={"image": image_file(), "alt_text": "Alt", "position": 1})
        )
    assert response.status_code == 302
    figure = pick.figures.get()
    assert figure.alt_text == "Alt" and [r["width"] for r in figure.renditions] == [480, 960]
    assert figure_revisions() == [("added figure 1 of pick 1", "carl")]


# Picks and issues --------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["scheduled", "published"])
def test_a_curator_cannot_delete_a_public_issues_pick(client, curator, status):
    issue = make_issue_status(make_issue(picks=2), status)
    pick = issue.picks.get(position=1)
    client.force_login(curator)
    delete = reverse("admin:issues_pick_delete", args=[pick.pk])
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    client.post(
        reverse("admin:issues_pick_changelist"),
        {"action": "delete_selected", "_selected_action": [pick.pk], "post": "yes"},
    )
    assert issue.picks.count() == 2


def test_deleting_picks_in_the_admin_goes_through_remove_pick(client, curator):
    issue = make_issue(picks=3)
    first, second, third = issue.picks.order_by("position")
    client.force_login(curator)
    response = client.post(reverse("admin:issues_pick_delete", args=[first.pk]), {"post": "yes"})
    assert response.status_code == 302
    # remove_pick: the later picks move up and the removal is in the history.
    assert list(issue.picks.order_by("position").values_list("pk", "position")) == [
        (second.pk, 1),
        (third.pk, 2),
    ]
    response = client.post(
        reverse("admin:issues_pick_changelist"),
        {"action": "delete_selected", "_selected_action": [second.pk, third.pk], "post": "yes"},
    )
    assert response.status_code == 302 and not issue.picks.exists()
    comments = list(Revision.objects.filter(object_type="pick").values_list("comment", flat=True))
    assert sum(comment.startswith("removed pick") for comment in comments) == 3


def test_a_public_issue_is_not_deleted_from_the_admin(client, editor):
    issue = make_issue_status(make_issue(picks=1), "published")
    client.force_login(editor)
    delete = reverse("admin:issues_issue_delete", args=[issue.pk])
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Issue.objects.filter(pk=issue.pk).exists() and Pick.objects.filter(issue=issue).exists()


@pytest.mark.parametrize("persona", ["curator", "editor", "superuser"])
def test_the_revision_history_is_read_only(client, request, persona):
    issue = make_issue(picks=1)
    revision = Revision.objects.create(
        issue=issue, object_type="issue", object_id=issue.pk, data={"title": "T"}
    )
    client.force_login(request.getfixturevalue(persona))
    change = reverse("admin:issues_revision_change", args=[revision.pk])
    assert client.get(change).status_code == 200
    assert (
        client.post(change, {"object_type": "issue", "object_id": issue.pk, "data": "{}"}).status_code == 403
    )
    assert (
        client.post(reverse("admin:issues_revision_delete", args=[revision.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert client.get(reverse("admin:issues_revision_add")).status_code == 403
    revision.refresh_from_db()
    assert revision.data == {"title": "T"}


# API tokens --------------------------------------------------------------------------------


def test_only_superusers_see_create_or_revoke_api_tokens(client, editor, curator, superuser):
    token = Token.objects.create(user=superuser)
    # Even a staff account granted the token permissions by hand: a token acts with its user's rights.
    editor.user_permissions.add(*Permission.objects.filter(content_type__app_label="authtoken"))
    for user in (editor, curator):
        client.force_login(user)
        assert client.get(reverse("admin:authtoken_tokenproxy_changelist")).status_code == 403
        assert (
            client.post(reverse("admin:authtoken_tokenproxy_add"), {"user": superuser.pk}).status_code == 403
        )
        delete = reverse("admin:authtoken_tokenproxy_delete", args=[superuser.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        assert "authtoken" not in client.get(reverse("admin:index")).content.decode()
    assert list(Token.objects.values_list("key", flat=True)) == [token.key]
    client.force_login(superuser)
    assert client.get(reverse("admin:authtoken_tokenproxy_changelist")).status_code == 200
    assert client.post(reverse("admin:authtoken_tokenproxy_add"), {"user": editor.pk}).status_code == 302
    assert Token.objects.filter(user=editor).exists()
