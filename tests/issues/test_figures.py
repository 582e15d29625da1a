"""Figures: the real image type is checked, limits hold, responsive sizes are made."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from issues import figures
from issues.editing import add_pick
from issues.figures import add_figure, validate_image
from tests.conftest import make_issue, make_paper


def image_file(name="fig.png", kind="PNG", size=(1200, 600), mode="RGB"):
    buffer = io.BytesIO()
    Image.new(mode, size, (200, 30, 30) if mode == "RGB" else 0).save(buffer, format=kind)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/x-whatever")


@pytest.mark.parametrize(
    "kind,name", [("PNG", "a.png"), ("JPEG", "a.jpg"), ("WEBP", "a.webp"), ("GIF", "a.gif")]
)
def test_the_four_formats_are_accepted(kind, name):
    assert validate_image(image_file(name, kind, (64, 32))) == (kind, 64, 32)


def test_a_renamed_non_image_is_rejected():
    fake = SimpleUploadedFile("diagram.png", b"#!/bin/sh\necho not an image\n", content_type="image/png")
    with pytest.raises(ValidationError, match="not a readable PNG, JPEG, WebP or GIF"):
        validate_image(fake)


def test_other_real_image_types_are_rejected():
    with pytest.raises(ValidationError, match="BMP images are not accepted"):
        validate_image(image_file("a.png", "BMP", (10, 10)))


def test_size_and_pixel_limits(monkeypatch):
    monkeypatch.setattr(figures, "MAX_BYTES", 100)
    with pytest.raises(ValidationError, match="the limit is"):
        validate_image(image_file(size=(300, 300)))
    monkeypatch.setattr(figures, "MAX_BYTES", 10 * 1024 * 1024)
    monkeypatch.setattr(figures, "MAX_PIXELS", 1000)
    with pytest.raises(ValidationError, match="megapixels"):
        validate_image(image_file(size=(100, 100)))


@pytest.mark.django_db
def test_upload_makes_responsive_sizes_and_requires_alt_text(curator):
    pick = add_pick(make_issue(), make_paper(), by=curator)
    with pytest.raises(ValidationError):
        add_figure(pick, by=curator, image=image_file(), alt_text="  ")
    figure = add_figure(pick, by=curator, image=image_file(size=(1200, 600)), alt_text="A red box.")
    assert (figure.width, figure.height) == (1200, 600)
    assert [(r["width"], r["height"]) for r in figure.renditions] == [(480, 240), (960, 480)]
    assert figure.srcset.endswith("1200w") and "480w" in figure.srcset
    with figures.default_storage.open(figure.renditions[0]["name"]) as handle:
        assert Image.open(handle).size == (480, 240)


@pytest.mark.django_db
def test_admin_inline_rejects_a_renamed_non_image(client, editor):
    issue = make_issue()
    pick = add_pick(issue, make_paper(), by=editor, why="W", key_insights="K")
    client.force_login(editor)
    url = f"/admin/issues/pick/{pick.pk}/change/"
    form = {
        "paper_title": pick.paper_title,
        "paper_version": pick.paper_version,
        "why": "W",
        "key_insights": "K",
        "code_url": "",
        "demo_url": "",
        "edit_lock": pick.lock_version,
        "figures-TOTAL_FORMS": 1,
        "figures-INITIAL_FORMS": 0,
        "figures-0-image": SimpleUploadedFile("fig.png", b"not an image at all", content_type="image/png"),
        "figures-0-alt_text": "Alt",
        "figures-0-position": 1,
    }
    response = client.post(url, form)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Upload a valid image" in html or "not a readable PNG, JPEG, WebP or GIF" in html
    assert pick.figures.count() == 0
    form["figures-0-image"] = image_file()
    response = client.post(url, form)
    assert response.status_code == 302
    figure = pick.figures.get()
    assert figure.renditions and figure.alt_text == "Alt"
