"""Figures: the real image type is checked, limits hold, every change goes through issues/figures.py
(role, issue state, revision), and the responsive sizes come from a task run after the commit."""

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from issues import images
from issues.editing import add_pick
from issues.figures import add_figure, remove_figure, update_figure
from issues.models import Figure, Revision
from issues.tasks import make_figure_renditions
from tests.conftest import make_issue, make_paper


@pytest.fixture(autouse=True)
def renditions_in_process(monkeypatch):
    """The worker, in this process: the enqueued task runs when the commit's callbacks do."""
    monkeypatch.setattr(
        make_figure_renditions, "delay", lambda figure_id: make_figure_renditions.apply((figure_id,))
    )


def image_file(name="fig.png", kind="PNG", size=(1200, 600), mode="RGB"):
    buffer = io.BytesIO()
    Image.new(mode, size, (200, 30, 30) if mode == "RGB" else 0).save(buffer, format=kind)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/x-whatever")


def figure_of(issue, by, **fields):
    """A figure on the issue's first pick, with its renditions made (the task run)."""
    pick = issue.picks.order_by("position").first()
    figure = add_figure(
        pick, by=by, image=image_file(), alt_text=fields.pop("alt_text", "A red box."), **fields
    )
    make_figure_renditions(figure.pk)
    figure.refresh_from_db()
    return figure


def figure_revisions(figure):
    return list(
        Revision.objects.filter(object_type="figure", object_id=figure.pk)
        .order_by("pk")
        .values_list("comment", "changed_fields")
    )


# The image checks ------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind,name", [("PNG", "a.png"), ("JPEG", "a.jpg"), ("WEBP", "a.webp"), ("GIF", "a.gif")]
)
def test_the_four_formats_are_accepted(kind, name):
    assert images.validate_image(image_file(name, kind, (64, 32))) == (kind, 64, 32)


def test_a_renamed_non_image_is_rejected():
    fake = SimpleUploadedFile("diagram.png", b"#!/bin/sh\necho not an image\n", content_type="image/png")
    with pytest.raises(ValidationError, match="not a readable PNG, JPEG, WebP or GIF"):
        images.validate_image(fake)


def test_other_real_image_types_are_rejected():
    with pytest.raises(ValidationError, match="BMP images are not accepted"):
        images.validate_image(image_file("a.png", "BMP", (10, 10)))


def test_size_and_pixel_limits(monkeypatch):
    monkeypatch.setattr(images, "MAX_BYTES", 100)
    with pytest.raises(ValidationError, match="the limit is"):
        images.validate_image(image_file(size=(300, 300)))
    monkeypatch.setattr(images, "MAX_BYTES", 10 * 1024 * 1024)
    monkeypatch.setattr(images, "MAX_PIXELS", 1000)
    with pytest.raises(ValidationError, match="megapixels"):
        images.validate_image(image_file(size=(100, 100)))


# Renditions: a task after the commit --------------------------------------------------


@pytest.mark.django_db
def test_responsive_sizes_are_made_by_a_task_after_the_commit(curator, django_capture_on_commit_callbacks):
    pick = add_pick(make_issue(), make_paper(), by=curator)
    with pytest.raises(ValidationError):
        add_figure(pick, by=curator, image=image_file(), alt_text="  ")
    with django_capture_on_commit_callbacks() as callbacks:
        figure = add_figure(pick, by=curator, image=image_file(size=(1200, 600)), alt_text="A red box.")
    # The upload answers at once: nothing resized inside the request.
    assert (figure.width, figure.height) == (1200, 600)
    assert figure.renditions == [] and figure.srcset.endswith("1200w")
    for callback in callbacks:  # the commit: the task runs (in-process when embedded)
        callback()
    figure.refresh_from_db()
    assert [(r["width"], r["height"]) for r in figure.renditions] == [(480, 240), (960, 480)]
    assert figure.srcset.endswith("1200w") and "480w" in figure.srcset
    with default_storage.open(figure.renditions[0]["name"]) as handle:
        assert Image.open(handle).size == (480, 240)


@pytest.mark.django_db
def test_a_rolled_back_upload_enqueues_nothing(curator, django_capture_on_commit_callbacks):
    pick = add_pick(make_issue(), make_paper(), by=curator)
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(ValidationError):
            add_figure(pick, by=curator, image=image_file(), alt_text="")
    assert callbacks == [] and not Figure.objects.exists()


@pytest.mark.django_db
def test_the_task_takes_an_id_and_skips_a_figure_removed_meanwhile(editor):
    issue = make_issue(picks=1)
    figure = add_figure(issue.picks.get(), by=editor, image=image_file(), alt_text="Box")
    remove_figure(figure, by=editor)
    assert make_figure_renditions(figure.pk) == []


