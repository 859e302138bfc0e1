"""docker-compose.yml and the Dockerfile, checked by reading them (no Docker engine here)."""

import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APP_SERVICES = {"web", "worker", "beat"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def test_services_are_the_whole_stack(services):
    assert set(services) == {"postgres", "redis", "web", "worker", "beat"}


def test_postgres_and_redis_have_healthchecks_and_named_volumes(compose, services):
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]
    declared = set(compose["volumes"])
    for name, mount in (("postgres", "/var/lib/postgresql/data"), ("redis", "/data")):
        volume, target = services[name]["volumes"][0].split(":")
        assert target == mount
        assert volume in declared, f"{name}'s volume {volume} is not declared"


def test_every_declared_volume_is_used(compose, services):
    used = {mount.split(":")[0] for service in services.values() for mount in service.get("volumes", [])}
    assert set(compose["volumes"]) == used


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_app_services_wait_for_healthy_dependencies(services, name):
    depends = services[name]["depends_on"]
    assert {"postgres", "redis"} <= set(depends)
    assert all(dep["condition"] == "service_healthy" for dep in depends.values())
    if name != "web":
        assert depends["web"]["condition"] == "service_healthy", "web runs the migrations first"


@pytest.mark.parametrize("name", ["postgres", "redis", "web", "worker", "beat"])
def test_every_service_has_a_healthcheck(services, name):
    check = services[name]["healthcheck"]
    assert check["test"][0] in {"CMD", "CMD-SHELL"}
    assert check["interval"] and check["retries"] >= 3


def test_web_migrates_collects_static_then_runs_gunicorn(services):
    command = " ".join(services["web"]["command"])
    assert command.index("migrate --noinput") < command.index("collectstatic --noinput") < command.index("gunicorn")
    assert "gunicorn config.wsgi" in command
    assert services["web"]["ports"] == ["8000:8000"]
    # The health check's Python must at least compile.
    compile(services["web"]["healthcheck"]["test"][-1], "web-healthcheck", "exec")
    compile(services["beat"]["healthcheck"]["test"][-1], "beat-healthcheck", "exec")


def test_worker_and_beat_commands(services):
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    node = services["worker"]["command"][services["worker"]["command"].index("-n") + 1]
    assert node == "worker@%h" and "-d worker@$$HOSTNAME" in services["worker"]["healthcheck"]["test"][-1]


def test_app_environment_is_production_and_read_by_settings(services):
    settings_source = (ROOT / "config" / "settings.py").read_text()
    env = services["web"]["environment"]
    assert env["DEBUG"] == "false"
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?"), "compose must refuse to start without a SECRET_KEY"
    assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    for name in env:
        assert f'"{name}"' in settings_source, f"{name} is set in compose but config/settings.py never reads it"
    # The three app services share one environment.
    assert services["worker"]["environment"] == env == services["beat"]["environment"]


def test_dockerfile_has_weasyprint_libraries_and_runs_unprivileged():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.M)
    for package in ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0", "fonts-dejavu-core"):
        assert package in dockerfile
    assert "pip install -c requirements.lock ." in dockerfile
    assert "collectstatic" in dockerfile
    assert "gettext" in dockerfile and "compilemessages" in dockerfile  # the Russian .mo (issue #12)
    assert re.search(r"^USER shop$", dockerfile, re.M)
