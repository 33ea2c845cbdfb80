"""dspy.GEPA on a simulated world: the same world server, split and forward-call budget as promptgraph's runs.

Imported by search_worlds.py only when dspy is installed (the `peers` extra, in a venv of
its own); promptgraph and its tests never import dspy. DSPy reaches the world through
litellm's `anthropic/` provider with `api_base` at the loopback server and a dummy key, with
DSPy's cache off, so every call reaches the server and is counted.

GEPA's budget is `max_metric_calls`, in program runs; a run of world_pipeline's program is
two forward calls, so GEPA gets the forward-call budget divided by the number of modules.
"""

from __future__ import annotations

import contextlib
import os
import sys

os.environ.setdefault("LITELLM_TELEMETRY", "False")  # no internet here, and nothing to report to
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("TQDM_DISABLE", "1")  # GEPA's evaluation bars would bury the table

from collections.abc import Callable, Sequence  # noqa: E402
from typing import Literal  # noqa: E402

import dspy  # noqa: E402
from world_rules import RulesWorld, WorldExample  # noqa: E402
from world_server import FORWARD_MODEL, STRONG_MODEL, WorldServer  # noqa: E402

dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=False)
THREADS = 8  # as promptgraph's AnthropicLM's default concurrency


def feedback_metric(gold, pred, trace=None, pred_name=None, pred_trace=None) -> dspy.Prediction:
    """GEPA's feedback metric: the expected label, for every module alike (one global feedback)."""
    answered = getattr(pred, "label", None)
    if answered == gold.label:
        return dspy.Prediction(score=1.0, feedback="Correct.")
    return dspy.Prediction(
        score=0.0, feedback=f"Wrong: the expected label is {gold.label}, the program answered {answered}."
    )


def exact_match(gold, pred, trace=None, pred_name=None, pred_trace=None) -> float:
    return float(getattr(pred, "label", None) == gold.label)


def program(world: RulesWorld) -> dspy.Module:
    label = Literal[world.labels]  # type: ignore[valid-type]
    if world.modules == ("classify",):
        fields = {"text": (str, dspy.InputField()), "label": (label, dspy.OutputField())}
        return dspy.Predict(dspy.make_signature(fields, world.base["classify"]))
    return Pipeline(world, label)


class Pipeline(dspy.Module):
    def __init__(self, world: RulesWorld, label) -> None:
        super().__init__()
        extract = {"text": (str, dspy.InputField()), "topic": (str, dspy.OutputField())}
        classify = {
            "text": (str, dspy.InputField()),
            "topic": (str, dspy.InputField()),
            "label": (label, dspy.OutputField()),
        }
        self.extract = dspy.Predict(dspy.make_signature(extract, world.base["extract"]))
        self.classify = dspy.Predict(dspy.make_signature(classify, world.base["classify"]))

    def forward(self, text: str) -> dspy.Prediction:
        topic = self.extract(text=text).topic
        return self.classify(text=text, topic=topic)


def examples(items: Sequence[WorldExample]) -> list[dspy.Example]:
    return [dspy.Example(text=item.text, label=item.label).with_inputs("text") for item in items]


def lm(server: WorldServer, model: str, **settings) -> dspy.LM:
    return dspy.LM(
        f"anthropic/{model}", api_base=server.base_url, api_key="world", cache=False, num_retries=2, **settings
    )


def train_gepa(world: RulesWorld, server: WorldServer, seed: int, budget: int, *, feedback: bool) -> Callable:
    """Run dspy.GEPA on the world; return a function scoring the result on examples (accuracy)."""
    train, val, _ = world.split(seed)
    forward = lm(server, FORWARD_MODEL, temperature=0.0, max_tokens=400)
    strong = lm(server, STRONG_MODEL, temperature=1.0, max_tokens=8000)
    optimizer = dspy.GEPA(
        metric=feedback_metric if feedback else exact_match,
        max_metric_calls=budget // len(world.modules),
        reflection_lm=strong,
        num_threads=THREADS,
        seed=seed,
        track_stats=False,
    )
    with dspy.context(lm=forward), contextlib.redirect_stdout(sys.stderr):  # GEPA's progress bars
        trained = optimizer.compile(program(world), trainset=examples(train), valset=examples(val))

    def evaluate(items: Sequence[WorldExample]) -> float:
        with dspy.context(lm=forward):
            scorer = dspy.Evaluate(
                devset=examples(items), metric=exact_match, num_threads=THREADS, display_progress=False
            )
            return scorer(trained).score / 100

    evaluate.instructions = {name: predictor.signature.instructions for name, predictor in trained.named_predictors()}
    return evaluate
