"""Figure images: uploads checked for what they really are, and their responsive copies.

The file name says nothing: Pillow reads the bytes, and only PNG, JPEG,
WebP and GIF within the size and pixel limits are accepted. The smaller
renditions are made once per image by a Celery task (issues/tasks.py), so
pages never resize per request and an upload never waits for them.
"""

import io
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, UnidentifiedImageError

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
