"""The import graph of the packages, read with ``ast`` (nothing is imported): no cycles, nothing
imports upward, runtime code never reaches the simulator.

Allowed directions (a module may import its own package and any package below it):

    config  <  nlp  <  streams  <  alerts  <  dashboard

* ``config``: settings and the division table; imports no other package.
* ``nlp``: text processing (segmentation, masking, extraction, classification); only ``config``.
* ``streams``: intake, validation, the stream worker, storage and the read model.
* ``alerts``: surge detection, the alert store and lifecycle, notifications; reads what
  ``streams`` stores.
* ``dashboard``: the screens; nothing outside ``dashboard/`` imports it (the stack starts
  ``python -m dashboard`` and ``python -m dashboard.users`` as commands).

The few upward edges are the places where one process is put together from several packages;
they are listed in :data:`UPWARD` with the reason, and the list must not go stale.

Every ``import`` counts, including those inside functions: a lazy import is still a dependency.
Only the block under ``if __name__ == "__main__":`` is left out: it runs when the file is the
program, never when the module is imported (``python -m nlp.polarity`` hands over to nlp/lexicon.py).
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("config", "nlp", "streams", "alerts", "dashboard")

# (importer, imported): why this upward edge is allowed.
UPWARD = {
    ("streams.__main__", "alerts.agents"): "the worker process registers the surge detector's faust timer",
    ("streams.api", "alerts.api"): "the intake API process mounts the alert lifecycle's routes",
    ("streams.cases.agents", "alerts.notify"): "the case clocks send 提醒卡/催办卡 through the alert channels",
    ("streams.stack", "alerts.notify"): "make run starts the local receiver only when no channel is configured",
    ("streams.api", "alerts.store"): "GET /api/v1/wall answers the open alerts the wall shows",
    ("streams.wallview", "alerts.severity"): "the wall's view ranks open alerts by warning level",
    ("streams.wallview", "alerts.lifecycle"): "the wall's view shows each open alert's state and SLA clock",
}

# Cycles still to be cut (each with the reason); the list must not go stale.
KNOWN_CYCLES: list[list[str]] = []

# The simulator (demo feed and synthetic text): only demo, training and benchmark tools may use it.
SIMULATOR = {"streams.simulate", "streams.simgen", "streams.simtext", "streams.cases.simplay"}
TOOLS = {
    "dashboard.demo": "seeds a demo history for screenshots and soak runs",
    "dashboard.screenshots": "screenshots of the screens over a seeded demo",
    "dashboard.soak": "a long browser run over a seeded demo",
}


def modules() -> dict[str, Path]:
    out = {}
    for pkg in LAYERS:
        for f in (ROOT / pkg).rglob("*.py"):
            parts = list(f.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = f
    return out


def is_main_guard(node) -> bool:
    """``if __name__ == "__main__":``"""
    t = node.test if isinstance(node, ast.If) else None
    return (isinstance(t, ast.Compare) and isinstance(t.left, ast.Name) and t.left.id == "__name__"
            and len(t.comparators) == 1 and isinstance(t.comparators[0], ast.Constant)
            and t.comparators[0].value == "__main__")


def walk_imported(tree: ast.Module):
    """Every node of the module but those under its top-level main guard."""
    for top in tree.body:
        if not is_main_guard(top):
            yield from ast.walk(top)


def import_graph() -> dict[str, dict[str, int]]:
    """module -> {imported module of these packages: first line}."""
    mods = modules()

    def resolve(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for mod, path in mods.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        edges: dict[str, int] = {}
        for node in walk_imported(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(base + ([node.module] if node.module else []))
                else:
                    base = node.module
                # "from pkg import mod" names a module; "from mod import name" names the module
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            for t in targets:
                r = resolve(t)
                if r and r != mod:
                    edges.setdefault(r, node.lineno)
        graph[mod] = edges
    return graph


def layer(mod: str) -> int:
    return LAYERS.index(mod.split(".")[0])


def cycles(graph: dict[str, dict]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def reach(graph: dict[str, dict], start: str) -> dict[str, str]:
    """Every module ``start`` imports directly or through others -> the module importing it."""
    seen = {start: ""}
    todo = [start]
    while todo:
        v = todo.pop()
        for w in graph[v]:
            if w not in seen:
                seen[w] = v
                todo.append(w)
    del seen[start]
    return seen


def path_to(seen: dict[str, str], start: str, end: str) -> str:
    chain = [end]
    while seen[chain[-1]] != start:
        chain.append(seen[chain[-1]])
    return " -> ".join([start] + chain[::-1])


GRAPH = import_graph()


def test_the_graph_sees_the_imports_it_should():
    # the walker itself: absolute, relative, lazy (in a function) and "from pkg import module"
    assert "dashboard.duty" in GRAPH["dashboard.app"]          # lazy, in create_app
    assert "streams.keys" in GRAPH["streams.tally"]
    assert "alerts.detectors.base" in GRAPH["alerts.detectors.cusum"]
    assert "dashboard.session" in GRAPH["dashboard.duty"]
    assert len(GRAPH) > 100


def test_there_are_no_import_cycles():
    found = cycles(GRAPH)
    assert [c for c in found if c not in KNOWN_CYCLES] == []
    assert [c for c in KNOWN_CYCLES if c not in found] == [], "a known cycle is gone: drop it from KNOWN_CYCLES"


def test_the_main_guard_is_not_an_import_of_the_module():
    tree = ast.parse("import a\nif __name__ == '__main__':\n    import b\ndef f():\n    import c\n")
    names = {a.name for n in walk_imported(tree) if isinstance(n, ast.Import) for a in n.names}
    assert names == {"a", "c"}
    assert "nlp.lexicon" not in GRAPH["nlp.polarity"] and "nlp.extract" in GRAPH["nlp.lexicon"]


def test_cycle_finder_finds_a_cycle():
    g = {"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}
    assert cycles(g) == [["a", "b", "c"]]


def test_nothing_imports_upward_but_the_listed_entry_points():
    upward = {(m, t) for m, edges in GRAPH.items() for t in edges if layer(t) > layer(m)}
    unexpected = sorted(f"{m} imports {t} (line {GRAPH[m][t]})" for m, t in upward - UPWARD.keys())
    assert not unexpected, "imports against the layers " + " < ".join(LAYERS) + ":\n" + "\n".join(unexpected)
    stale = sorted(f"{m} -> {t}" for m, t in UPWARD.keys() - upward)
    assert not stale, f"UPWARD lists edges that are gone; remove them: {stale}"


def test_only_the_dashboard_imports_the_dashboard():
    outside = sorted(f"{m} imports {t}" for m, edges in GRAPH.items() if not m.startswith("dashboard")
                     for t in edges if t.startswith("dashboard"))
    assert outside == []


def test_runtime_code_never_reaches_the_simulator():
    assert SIMULATOR <= GRAPH.keys() and TOOLS.keys() <= GRAPH.keys()
    bad = []
    for mod in sorted(GRAPH.keys() - SIMULATOR - TOOLS.keys()):
        seen = reach(GRAPH, mod)
        for sim in sorted(SIMULATOR & seen.keys()):
            bad.append(path_to(seen, mod, sim))
    assert not bad, "runtime modules that import the simulator:\n" + "\n".join(bad)


def test_the_listed_tools_do_use_the_simulator():
    # a tool that no longer needs the simulator leaves the list
    for tool in TOOLS:
        assert SIMULATOR & reach(GRAPH, tool).keys(), f"{tool} no longer uses the simulator: drop it from TOOLS"


def test_the_intake_api_does_not_build_the_notifier():
    assert "alerts.notify" not in GRAPH["streams.api"]
    assert "dashboard.auth" not in GRAPH["streams.stack"]
