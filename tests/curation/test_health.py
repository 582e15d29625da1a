"""/healthz says the process is alive; /readyz names the dependency that is not reachable."""

import socket

import pytest
from django.db.utils import OperationalError

from curation import health


@pytest.mark.django_db
def test_healthz_and_readyz_answer_when_everything_is_up(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "broker": "ok"}}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_names_the_database(client, monkeypatch):
    def database_down():
        raise OperationalError("connection refused")

    monkeypatch.setattr(health, "_check_database", database_down)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "unavailable: OperationalError",
        "cache": "ok",
        "broker": "ok",
    }


@pytest.mark.django_db
def test_readyz_names_the_broker(client, settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/14"
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["broker"].startswith("unavailable: ")
