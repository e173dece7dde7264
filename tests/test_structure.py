"""Package structure: lazy torch, lazy public names, no import cycles, no private calls
across packages."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tabgen

ROOT = Path(__file__).resolve().parents[1]


def _run(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


# -- lazy torch -------------------------------------------------------------------------------
def test_import_copula_and_metrics_leave_torch_out():
    """``import tabgen``, a copula fit/sample/save/load (plain and DP) and the metrics run in
    a fresh interpreter without importing torch."""
    proc = _run(
        """
        import sys, tempfile, os
        import numpy as np, pandas as pd
        import tabgen
        assert "torch" not in sys.modules, "import tabgen"
        rng = np.random.default_rng(0)
        df = pd.DataFrame({"x": rng.normal(size=80), "c": rng.choice(list("abc"), 80)})
        model = tabgen.GaussianCopulaSynthesizer(random_state=0).fit(df)
        synth = model.sample(40, conditions={"c": "a"}, random_state=0)
        path = os.path.join(tempfile.mkdtemp(), "m.tabgen")
        model.save(path)
        tabgen.load(path).sample(5)
        assert "torch" not in sys.modules, "copula"
        tabgen.GaussianCopulaSynthesizer(epsilon=1.0, random_state=0).fit(df).sample(5)
        assert "torch" not in sys.modules, "DP copula"
        report = tabgen.evaluate(df, synth)
        assert report.scores
        assert "torch" not in sys.modules, "evaluate"
        print("ok")
        """
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().endswith("ok")


def test_cli_help_leaves_torch_out():
    proc = _run(
        """
        import runpy, sys
        sys.argv = ["tabgen", "--help"]
        try:
            runpy.run_module("tabgen.cli", run_name="__main__")
        except SystemExit as exc:
            assert exc.code in (0, None), exc.code
        assert "torch" not in sys.modules
        print("ok")
        """
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "usage" in proc.stdout and proc.stdout.strip().endswith("ok")


def test_neural_model_imports_torch_on_first_use():
    """The laziness is real: reading a neural class imports torch then, not before."""
    proc = _run(
        """
        import sys, tabgen
        assert "torch" not in sys.modules
        cls = tabgen.SYNTHESIZERS["vae"]
        assert cls is tabgen.VAESynthesizer and "torch" in sys.modules
        print("ok")
        """
    )
    assert proc.returncode == 0, proc.stderr[-3000:]


# -- lazy public names ------------------------------------------------------------------------
@pytest.mark.parametrize("package", ["tabgen", "tabgen.synthesizers"])
def test_lazy_package_exports(package):
    import importlib

    module = importlib.import_module(package)
    assert set(module.__all__) <= set(dir(module))
    for name in module.__all__:
        assert getattr(module, name) is not None
    with pytest.raises(AttributeError, match="no_such_name"):
        module.no_such_name  # noqa: B018


def test_registry_lists_without_importing_and_resolves_class_names():
    from tabgen.synthesizers.registry import SYNTHESIZERS, class_by_name, get_synthesizer

    assert sorted(SYNTHESIZERS) == ["copula", "diffusion", "gan", "vae"]
    assert get_synthesizer("gan") is tabgen.GANSynthesizer
    assert class_by_name("DiffusionSynthesizer") is tabgen.DiffusionSynthesizer
    assert dict(SYNTHESIZERS.items())["copula"] is tabgen.GaussianCopulaSynthesizer
    with pytest.raises(ValueError, match=r"unknown model 'nope'.*copula, diffusion, gan, vae"):
        get_synthesizer("nope")
    with pytest.raises(ValueError, match="'Nope' is not a registered"):
        class_by_name("Nope")


# -- module graph -----------------------------------------------------------------------------
PACKAGE = ROOT / "tabgen"


def _modules() -> dict:
    """Module name -> (path, is_package) for every module of tabgen."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_package)
    return out


MODULES = _modules()
TREES = {name: ast.parse(path.read_text(encoding="utf-8")) for name, (path, _) in MODULES.items()}


