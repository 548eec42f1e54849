"""Every service has one shape, so a reader finds the same thing in the same place in each.

A service package holds `__init__.py` (wiring), `api.py` (thin routes), `schemas.py` (the
models its routes take and answer), `domain.py` or `domain/` (its rules in plain Python),
`events.py` (what it subscribes to, and the handlers), `tables.py` and `migrations/`; its use
cases sit beside them in modules named after what they work on. No module in `src/` is longer
than 450 lines (migrations aside, which are written once and never edited).

The wiring rule for `__init__.py`: its statements are the docstring, imports, constants
(UPPER_CASE names) and factories (functions annotated `-> Service`), and a factory defines
nothing inside it (no function, lambda or class). Whatever runs later (a route, an event
handler, a job, a start hook) is then a named piece of another module, where it can be read and
tested on its own; the factory only builds the pieces and connects them.
"""

from __future__ import annotations

import ast
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import clearway.services

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
SERVICES_DIR = Path(clearway.services.__file__).parent
SERVICES = sorted(m.name for m in pkgutil.iter_modules(clearway.services.__path__) if m.ispkg)
REQUIRED = ("__init__.py", "api.py", "schemas.py", "events.py", "tables.py", "migrations/")
DOMAIN = ("domain.py", "domain/__init__.py")
MAX_LINES = 450
CONSTANT = re.compile(r"[A-Z][A-Z0-9_]*|__[a-z]+__")
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def missing_files(package: Path) -> list[str]:
    missing = [name for name in REQUIRED if not _exists(package / name.rstrip("/"), name)]
    if not any((package / name).is_file() for name in DOMAIN):
        missing.append("domain.py or domain/")
    return missing


def _exists(path: Path, name: str) -> bool:
    return path.is_dir() if name.endswith("/") else path.is_file()


def wiring_problems(source: str) -> Iterator[str]:
    """What in a package's `__init__.py` is more than wiring (see the module docstring)."""
    body = ast.parse(source).body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    factories = 0
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id if isinstance(t, ast.Name) else ast.unparse(t) for t in targets]
            if all(CONSTANT.fullmatch(name) for name in names):
                continue
            yield f"line {node.lineno}: {', '.join(names)} is no UPPER_CASE constant"
        elif isinstance(node, ast.FunctionDef) and _is_factory(node):
            factories += 1
            inner = [n for n in ast.walk(node) if isinstance(n, DEFINITIONS) and n is not node]
            for found in inner:
                kind = "a lambda" if isinstance(found, ast.Lambda) else f"{found.name}()"
                yield f"line {found.lineno}: {node.name}() defines {kind}"
        else:
            name = getattr(node, "name", type(node).__name__)
            yield f"line {node.lineno}: {name} is neither import, constant nor factory"
    if factories == 0:
        yield "no factory (a function annotated -> Service)"


def _is_factory(function: ast.FunctionDef) -> bool:
    return (
        not function.decorator_list
        and function.returns is not None
        and ast.unparse(function.returns).strip("'\"") == "Service"
    )


def test_the_services_are_found() -> None:
    assert {"identity", "rules", "orders", "monitor", "common"} <= set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_has_the_modules_of_every_service(service: str) -> None:
    assert missing_files(SERVICES_DIR / service) == []


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_package_init_only_wires(service: str) -> None:
    source = (SERVICES_DIR / service / "__init__.py").read_text()
    assert list(wiring_problems(source)) == []


def test_no_module_in_src_is_longer_than_450_lines() -> None:
    too_long = {
        str(path.relative_to(ROOT)): lines
        for path in sorted(SRC.rglob("*.py"))
        if "migrations" not in path.parts
        and (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert too_long == {}


def test_the_wiring_rule_sees_what_is_more_than_wiring() -> None:
    wiring = '''"""a service"""
from pathlib import Path
MIGRATIONS = Path(__file__).parent / "migrations"
def create(context: ServiceContext) -> Service:
    api = service_api("x", "X", "x")
    return Service("x", api, MIGRATIONS, subscriptions=events.subscriptions(context.db))
'''
    assert list(wiring_problems(wiring)) == []
    more = """log = logging.getLogger("x")
class Store: ...
async def on_event(event, session): ...
def helper() -> None: ...
@router.get("/x")
def route() -> Service: ...
def create(context: ServiceContext) -> Service:
    async def handler(event, session): ...
    jobs = [Job("x", 1.0, lambda: None)]
    return Service("x", api, MIGRATIONS)
"""
    assert [problem.split(": ", 1)[1] for problem in wiring_problems(more)] == [
        "log is no UPPER_CASE constant",
        "Store is neither import, constant nor factory",
        "on_event is neither import, constant nor factory",
        "helper is neither import, constant nor factory",
        "route is neither import, constant nor factory",
        "create() defines handler()",
        "create() defines a lambda",
    ]
    assert list(wiring_problems('"""nothing"""\n')) == [
        "no factory (a function annotated -> Service)"
    ]


def test_the_shape_check_sees_a_missing_module(tmp_path: Path) -> None:
    for name in ("__init__.py", "api.py", "tables.py"):
        (tmp_path / name).write_text("")
    (tmp_path / "migrations").mkdir()
    assert missing_files(tmp_path) == ["schemas.py", "events.py", "domain.py or domain/"]
    (tmp_path / "domain").mkdir()
    (tmp_path / "domain" / "__init__.py").write_text("")
    assert missing_files(tmp_path) == ["schemas.py", "events.py"]
