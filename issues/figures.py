"""Figures: uploaded images checked for what they really are, plus responsive copies.

The file name says nothing: Pillow reads the bytes, and only PNG, JPEG,
WebP and GIF within the size and pixel limits are accepted. Smaller
renditions are made once at upload, so pages never resize per request.
"""

import io
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from PIL import Image, UnidentifiedImageError

from .models import Figure

ALLOWED_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "GIF": "gif"}
MAX_BYTES = getattr(settings, "FIGURE_MAX_BYTES", 10 * 1024 * 1024)
MAX_PIXELS = getattr(settings, "FIGURE_MAX_PIXELS", 40_000_000)
RENDITION_WIDTHS = (480, 960, 1600)


def validate_image(upload):
    """Check an uploaded file; returns (format, width, height) or raises ValidationError saying why."""
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_BYTES:
        raise ValidationError(
            f"The image is {size / 1_048_576:.1f} MB; the limit is {MAX_BYTES / 1_048_576:.0f} MB."
        )
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            kind = image.format
            width, height = image.size
            if kind not in ALLOWED_FORMATS:
                raise ValidationError(
                    f"{kind or 'This'} images are not accepted: upload PNG, JPEG, WebP or GIF."
                )
            if width * height > MAX_PIXELS:
                raise ValidationError(
                    f"The image is {width}×{height} pixels; the limit is {MAX_PIXELS / 1e6:.0f} megapixels."
                )
            image.verify()
    except ValidationError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        # A renamed text file, a truncated upload or a decompression bomb.
        raise ValidationError("This file is not a readable PNG, JPEG, WebP or GIF image.") from None
    finally:
        upload.seek(0)
    return kind, width, height


def make_renditions(figure):
    """Write the smaller widths of ``figure``'s image and store them on it. Returns the renditions."""
    figure.image.open("rb")
    try:
        with Image.open(figure.image) as image:
            kind = image.format
            image.seek(0)  # an animated GIF becomes its first frame
            image.load()
            source = image.copy()
    finally:
        figure.image.close()
    out_format = "JPEG" if kind == "JPEG" else "WEBP" if kind == "WEBP" else "PNG"
    extension = {"JPEG": "jpg", "WEBP": "webp", "PNG": "png"}[out_format]
    if out_format == "JPEG" and source.mode not in ("RGB", "L"):
        source = source.convert("RGB")
    stem = PurePosixPath(figure.image.name)
    renditions = []
    for old in figure.renditions:
        default_storage.delete(old["name"])
    for width in RENDITION_WIDTHS:
        if width >= source.width:
            break
        height = round(source.height * width / source.width)
        copy = source.resize((width, height), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        copy.save(
            buffer, format=out_format, **({"quality": 85} if out_format != "PNG" else {"optimize": True})
        )
        name = default_storage.save(
            str(stem.parent / "renditions" / f"{stem.stem}-{width}w.{extension}"),
            ContentFile(buffer.getvalue()),
        )
        renditions.append({"width": width, "height": height, "name": name})
    figure.renditions = renditions
    figure.save(update_fields=["renditions", "updated_at"])
    return renditions


@transaction.atomic
def add_figure(pick, *, by, image, alt_text, caption="", credit="", credit_url="", position=None):
    """Attach a validated image to ``pick``; returns the Figure with its renditions."""
    from .editing import _require_may_edit

    _require_may_edit(pick.issue, by)
    validate_image(image)
    if not (alt_text or "").strip():
        raise ValidationError({"alt_text": "Describe the figure for readers who can't see it."})
    if position is None:
        position = (pick.figures.aggregate(last=Max("position"))["last"] or 0) + 1
    figure = Figure(
        pick=pick, alt_text=alt_text, caption=caption, credit=credit, credit_url=credit_url, position=position
    )
    figure.image.save(PurePosixPath(image.name).name, image, save=False)
    figure.full_clean(exclude=["pick", "image"])
    figure.save()
    make_renditions(figure)
    return figure