@pytest.mark.django_db
def test_the_published_page_shows_a_new_figure_before_and_after_its_renditions(
    client, editor, django_capture_on_commit_callbacks
):
    issue = make_issue(picks=1, status="published")
    with django_capture_on_commit_callbacks() as callbacks:
        figure = add_figure(issue.picks.get(), by=editor, image=image_file(), alt_text="A loss curve")
    page = client.get(issue.get_absolute_url())
    html = page.content.decode()
    assert page.status_code == 200
    assert 'alt="A loss curve"' in html and figure.image.url in html and "srcset" not in html
    for callback in callbacks:  # the version bump and the rendition task
        callback()
    html = client.get(issue.get_absolute_url()).content.decode()
    assert "480w" in html and "960w" in html


# One door: role, issue state, revision ----------------------------------------------------


@pytest.mark.django_db
def test_curators_change_figures_of_a_draft_with_a_revision_each(curator, django_capture_on_commit_callbacks):
    issue = make_issue(picks=1)
    figure = figure_of(issue, curator)
    update_figure(figure, by=curator, data={"caption": "Loss over training.", "alt_text": "A red box."})
    old_files = [figure.image.name, *(r["name"] for r in figure.renditions)]
    with django_capture_on_commit_callbacks() as callbacks:
        figure = update_figure(figure, by=curator, data={}, image=image_file("new.png", size=(1000, 500)))
    # A new image drops the old sizes (they show the old picture) until the task makes new ones;
    # the old files go only once the change is committed.
    assert figure.renditions == [] and figure.width == 1000
    assert all(default_storage.exists(name) for name in old_files)
    for callback in callbacks:
        callback()
    assert not any(default_storage.exists(name) for name in old_files)
    figure.refresh_from_db()
    assert [r["width"] for r in figure.renditions] == [480, 960]
    assert figure_revisions(figure) == [
        ("added figure 1 of pick 1", ["image", "alt_text", "position"]),
        ("changed figure 1 of pick 1", ["caption"]),
        ("changed figure 1 of pick 1", ["image"]),
    ]
    files = [figure.image.name, *(r["name"] for r in figure.renditions)]
    with django_capture_on_commit_callbacks(execute=True):
        remove_figure(figure, by=curator)
    assert not Figure.objects.exists()
    assert figure_revisions(figure)[-1] == ("removed figure 1 of pick 1", [])
    assert not any(default_storage.exists(name) for name in files)


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["scheduled", "published"])
def test_curators_cannot_touch_figures_of_a_scheduled_or_published_issue(curator, editor, status):
    issue = make_issue(picks=1, status=status)
    figure = figure_of(issue, editor, caption="As published.")
    pick = issue.picks.get()
    with pytest.raises(PermissionDenied, match="Only editors can correct"):
        add_figure(pick, by=curator, image=image_file(), alt_text="Another")
    with pytest.raises(PermissionDenied):
        update_figure(figure, by=curator, data={"caption": "Hijacked"})
    with pytest.raises(PermissionDenied):
        remove_figure(figure, by=curator)
    figure.refresh_from_db()
    assert figure.caption == "As published." and pick.figures.count() == 1


@pytest.mark.django_db
def test_an_editor_corrects_a_published_figure_and_readers_see_updated(editor, reader):
    issue = make_issue(picks=1, status="published")
    figure = figure_of(issue, editor)
    issue.refresh_from_db()
    before = issue.updated_at
    update_figure(figure, by=editor, data={"caption": "Corrected caption."})
    issue.refresh_from_db()
    assert issue.updated_at > before
    assert figure_revisions(figure)[-1] == ("changed figure 1 of pick 1", ["caption"])
    for user in (reader, None):
        with pytest.raises(PermissionDenied):
            update_figure(figure, by=user, data={"caption": "x"})


@pytest.mark.django_db
def test_a_figure_without_alt_text_is_refused_on_update(curator):
    figure = figure_of(make_issue(picks=1), curator)
    with pytest.raises(ValidationError, match="Describe the figure"):
        update_figure(figure, by=curator, data={"alt_text": "   "})
    figure.refresh_from_db()
    assert figure.alt_text == "A red box."


@pytest.mark.django_db
def test_an_unchanged_save_records_nothing(curator):
    figure = figure_of(make_issue(picks=1), curator)
    update_figure(figure, by=curator, data={"alt_text": figure.alt_text, "caption": figure.caption})
    assert len(figure_revisions(figure)) == 1


@pytest.mark.django_db
def test_a_figure_revision_shows_in_the_history_and_is_not_restorable(client, curator):
    issue = make_issue(picks=1)
    figure = figure_of(issue, curator)
    update_figure(figure, by=curator, data={"caption": "New caption"})
    client.force_login(curator)
    html = client.get(f"/admin/issues/issue/{issue.pk}/revisions/").content.decode()
    assert f"Figure of “{figure.pick.paper.title}”" in html and "changed figure 1 of pick 1" in html
    revision = Revision.objects.filter(object_type="figure").latest("pk")
    response = client.post(f"/admin/issues/issue/{issue.pk}/revisions/{revision.pk}/restore/", follow=True)
    assert "change the figure on its pick" in response.content.decode()
