"""The layout is the architecture: curation ← papers ← issues ← triage, and no hidden imports."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ["curation", "papers", "issues", "triage"]

# Function-level imports with a reason other than dodging a cycle: app start-up (the
# registry must be ready), an optional dependency, the ranker's worker processes, settings.
ALLOWED = {
    ("curation/settings.py", "curation.logging"),  # settings load before anything else
    ("curation/logging.py", "sentry_sdk"),  # optional: only when SENTRY_DSN is set
    ("triage/ranking.py", "joblib"),  # loaded in the ranker's worker processes only
}


def imports_in_bodies(node, relative, inside=False):
    """(line, module) of the imports under ``node`` that sit in a function or class body."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if relative.endswith("/apps.py") and child.name == "ready":
                continue  # AppConfig.ready: the models are loaded only then
            yield from imports_in_bodies(child, relative, inside=True)
        elif isinstance(child, ast.Import) and inside:
            yield from ((child.lineno, alias.name) for alias in child.names)
        elif isinstance(child, ast.ImportFrom) and inside:
            yield child.lineno, "." * child.level + (child.module or "")
        else:
            yield from imports_in_bodies(child, relative, inside)


def hidden_imports():
    """(path, line, module) of every import inside a function or class body of the apps' code."""
    found = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            found += [
                (relative, line, module)
                for line, module in imports_in_bodies(tree, relative)
                if (relative, module) not in ALLOWED
            ]
    return found


def test_no_import_hides_inside_a_function():
    assert hidden_imports() == []


def test_the_apps_import_in_one_direction_only():
    # The contracts in pyproject.toml: the layers, and no cycle between the modules of an app.
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "2 kept, 0 broken" in result.stdout
