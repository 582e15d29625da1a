"""Production hardening: deploy checks, HTTPS, cookies, headers, default credentials, uploads."""

import io
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from curation.media import protect

ROOT = Path(__file__).resolve().parents[2]


def production_env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        DEBUG="0",
        ALLOWED_HOSTS="curation.example.org",
        VAR_DIR=str(tmp_path),
    )
    env.update(extra)
    return env


def test_check_deploy_is_clean_with_the_production_environment(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_complains_about_a_weak_key(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(tmp_path, SECRET_KEY="short"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "security.W009" in result.stderr


def production_settings(tmp_path):
    code = (
        "import os; os.environ['DJANGO_SETTINGS_MODULE']='curation.settings'; "
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER[0], "
        "s.SECURE_REFERRER_POLICY, s.X_FRAME_OPTIONS, s.SESSION_COOKIE_AGE, "
        "s.SESSION_EXPIRE_AT_BROWSER_CLOSE, s.LOGGING['handlers']['console']['formatter'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=production_env(tmp_path), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_production_turns_on_https_secure_cookies_and_expiring_sessions(tmp_path):
    assert production_settings(tmp_path) == [
        "True",
        str(365 * 24 * 3600),
        "True",
        "True",
        "True",
        "HTTP_X_FORWARDED_PROTO",
        "strict-origin-when-cross-origin",
        "DENY",
        str(8 * 3600),
        "True",
        "json",
    ]


@pytest.mark.django_db
def test_plain_http_is_redirected_but_probes_are_not(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 3600
    client = Client()
    response = client.get("/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
    assert client.get("/healthz").status_code == 200
    # Behind the proxy, which says the client used https: served, with HSTS.
    response = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert response["Strict-Transport-Security"].startswith("max-age=3600")


@pytest.mark.django_db
def test_every_page_sends_the_protective_headers(client):
    response = client.get("/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
def test_the_local_admin_account_exists_only_with_debug(settings, django_user_model):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only runs with DEBUG on"):
        call_command("ensure_local_admin", stdout=io.StringIO())
    assert not django_user_model.objects.filter(username="admin").exists()

    settings.DEBUG = True
    out = io.StringIO()
    call_command("ensure_local_admin", stdout=out)
    assert django_user_model.objects.get(username="admin").is_superuser
    assert "password:" in out.getvalue()


@pytest.mark.django_db
def test_weak_passwords_are_refused(django_user_model):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    user = django_user_model(username="edna", email="edna@example.org")
    for weak in ("short", "password123", "12345678901", "edna@example.org"):
        with pytest.raises(ValidationError):
            validate_password(weak, user)
    validate_password("correct horse battery staple", user)


@pytest.mark.django_db
def test_oversized_bodies_are_refused_unread(client, settings):
    settings.MAX_REQUEST_BODY_SIZE = 1024
    response = client.post("/admin/login/", data=b"x" * 2048, content_type="application/octet-stream")
    assert response.status_code == 413
    assert b"too large" in response.content


def test_uploaded_files_are_inert():
    from django.http import HttpResponse

    image = protect(HttpResponse(b"\x89PNG", content_type="image/png"))
    assert image["X-Content-Type-Options"] == "nosniff"
    assert "Content-Disposition" not in image
    assert "sandbox" in image["Content-Security-Policy"]
    for content_type in ("text/html", "image/svg+xml", "application/pdf", "application/octet-stream"):
        other = protect(HttpResponse(b"<script>alert(1)</script>", content_type=content_type))
        assert other["Content-Disposition"] == "attachment", content_type
        assert other["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_media_served_in_the_embedded_mode_carries_the_headers(settings, tmp_path, rf):
    from curation.media import serve_media

    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "evil.html").write_text("<script>alert(1)</script>")
    (tmp_path / "figure.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    request = rf.get("/media/evil.html")
    response = serve_media(request, "evil.html", document_root=tmp_path)
    assert response["Content-Disposition"] == "attachment"
    assert response["X-Content-Type-Options"] == "nosniff"
    response = serve_media(request, "figure.png", document_root=tmp_path)
    assert not response.get("Content-Disposition", "").startswith("attachment")


@pytest.mark.django_db
def test_figures_must_be_real_images(tmp_path):
    from django import forms
    from django.core.files.uploadedfile import SimpleUploadedFile

    from issues.models import Figure

    class FigureForm(forms.ModelForm):
        class Meta:
            model = Figure
            fields = ["image", "alt_text"]

    disguised = SimpleUploadedFile("figure.png", b"<html><script>alert(1)</script></html>", "image/png")
    form = FigureForm(data={"alt_text": "A chart"}, files={"image": disguised})
    assert not form.is_valid()
    assert "image" in form.errors
    svg = SimpleUploadedFile("figure.svg", b"<svg onload='alert(1)'/>", "image/svg+xml")
    form = FigureForm(data={"alt_text": "A chart"}, files={"image": svg})
    assert not form.is_valid()


def test_behind_the_compose_proxy_clients_are_told_apart_and_gunicorn_is_not_exposed():
    """docker-compose.yml: web trusts the one proxy in front of it, and only that proxy reaches it."""
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    web = compose["services"]["web"]
    assert web["environment"]["TRUSTED_PROXY_COUNT"] == "${TRUSTED_PROXY_COUNT:-1}"
    # The shared environment is still there (the merge kept it).
    assert web["environment"]["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert web["ports"] == ["127.0.0.1:8000:8000"]


def gunicorn_config():
    config = {"__file__": str(ROOT / "gunicorn.conf.py")}
    exec(compile((ROOT / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), config)  # noqa: S102
    return config


def test_gunicorn_forks_preloaded_workers_in_production(monkeypatch):
    """A killed worker is replaced by a fork of the loaded master (python -m bench restarts measures it)."""
    monkeypatch.delenv("GUNICORN_PRELOAD", raising=False)
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://redis:6379/0")
    config = gunicorn_config()
    assert config["preload_app"] is True
    assert callable(config["when_ready"])
    # Without a broker the web process runs the in-process beat's thread: no fork from it.
    monkeypatch.delenv("CELERY_BROKER_URL")
    assert gunicorn_config()["preload_app"] is False
