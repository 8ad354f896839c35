"""Every services module is type-checked strictly (issue 13).

The services are the project's writes: pyproject.toml's [tool.mypy] lists them among the
strict modules one by one. A new `<app>/services.py` must join that list, or this fails;
a relaxing override (the admin views') must not catch one either.
"""

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STRICT_FLAGS = ("disallow_untyped_defs", "disallow_incomplete_defs", "disallow_any_generics")


def _mypy() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]


def _covers(patterns: list[str], module: str) -> bool:
    # mypy's override patterns: an exact name, or "pkg.*" for the package and everything below.
    return any(
        module == p or (p.endswith(".*") and fnmatch.fnmatch(module + ".", p[:-1] + "*"))
        for p in patterns
    )


def _services_modules() -> list[str]:
    checked = _mypy()["files"]
    found = []
    for package in checked:
        for path in sorted((ROOT / package).rglob("services.py")):
            if "migrations" not in path.parts:
                found.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return found


def test_the_services_modules_are_found():
    # given: the apps as they are; then: the known services modules are among those found
    assert {"customers.services", "offboarding.services", "scrm.staff.services"} <= set(
        _services_modules()
    )


def test_every_services_module_is_strict():
    overrides = _mypy()["overrides"]
    strict = [o for o in overrides if all(o.get(flag) is True for flag in STRICT_FLAGS)]
    relaxed = [o for o in overrides if any(o.get(flag) is False for flag in STRICT_FLAGS)]
    assert strict, "no strict override in [tool.mypy]"
    for module in _services_modules():
        assert any(_covers(_patterns(o), module) for o in strict), f"{module} is not strict"
        assert not any(_covers(_patterns(o), module) for o in relaxed), f"{module} is relaxed"


def _patterns(override: dict) -> list[str]:
    module = override["module"]
    return [module] if isinstance(module, str) else list(module)


def test_the_pattern_match_is_mypys():
    assert _covers(["scrm.audit.*"], "scrm.audit.services")
    assert _covers(["scrm.audit.*"], "scrm.audit")
    assert not _covers(["scrm.audit.*"], "scrm.auditing.services")
    assert _covers(["customers.services"], "customers.services")
    assert not _covers(["customers.services"], "customers.services_extra")