def _walk_runtime(tree):
    """``ast.walk`` without the ``if TYPE_CHECKING:`` blocks (never executed)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                todo.extend(child.orelse)
            else:
                todo.append(child)


def _imports(name: str) -> list[tuple[str, str, int]]:
    """``(module, imported name or "", line)`` of every import in module ``name``, at module
    level or inside functions (lazy imports), relative imports resolved."""
    _, is_package = MODULES[name]
    out = []
    for node in _walk_runtime(TREES[name]):
        if isinstance(node, ast.Import):
            out += [(alias.name, "", node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                base = name.split(".")[: len(name.split(".")) - node.level + is_package]
                target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                full = f"{target}.{alias.name}"
                if full in MODULES:  # a submodule
                    out.append((full, "", node.lineno))
                else:
                    out.append((target, alias.name, node.lineno))
    return out


def _owner(module: str) -> str:
    """The tabgen module that defines ``module`` (its closest tabgen ancestor)."""
    while module not in MODULES and "." in module:
        module = module.rsplit(".", 1)[0]
    return module


def _import_graph() -> dict:
    graph = {}
    for name in MODULES:
        graph[name] = {
            _owner(target)
            for target, _, _ in _imports(name)
            if target.split(".")[0] == "tabgen" and _owner(target) != name
        }
    return graph


def _find_cycle(graph: dict) -> list | None:
    """One cycle of ``graph`` as a list of nodes (first == last), or ``None``."""
    state: dict = {}  # node -> 1 on the current path, 2 done
    path: list = []

    def visit(node):
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_find_cycle_names_the_cycle():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles_lazy_imports_included():
    """Module-level import graph of tabgen (imports inside functions count) is acyclic."""
    graph = _import_graph()
    assert graph["tabgen.synthesizers.base"], "the graph reads imports"
    cycle = _find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


#: Package-level edges allowed to close a cycle, each with its reason.
ALLOWED_PACKAGE_EDGES = {
    # base.save writes through persistence; persistence finds the class of a model file
    # through the synthesizers' registry, by import path (DESIGN.md)
    ("tabgen.persistence", "tabgen.synthesizers"),
}


def _package_graph(graph: dict) -> dict:
    """The graph between packages: first-level subpackages, and each top-level module."""
    out: dict = {}
    for name, targets in graph.items():
        here = _unit(name)
        for target in targets:
            there = _unit(target)
            if here != there and (here, there) not in ALLOWED_PACKAGE_EDGES:
                out.setdefault(here, set()).add(there)
    return out


def test_no_import_cycles_between_packages():
    """No package imports one that imports it back (e.g. synthesizers <-> privacy)."""
    packages = _package_graph(_import_graph())
    assert "tabgen.privacy" in packages["tabgen.synthesizers"], "the graph reads imports"
    cycle = _find_cycle(packages)
    assert cycle is None, "import cycle between packages: " + " -> ".join(cycle)


def test_metrics_and_data_layer_import_no_model():
    """``metrics`` measures any generator: it imports no model or pipeline; the data layer
    (schema, encoders, io) imports no synthesizer."""
    graph = _import_graph()
    for name, targets in graph.items():
        layer = name.split(".")[1] if "." in name else ""
        if layer in ("metrics", "schema", "encoders", "io"):
            bad = sorted(
                t for t in targets if t.startswith(("tabgen.synthesizers", "tabgen.pipelines"))
            )
            assert not bad, f"{name} imports {bad}"


# -- private names across packages ------------------------------------------------------------
def _package(module: str) -> str:
    """``tabgen.<sub>`` for modules of a subpackage, ``tabgen`` for top-level modules (their
    shared private helpers, such as ``tabgen._rng``, serve every package)."""
    parts = module.split(".")
    head = ".".join(parts[:2])
    return head if len(parts) > 1 and MODULES.get(head, (None, False))[1] else "tabgen"


def _unit(module: str) -> str:
    """The package of ``module``, or the module itself when it is a top-level one."""
    package = _package(module)
    return module if package == "tabgen" else package


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _private_definitions() -> dict:
    """Private name -> packages that define it (functions, classes, attributes, globals)."""
    defined: dict = {}
    for module, tree in TREES.items():
        for node in ast.walk(tree):
            names = []
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names = [node.name]
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names = [node.attr]
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names = [node.id]
            for name in filter(_private, names):
                defined.setdefault(name, set()).add(_package(module))
    return defined


#: (package or top-level module using it, private name or module) -> why it is allowed. Each
#: entry is a known debt of the package that owns the name; keyed by package so that splitting
#: a module keeps it.
ALLOWED_PRIVATE = {
    # the model contract's hooks (synthesizers/base.py docstring), called by the framework
    # code that drives a model: saving/loading and the DP fit
    ("tabgen.persistence", "_file_state"): "model hook: persistence",
    ("tabgen.persistence", "_load_file_state"): "model hook: persistence",
    ("tabgen.persistence", "_validate_params"): "model hook: parameter checks on load",
    ("tabgen.persistence", "_validate_common_params"): "base parameter checks on load",
    ("tabgen.privacy", "_start_fit"): "fit hook; the DP fit joins the base fit pipeline",
    ("tabgen.privacy", "_dp_fraction"): "fit hook; the DP fit joins the base fit pipeline",
    ("tabgen.privacy", "_fit_private"): "fit hook; the DP fit joins the base fit pipeline",
    ("tabgen.privacy", "_make_encoder"): "fit hook; the DP fit joins the base fit pipeline",
    ("tabgen.privacy", "_dequantize_rng"): "fit hook; the DP fit joins the base fit pipeline",
    ("tabgen.synthesizers", "tabgen.privacy._fit"): "the DP fit joins the base fit pipeline",
    # encoder and schema internals (data side)
    ("tabgen.privacy", "_build_layout"): "encoder internals",
    ("tabgen.synthesizers", "_build_layout"): "encoder internals",
    ("tabgen.synthesizers", "_keys"): "encoder internals",
    ("tabgen.synthesizers", "_inverse"): "encoder internals (GAN)",
    ("tabgen.encoders", "_json_scalar"): "schema helper",
    ("tabgen.synthesizers", "_json_scalar"): "schema helper",
    ("tabgen.pii", "_ID_NAME"): "the schema's id-column name rule",
    ("tabgen.synthesizers", "tabgen.encoders._cdf"): "exported as tabgen.encoders.PiecewiseCDF",
    # DP parameter checks of every model: to become public (tabgen.privacy)
    ("tabgen.synthesizers", "tabgen.privacy._params"): "DP parameter checks",
    # one shared row encoding for metrics, anonymizer and discriminators (issue #20 item 4)
    ("tabgen.pipelines", "tabgen.metrics._encode"): "shared row encoding",
    ("tabgen.pipelines", "tabgen.metrics._columns"): "shared row encoding",
    ("tabgen.pipelines", "tabgen.metrics._neighbors"): "shared neighbour search",
}


def _private_uses() -> list[tuple[str, int, str]]:
    """``(module, line, name)`` where a module uses a private name of another package:
    imports it (``from tabgen.x import _y``) or reads it off an object other than
    ``self``/``cls`` when only other packages define that name."""
    defined = _private_definitions()
    uses = []
    for module, tree in TREES.items():
        package = _package(module)
        for target, name, line in _imports(module):
            owner = _owner(target)
            if target.split(".")[0] != "tabgen" or _package(owner) == package:
                continue
            if _private(name):
                uses.append((module, line, name))
            elif any(_private(part) for part in owner.split(".")[2:]):
                uses.append((module, line, owner))  # a private module of another package
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Attribute) and _private(node.attr)):
                continue
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                continue
            owners = defined.get(node.attr, set())
            if owners and package not in owners:
                uses.append((module, node.lineno, node.attr))
    return uses


def test_no_package_uses_another_packages_private_names():
    bad = [
        f"{module}:{line} uses {name}"
        for module, line, name in _private_uses()
        if (_unit(module), name) not in ALLOWED_PRIVATE
    ]
    assert not bad, "private names used across packages:\n" + "\n".join(bad)


def test_private_use_check_sees_cross_package_calls():
    """The check finds the kind of call it forbids (so an empty result means something)."""
    uses = _private_uses()
    assert ("tabgen.persistence", "_file_state") in {(m, n) for m, _, n in uses}
