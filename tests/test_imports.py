"""The package's imports run one way: no cycles, and the model layer (`lm/`) imports nothing above it.

Read from the source with `ast`, so imports inside functions (the usual way to hide a cycle) count too.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

import networkx as nx

import promptgraph

PACKAGE = Path(promptgraph.__file__).parent
# The one module `lm/` may import from above it: the exception base sits at the very bottom.
BELOW_LM = {"promptgraph.errors"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The promptgraph modules this module imports when it runs, anywhere in it (inside functions too;
    not under `if TYPE_CHECKING:`, which never runs). `from package import submodule` counts as the submodule."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in runtime_nodes(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            source = ".".join(part for part in (base, node.module) if part)
            submodules = {f"{source}.{alias.name}" for alias in node.names} & known
            found |= submodules if len(submodules) == len(node.names) else submodules | {source}
    return {target for target in found if target in known and target != name}


def runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (inner for statement in node.orelse for inner in [statement, *runtime_nodes(statement)])
            continue
        yield node
        yield from runtime_nodes(node)


def import_graph() -> nx.DiGraph:
    known = modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(known)
    for name, path in known.items():
        graph.add_edges_from((name, target) for target in imported(name, path, set(known)))
    return graph


def test_the_package_has_no_import_cycle():
    graph = import_graph()
    cycles = [" -> ".join([*cycle, cycle[0]]) for cycle in nx.simple_cycles(graph)]
    assert not cycles, "import cycles:\n" + "\n".join(sorted(cycles))


def test_the_model_layer_imports_nothing_above_it():
    graph = import_graph()
    upward = [
        f"{source} imports {target}"
        for source, target in graph.edges
        if source.startswith("promptgraph.lm")
        and not target.startswith("promptgraph.lm")
        and target not in BELOW_LM | {"promptgraph"}
    ]
    assert not upward, "lm/ imports from above it:\n" + "\n".join(sorted(upward))


def test_the_import_graph_sees_imports_inside_functions():
    # saving.py's helpers are imported inside compile's functions; if the walk missed function bodies
    # the two tests above would pass on a cycle hidden that way.
    graph = import_graph()
    assert graph.number_of_edges() > len(graph)


def test_the_anthropic_backend_does_not_import_the_batch_orchestration():
    # message_batches.py drives backends; a backend only needs the records it returns (lm/base.py).
    assert "promptgraph.lm.message_batches" not in import_graph().successors("promptgraph.lm.anthropic")
