"""docker-compose.yml and the Dockerfile name only things that exist.

Docker does not run in CI, so this reads them and checks every module,
command, file and URL they point at.
"""

import importlib
import re
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_the_stack_has_every_part():
    assert {"db", "redis", "migrate", "web", "worker", "arxiv-worker", "beat"} <= set(SERVICES)
    assert SERVICES["db"]["image"].startswith("postgres:15")
    assert set(COMPOSE["volumes"]) == {"pgdata", "redisdata", "media"}
    for name in ("db", "redis", "web", "worker", "arxiv-worker"):
        assert "healthcheck" in SERVICES[name], name


def test_app_services_share_one_image_and_wait_for_migrate():
    for name in ("web", "worker", "arxiv-worker", "beat"):
        service = SERVICES[name]
        assert service["image"] == "curation:latest" and service["build"] == "."
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert SERVICES["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]


def test_secrets_come_from_the_environment():
    env = SERVICES["web"]["environment"]
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert env["DEBUG"] == "0"


def test_gunicorn_command_points_at_real_modules():
    command = SERVICES["web"]["command"]
    assert command[0] == "gunicorn"
    module, attribute = command[1].split(":")
    assert callable(getattr(importlib.import_module(module), attribute))
    config = command[command.index("-c") + 1]
    assert (ROOT / config).is_file()


def test_celery_commands_point_at_the_app_and_the_arxiv_queue():
    from curation.celery import app

    assert importlib.import_module("curation").celery_app is app
    worker = SERVICES["worker"]["command"]
    arxiv = SERVICES["arxiv-worker"]["command"]
    assert worker[:4] == ["celery", "-A", "curation", "worker"]
    assert arxiv[arxiv.index("-Q") + 1] == "arxiv"
    assert arxiv[arxiv.index("--concurrency") + 1] == "1"
    assert SERVICES["beat"]["command"][:4] == ["celery", "-A", "curation", "beat"]
    routed = {route["queue"] for route in app.conf.task_routes.values()}
    assert routed == {"arxiv"}


@pytest.mark.django_db
def test_web_healthcheck_url_answers():
    test = SERVICES["web"]["healthcheck"]["test"]
    path = re.search(r"http://127\.0\.0\.1:8000(/\S*?)'", " ".join(test)).group(1)
    assert Client().get(path).status_code == 200


def test_dockerfile_files_and_commands_exist():
    text = (ROOT / "Dockerfile").read_text()
    assert text.startswith("# ") and "FROM python:3.11" in text
    for line in text.splitlines():
        if line.startswith("COPY ") and not line.startswith("COPY . "):
            assert (ROOT / line.split()[1]).exists(), line
    assert "collectstatic" in get_commands()
    cmd = re.search(r"^CMD (\[.*\])$", text, re.M).group(1)
    assert yaml.safe_load(cmd) == SERVICES["web"]["command"]


def test_manage_commands_named_anywhere_exist():
    commands = get_commands()
    for service in SERVICES.values():
        command = service.get("command")
        if isinstance(command, list) and command[:2] == ["python", "manage.py"]:
            assert command[2] in commands
    makefile = (ROOT / "Makefile").read_text()
    for name in re.findall(r"manage\.py (\w+)", makefile):
        assert name in commands, name
    for name in re.findall(r"manage\.py (\w+)", (ROOT / ".ci" / "run").read_text()):
        assert name in commands, name
