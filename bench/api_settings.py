"""Settings of the API benchmark's gunicorn: production settings with the benchmark's URLconf."""

from curation.settings import *  # noqa: F403 - the product's settings, unchanged but for the URLconf

ROOT_URLCONF = "bench.api_urls"
