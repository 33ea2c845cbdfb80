"""What a run records: one IterationRecord per iteration, and the CompileResult compile returns."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from promptgraph import checkpoint
from promptgraph.backward import Critique
from promptgraph.errors import PromptgraphError
from promptgraph.lm import Ledger
from promptgraph.lm.ledger import cost_text
from promptgraph.metrics import Evaluation
from promptgraph.notebook import result_html
from promptgraph.optimizers.base import Tried, Update
from promptgraph.parameter import Demo
from promptgraph.program import Program
from promptgraph.trace import Trace


@attrs.frozen
class IterationRecord:
    """One iteration of a run: the texts it validated, its validation (and training) Evaluation,
    the critiques and updates of its step, and what the run had spent so far."""

    iteration: int  # 0 is the program as given, before any training
    values: dict[str, str]  # the texts that were validated in this iteration
    val: Evaluation
    train: Evaluation | None = None  # the training minibatch, before this iteration's update
    critiques: tuple[Critique, ...] = ()
    updates: tuple[Update, ...] = ()
    samples: tuple[Trace, ...] = ()  # the training minibatch's traces, for the report
    usd: float = 0.0  # spent so far in the run
    calls: dict[str, int] = attrs.field(factory=dict)  # API calls so far, per tag (cache hits excluded)
    demos: dict[str, list[Demo]] = attrs.field(factory=dict)  # the few-shot demos that were validated
    kept: bool = True  # False: it lost to the best so far on validation, so training went on from the best
    tried: tuple[Tried, ...] = ()  # the candidates a search optimizer scored in this iteration
    stopped: str | None = None  # the optimizer said it has nothing left to try: the run ended here
    validated_in: int | None = None  # whose validation pass `val` is (same texts and demos); None: its own
    rollouts: int | None = None  # forward calls sent so far in the run, cache hits included; None: not counted
    # The iteration whose texts and demos the step started from: `samples` are their replies, and the
    # rewrite changed them into `values`. None: iteration 0, or a history saved before this was recorded.
    started_from: int | None = None
    val_samples: tuple[Trace, ...] = ()  # the validation traces `val` scored, for the report (not saved)
    no_minibatch: str | None = None  # why the step took no training minibatch (StepResult.no_minibatch)
    # Read back from a file (a checkpoint, a saved program): its traces were not saved, so a report of a
    # resumed run cannot show this iteration's replies (the report written before the resume did).
    restored: bool = attrs.field(default=False, repr=False, eq=False)

    def to_dict(self, *, outputs: bool = False) -> dict:
        """JSON-ready, without the traces; with `outputs`, what every module produced per training sample."""
        data = {
            "iteration": self.iteration,
            "values": self.values,
            "demos": {name: [attrs.asdict(demo) for demo in pairs] for name, pairs in self.demos.items()},
            "val": self.val.to_dict(),
            "train": self.train.to_dict() if self.train else None,
            "critiques": [attrs.asdict(critique) for critique in self.critiques],
            "updates": [attrs.asdict(update) for update in self.updates],
            "usd": self.usd,
            "calls": self.calls,
            "kept": self.kept,
            "tried": [attrs.asdict(tried) for tried in self.tried],
            "validated_in": self.validated_in,
            "stopped": self.stopped,
            "rollouts": self.rollouts,
            "started_from": self.started_from,
            "no_minibatch": self.no_minibatch,
        }
        if outputs:  # the checkpoint's copy; a saved program's history stays small
            data["sample_outputs"] = [sample_outputs(trace) for trace in self.samples]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> IterationRecord:
        """The inverse of `to_dict` (the traces were not saved, so `samples` is empty)."""
        return cls(
            iteration=data["iteration"],
            values=data["values"],
            demos=checkpoint.demos_from_dict(data["demos"]),
            val=checkpoint.evaluation_from_dict(data["val"]),
            train=checkpoint.evaluation_from_dict(data["train"]) if data["train"] else None,
            critiques=tuple(checkpoint.critique_from_dict(item) for item in data["critiques"]),
            updates=tuple(checkpoint.update_from_dict(item) for item in data["updates"]),
            usd=data["usd"],
            calls=data["calls"],
            kept=data.get("kept", True),
            tried=tuple(checkpoint.tried_from_dict(item) for item in data.get("tried", ())),
            validated_in=data.get("validated_in"),
            stopped=data.get("stopped"),
            rollouts=data.get("rollouts"),
            started_from=data.get("started_from"),
            no_minibatch=data.get("no_minibatch"),
            restored=True,
        )

    def __repr__(self) -> str:
        """The scores and the decision; the traces and per-example scores are in the fields, not here."""
        train = f", train={self.train.score:.2f}" if self.train is not None else ""
        usd = f", usd={self.usd:.4f}" if self.usd else ""  # 0: nothing paid, or nothing priced
        return f"IterationRecord(iteration={self.iteration}{train}, val={self.val.score:.2f}, kept={self.kept}{usd})"


def sample_outputs(trace: Trace) -> dict:
    """What every module of the program produced for one training example, JSON-ready: a pipeline's
    middle (a first module's premises, say) is kept with the run, not only its final answer."""
    return {
        "example": trace.example.id,
        "nodes": {
            name: {"status": node.status, "outputs": {field: _plain(value) for field, value in node.outputs.items()}}
            for name, node in trace.nodes.items()
        },
    }


def _plain(value: object) -> object:
    return value if isinstance(value, str | int | float | bool | list | dict | None) else str(value)


class TrainingError(RuntimeError, PromptgraphError):
    """Training stopped because going on would waste money or learn from garbage."""


@attrs.frozen
class CompileResult:
    """What `pg.compile` returns: the trained `program`, the `history` of iterations, the `ledger`, the `best` one.

    `result.program.save("program.json")` keeps the program; `result.best.val` is its validation Evaluation.
    """

    program: Program
    history: tuple[IterationRecord, ...]
    ledger: Ledger
    best_iteration: int
    stopped: str | None = None  # why the run ended early (a budget, or the optimizer stopped), if it did

    @property
    def best(self) -> IterationRecord:
        return self.history[self.best_iteration]

    def __repr__(self) -> str:
        """The best iteration, what it gained on validation, how long the run was and what it cost.

        Every example's traces and scores are in `history`; a repr that printed them ran to 100,000 characters."""
        gain = f"validation {self.best.val.score:.2f} from {self.history[0].val.score:.2f}"
        trained = len(self.history) - 1  # iteration 0 is the program as given
        iterations = f"{trained} iteration{'s' if trained != 1 else ''}"
        undone = sum(not record.kept for record in self.history)
        undone_text = f" ({undone} undone)" if undone else ""
        stopped = f", stopped={self.stopped.split(':', 1)[0]!r}" if self.stopped else ""
        cost = cost_text(self.ledger.accounts())
        return (
            f"CompileResult(best=iteration {self.best_iteration}, {gain}, {iterations}{undone_text}, {cost}{stopped})"
        )

    def _repr_html_(self) -> str:
        """In a notebook: a row per iteration (validation, change, cost so far), the best marked, its texts folded."""
        return result_html(self)


def best_iteration(history: Sequence[IterationRecord]) -> int:
    """The iteration with the highest validation score; ties keep the earlier, simpler texts."""
    return max(range(len(history)), key=lambda index: (history[index].val.score, -index))
