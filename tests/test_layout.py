"""The repository's shape: entry points exist, and the README stays true to the code."""

import os
import re
import subprocess
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def _section(text: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def test_entry_points_exist():
    for name in ("manage.py", "Makefile", "README.md", "docker-compose.yml", "Dockerfile", "requirements.lock"):
        assert (ROOT / name).is_file(), name
    assert os.access(ROOT / ".ci" / "run", os.X_OK), ".ci/run must be executable"
    for app in ("config", "shop", "orders", "payments", "shipping", "refunds"):
        assert (ROOT / app / "__init__.py").is_file(), app


def test_readme_quick_start_is_make_run_and_make_test():
    quick = _section((ROOT / "README.md").read_text(), "Quick start")
    block = re.search(r"```sh\n(.*?)```", quick, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["make run", "make test"]


def test_readme_documents_every_environment_variable():
    source = (ROOT / "config" / "settings.py").read_text()
    names = set(re.findall(r'(?:os\.environ\.get|os\.environ\[|env_bool|env_list)\(?"([A-Z_]+)"', source))
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PAYPAL_CLIENT_ID"} <= names
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in names if f"`{name}`" not in readme)
    assert missing == [], f"README's Configuration table lacks {missing}"


def test_readme_has_a_staff_tour():
    tour = _section((ROOT / "README.md").read_text(), "Tour for staff")
    assert "/admin/" in tour and "Policy" in tour and "Outbox" in tour


def test_make_knows_the_documented_targets():
    for target in ("run", "test", "lint"):
        result = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
    dry_run = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, timeout=30).stdout
    assert "manage.py migrate" in dry_run and "load_demo" in dry_run and "manage.py runshop" in dry_run


def test_ci_script_is_strict_and_requires_services():
    script = (ROOT / ".ci" / "run").read_text()
    assert "set -euo pipefail" in script
    assert "REQUIRE_SERVICES=1" in script and "make test" in script and "ruff check" in script
    result = subprocess.run(["bash", "-n", str(ROOT / ".ci" / "run")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
