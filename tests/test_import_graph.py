"""The import graph: the platform knows no domain, the domain apps are layered, nothing cycles.

Read from the source by grimp (import-linter's graph, every `import` statement including the
function-local ones; imports under `if TYPE_CHECKING:` are not run and do not count):
- the layers contract of pyproject.toml ([tool.importlinter]): scrm (the platform) imports no
  domain app, customers neither chats nor offboarding, chats not offboarding;
- no two modules of the project import each other, directly or around a loop (a cycle is
  what function-local imports were hiding: `customers.models -> scrm.access.scope ->
  customers.models`).
"""

import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("scrm", "customers", "chats", "offboarding")


def _lint_imports() -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(script), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_the_layers_contract_is_kept():
    # given: the contracts in pyproject.toml; when: import-linter checks them
    result = _lint_imports()
    # then: kept, and it checked the contract at all (a missing config would also exit 0)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Layers: offboarding > chats > customers > scrm" in result.stdout
    assert "KEPT" in result.stdout


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    modules = sorted(m for m in graph.modules if ".migrations" not in m)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & set(modules)) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in modules:
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            targets = edges[node]
            if position < len(targets):
                work.append((node, position + 1))
                target = targets[position]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)


def test_no_module_imports_itself_around_a_loop(graph):
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    # given: a graph with a loop a -> b -> c -> a beside an acyclic d -> a
    graph = grimp.ImportGraph()
    for importer, imported in [("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.d", "p.a")]:
        graph.add_import(importer=importer, imported=imported)
    # then: exactly the loop
    assert _cycles(graph) == [["p.a", "p.b", "p.c"]]


def test_the_platform_imports_no_domain_app(graph):
    # The layers contract says so too; this names the offending import directly.
    platform = {m for m in graph.modules if m == "scrm" or m.startswith("scrm.")}
    arrows = [
        (importer, imported)
        for importer in sorted(platform)
        for imported in sorted(graph.find_modules_directly_imported_by(importer))
        if imported.split(".")[0] in PACKAGES[1:]
    ]
    assert arrows == []
