"""Program: a directed acyclic graph of named modules, run over examples.

Each node's inputs are wired to a program input (`"text"`) or to another node's output
(`"retrieve.passages"`). Examples run generation by generation
(`networkx.topological_generations`); each generation's (example, node) calls are handed
to an executor (executors.py): on threads, bounded by the LM's own concurrency, or through
Message Batches. The program only schedules them. A Program is itself a Module, so a
compiled program can be a stage of a bigger one.
"""

from __future__ import annotations

import copy
import functools
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import networkx as nx

from promptgraph import program_file
from promptgraph.data import Example
from promptgraph.errors import PromptgraphError
from promptgraph.executors import BatchExecutor, Executor, ThreadExecutor, Unfinished
from promptgraph.lm import LM, Batching, Ledger
from promptgraph.module import Context, Module
from promptgraph.notebook import program_html
from promptgraph.parameter import Demo, Demos
from promptgraph.trace import FAILED, NodeTrace, Outcome, Prediction, Trace

NAMED_IN_REPR = 5  # a program with more nodes is summed up by their count: a repr is one line


class GraphError(ValueError, PromptgraphError):
    """A program declared in a way that cannot run; the message names the problem."""


class Program(Module):
    """A graph of named modules run over examples; a Module itself, so a program can be a stage of another.

    `program = pg.Program(inputs=("text",))`, then `program.add("classify", pg.Classify([...]))`;
    wire an input to another node's output with `add(name, module, field="node.output")`.
    `program("a question", lm=lm)` answers one example (a Prediction), `program.run(examples,
    lm=lm)` returns a Trace per example, and `pg.compile(program, ...)` trains its texts.
    """

    def __init__(self, inputs: Sequence[str] = ("text",)):
        self.inputs = tuple(inputs)
        self.description = "runs a trained sub-program"
        # Saved with the program: your own keys, and what compile recorded (metrics, cost, history, best_iteration).
        self.meta: dict[str, Any] = {}
        self._graph = nx.DiGraph()
        self._nodes: dict[str, Module] = {}
        self._wiring: dict[str, dict[str, str]] = {}
        self._output: str | None = None

    @classmethod
    def of(cls, module: Module, name: str = "main") -> Program:
        """A one-module program whose inputs are the module's own."""
        return cls(inputs=module.inputs).add(name, module)

    # -- declaring -------------------------------------------------------------------

    def add(self, name: str, module: Module, **wiring: str) -> Program:
        """Add a node; each module input is wired to a source, by default the program input of that name."""
        if not name.isidentifier():
            raise GraphError(f"node name {name!r} must be a Python identifier (letters, digits, _)")
        if name in self._nodes or name in self.inputs:
            raise GraphError(f"{name!r} is already a node or a program input; choose another name")
        if not isinstance(module, Module):
            raise GraphError(f"node {name!r} must be a promptgraph Module, got {type(module).__name__}")
        unknown = sorted(set(wiring) - set(module.inputs))
        if unknown:
            raise GraphError(
                f"node {name!r} has no input {', '.join(unknown)}; its inputs are {', '.join(module.inputs)}"
            )
        sources = {field: wiring.get(field, field) for field in module.inputs}
        for field, source in sources.items():
            self._check_source(name, field, source)
        self._nodes[name] = module
        self._wiring[name] = sources
        self._graph = _graph_of(self._wiring)
        return self

    def connect(self, source: str, target: str) -> Program:
        """Rewire input `target` ("node.field") to `source`; a wiring that closes a cycle is refused."""
        node, _, field = target.partition(".")
        if node not in self._nodes or field not in self._nodes[node].inputs:
            raise GraphError(f"{target!r} is not an input of a node; write it as node.input")
        self._check_source(node, field, source)
        wiring = {name: dict(sources) for name, sources in self._wiring.items()}
        wiring[node][field] = source
        graph = _graph_of(wiring)
        try:
            cycle = [edge[0] for edge in nx.find_cycle(graph)]
        except nx.NetworkXNoCycle:
            cycle = []
        if cycle:
            raise GraphError(f"wiring {source} into {target} makes a cycle: {' -> '.join([*cycle, cycle[0]])}")
        self._wiring, self._graph = wiring, graph
        return self

    def _check_source(self, node: str, field: str, source: str) -> None:
        if "." not in source:
            if source not in self.inputs:
                raise GraphError(
                    f"input {field!r} of {node!r} reads {source!r}, which is not a program input ({', '.join(self.inputs)})"
                )
            return
        upstream, _, output = source.partition(".")
        if upstream not in self._nodes:
            raise GraphError(f"input {field!r} of {node!r} reads {source!r}, but there is no node {upstream!r} yet")
        if output not in self._nodes[upstream].outputs:
            raise GraphError(
                f"node {upstream!r} has no output {output!r}; its outputs are {', '.join(self._nodes[upstream].outputs)}"
            )

    @property
    def output(self) -> str:
        """The program's answer, as "node.field": by default the answer of the last node added."""
        if self._output is not None:
            return self._output
        if not self._nodes:
            raise GraphError("the program has no nodes; add one with program.add(name, module)")
        last = next(reversed(self._nodes))
        return f"{last}.{self._nodes[last].answer}"

    @output.setter
    def output(self, reference: str) -> None:
        node, _, field = reference.partition(".")
        if node not in self._nodes or field not in self._nodes[node].outputs:
            raise GraphError(f"{reference!r} is not a node output; write it as node.output")
        self._output = reference

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels of the module that gives the answer, when it is a classifier; else ()."""
        return tuple(getattr(self._nodes[self.output.split(".", 1)[0]], "labels", ()))

    @property
    def outputs(self) -> tuple[str, ...]:  # type: ignore[override]  # derived, as a Module's outputs
        return (self.output.split(".", 1)[1],)

    # -- reading -----------------------------------------------------------------------

    @property
    def nodes(self) -> Mapping[str, Module]:
        return dict(self._nodes)

    def wiring(self, node: str) -> dict[str, str]:
        return dict(self._wiring[node])

    def generations(self) -> list[list[str]]:
        """Nodes in dependency order, each generation sorted by name for a stable order."""
        return [sorted(generation) for generation in nx.topological_generations(self._graph)]

    def order(self) -> list[str]:
        return [node for generation in self.generations() for node in generation]

    def downstream(self, node: str) -> list[tuple[str, str, str]]:
        """(consumer node, consumer input, this node's output) for every use of the node's outputs."""
        return [
            (consumer, field, source.split(".", 1)[1])
            for consumer in self.order()
            for field, source in self._wiring[consumer].items()
            if source.split(".", 1)[0] == node and "." in source
        ]

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """A program's children are its nodes: its parameters are named `node.path`."""
        yield from self._nodes.items()

    def values(self) -> dict[str, str]:
        return {name: parameter.value for name, parameter in self.named_parameters()}

    def demo_values(self) -> dict[str, list[Demo]]:
        return {name: list(demos.pairs) for name, demos in self.named_demos()}

    def check(self, values: dict[str, str]) -> list[str]:
        """As a stage of a bigger program: each inner module checks the values meant for it."""
        problems = []
        for name, module in self._nodes.items():
            mine = {path.split(".", 1)[1]: value for path, value in values.items() if path.split(".", 1)[0] == name}
            if mine:
                problems += [f"{name}: {problem}" for problem in module.check(mine)]
        return problems

    def config(self) -> dict[str, Any]:
        return {"graph": self.to_dict(meta=False)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Program:
        # Only saving.py can rebuild a graph: it checks each module name against the registry, which
        # sits above this file. It builds nested programs itself and never calls this.
        raise TypeError(
            "a nested program is rebuilt from its saved graph by "
            "promptgraph.saving.program_from_dict(config['graph'], where), which checks its module names"
        )

    # -- saving ------------------------------------------------------------------------

    def to_dict(self, *, meta: bool = True) -> dict[str, Any]:
        """The program as plain data, as saved (see saving.py for loading it back)."""
        nodes = []
        for name, module in self.nodes.items():
            nodes.append(
                {
                    "name": name,
                    "type": f"{type(module).__module__}:{type(module).__qualname__}",
                    "config": module.config(),
                    "wiring": self.wiring(name),
                    "parameters": {
                        path: {
                            "value": parameter.value,
                            "role": parameter.role,
                            "trainable": parameter.trainable,
                            "constraints": list(parameter.constraints),
                            "history": list(parameter.history),
                        }
                        for path, parameter in module.named_parameters()
                    },
                    "demos": {path: _demos_to_dict(demos) for path, demos in module.named_demos()},
                }
            )
        return {
            "format": program_file.FORMAT,
            "inputs": list(self.inputs),
            "output": self.output,
            "nodes": nodes,
            "meta": copy.deepcopy(self.meta),  # data, not a view: changing it leaves the program as it was
        }

    def save(self, path: str | Path) -> Path:
        """Write the program as readable JSON (see saving.py); a crash mid-write never leaves half a file."""
        return program_file.write(self.to_dict(), path)

    def load_values(self, path: str | Path, *, strict: bool = True) -> Program:
        """Take the parameter values of a saved program with the same nodes; all or none.

        A file that does not match the program (a text or node on one side only, a classifier with other
        labels) is refused with LoadError naming the difference; `strict=False` loads the values the two share
        and logs one warning saying what was left out."""
        return program_file.load_values(self, path, strict=strict)

    # -- running -----------------------------------------------------------------------

    def run(
        self,
        examples: Sequence[Example],
        *,
        lm: LM,
        ledger: Ledger | None = None,
        seed: int = 0,
        tag: str = "forward",
        progress: bool | None = None,
        executor: Executor | None = None,
        batch: Batching | None = None,
    ) -> list[Trace]:
        """One Trace per example, in order. Failures are recorded in the traces, not raised.

        Each generation's calls are handed to the `executor`: on threads by default, or
        `BatchExecutor(Batching(...))` for Message Batches (half price, slower).
        `batch=Batching(...)` is the old spelling of the latter and is deprecated.
        """
        executor = _executor(executor, batch)
        runs = [(self, examples)]
        return run_together(runs, lm=lm, ledger=ledger, seed=seed, tag=tag, progress=progress, executor=executor)[0]

    def __repr__(self) -> str:
        """Its inputs, its nodes in running order (`premises -> classify`; nodes that run together joined by
        commas) and its answer; a program of many nodes by their count."""
        if not self._nodes:
            return f"Program(inputs={list(self.inputs)}, nodes=none yet)"
        generations = self.generations()
        if len(self._nodes) <= NAMED_IN_REPR:
            nodes = " -> ".join(", ".join(generation) for generation in generations)
        else:
            steps = len(generations)
            nodes = f"{len(self._nodes)} in {steps} step{'s' if steps != 1 else ''}"
        return f"Program(inputs={list(self.inputs)}, nodes={nodes}, output={self.output})"

    def _repr_html_(self) -> str:
        """In a notebook: a table of the nodes in running order, their wiring and their texts."""
        return program_html(self)

    def __call__(
        self, inputs: Example | Mapping[str, str] | str, *, lm: LM, ledger: Ledger | None = None
    ) -> Prediction:
        """The program's answer for one example: `.label` / `.answer` (its outputs), `.value`, `.trace`."""
        example = _as_example(inputs, self.inputs)
        return Prediction(self.run([example], lm=lm, ledger=ledger, progress=False)[0])

    def forward(self, inputs: dict[str, Any], ctx: Context) -> Outcome:
        """Run as a stage of a bigger program: one example, its answer as this module's output."""
        done: dict[str, NodeTrace] = {}
        for node in self.order():
            done[node] = self._run_node(node, inputs, done, ctx)
        final = done[self.output.split(".", 1)[0]]
        field = self.outputs[0]
        if final.status != "ok":
            return Outcome(final.status, error=final.outcome.error, cause=final.outcome.cause)
        return Outcome(
            "ok", outputs={field: final.outputs[field]}, request=final.outcome.request, response=final.outcome.response
        )

    def _node_call(
        self,
        node: str,
        program_inputs: Mapping[str, Any],
        done: Mapping[str, NodeTrace],
        ledger: Ledger | None,
        seed: int,
        tag: str,
        lm: LM,
    ) -> NodeTrace:
        """One node on one example with the LM its executor gives it."""
        return self._run_node(node, program_inputs, done, Context(lm=lm, ledger=ledger, seed=seed, tag=tag))

    def _run_node(
        self, node: str, program_inputs: Mapping[str, Any], done: Mapping[str, NodeTrace], ctx: Context
    ) -> NodeTrace:
        inputs: dict[str, Any] = {}
        for field, source in self._wiring[node].items():
            if "." not in source:
                inputs[field] = program_inputs[source]
                continue
            upstream, _, output = source.partition(".")
            if done[upstream].status != "ok":
                error = f"no {output!r} from {upstream!r}, which ended {done[upstream].status}"
                cause = (
                    done[upstream].outcome.cause
                    or f"{upstream!r} {done[upstream].status}: {done[upstream].outcome.error}"
                )
                return NodeTrace(node=node, inputs=inputs, outcome=Outcome(FAILED, error=error, cause=cause))
            inputs[field] = done[upstream].outputs[output]
        return NodeTrace(node=node, inputs=inputs, outcome=self._nodes[node].forward(inputs, ctx))

    def _require_inputs(self, examples: Sequence[Example]) -> None:
        for example in examples:
            missing = [name for name in self.inputs if name not in example.inputs]
            if missing:
                raise GraphError(
                    f"example {example.id or example} has no input {', '.join(missing)}; "
                    f"the program reads {', '.join(self.inputs)} (choose the columns when loading the data)"
                )


def run_together(
    runs: Sequence[tuple[Program, Sequence[Example]]],
    *,
    lm: LM,
    ledger: Ledger | None = None,
    seed: int = 0,
    tag: str = "forward",
    progress: bool | None = None,
    executor: Executor | None = None,
) -> list[list[Trace]]:
    """Several programs, each on its examples, as one run: for each generation, every program's
    calls go to the executor together (one Message Batch, or one pool of threads), so comparing
    candidates costs one batch per generation rather than one per candidate. Traces per program,
    in the order given."""
    executor = executor if executor is not None else ThreadExecutor()
    for program, examples in runs:
        program._require_inputs(examples)
    done: list[list[dict[str, NodeTrace]]] = [[{} for _ in examples] for _, examples in runs]  # program, example
    generations = [program.generations() for program, _ in runs]
    for depth in range(max((len(levels) for levels in generations), default=0)):
        tasks = [
            (run, index, node)
            for run, (_, examples) in enumerate(runs)
            for index in range(len(examples))
            for node in (generations[run][depth] if depth < len(generations[run]) else ())
        ]
        calls = [
            functools.partial(
                runs[run][0]._node_call, node, runs[run][1][index].inputs, done[run][index], ledger, seed, tag
            )
            for run, index, node in tasks
        ]
        try:
            results = executor.run(calls, lm=lm, progress=progress, description=tag)
        except Unfinished as error:
            stuck = sorted({tasks[index][2] for index in error.indices})
            raise GraphError(f"{', '.join(stuck)} {error.reason}") from error
        for (run, index, node), node_trace in zip(tasks, results, strict=True):
            done[run][index][node] = node_trace
    return [
        [
            Trace(example=example, nodes=nodes, output=program.output)
            for example, nodes in zip(examples, traces, strict=True)
        ]
        for (program, examples), traces in zip(runs, done, strict=True)
    ]


def _demos_to_dict(demos: Demos) -> dict[str, Any]:
    saved = {
        "pairs": [attrs.asdict(demo) for demo in demos.pairs],
        "trainable": demos.trainable,
        "history": [[attrs.asdict(demo) for demo in pairs] for pairs in demos.history],
    }
    if demos.retriever is not None:  # the pool is `pairs`; the index is rebuilt from it on load
        saved["retriever"] = demos.retriever.to_dict()
    return saved


def _executor(executor: Executor | None, batch: Batching | None) -> Executor:
    if batch is None:
        return executor if executor is not None else ThreadExecutor()
    if executor is not None:
        raise TypeError("pass executor= or the deprecated batch=, not both")
    warnings.warn(
        "Program.run(batch=...) is deprecated; pass executor=BatchExecutor(batching)", DeprecationWarning, stacklevel=3
    )
    return BatchExecutor(batch)


def _graph_of(wiring: Mapping[str, Mapping[str, str]]) -> nx.DiGraph:
    """Nodes in the order they were added; an edge for every input read from another node."""
    graph = nx.DiGraph()
    graph.add_nodes_from(wiring)
    for node, sources in wiring.items():
        for source in sources.values():
            if "." in source:
                graph.add_edge(source.split(".", 1)[0], node)
    return graph


def _as_example(inputs: Example | Mapping[str, str] | str, names: tuple[str, ...]) -> Example:
    if isinstance(inputs, Example):
        return inputs
    if isinstance(inputs, str):
        if len(names) != 1:
            raise GraphError(f"this program reads {', '.join(names)}; pass a mapping, not a single string")
        return Example(inputs={names[0]: inputs})
    return Example(inputs=dict(inputs))
