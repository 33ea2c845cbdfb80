"""TextualGradientDescent: critique through the graph, then rewrite each module's texts from its feedback.

One rewrite call per module that has feedback. The reply is a JSON object of new values;
it is checked (only known parameter names, strings, and the module's own checks such as
"the prompts still ask for <label>X</label>"), repaired once if it fails, and otherwise
the step changes nothing and says why. Feedback is cleared after the step, as
`zero_grad` does.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from promptgraph.backward import CritiqueLimits, backward
from promptgraph.lm import LM, Ledger, Request
from promptgraph.metrics import Evaluation
from promptgraph.optimizers.base import StepContext, StepResult, Update
from promptgraph.program import Program
from promptgraph.prompting import render
from promptgraph.structured import ask_json
from promptgraph.trace import Trace

REWRITE_SYSTEM = """\
You improve the prompt texts of one step of an LLM program, using the feedback a critic \
wrote after watching it fail. Keep what works, fix what the feedback names, and honour \
every constraint. Write the texts for the model that runs the step, not for the critic. \
Reply with one JSON object and nothing else."""

REWRITE_TEMPLATE = """\
## The step: `{{ node }}`
It {{ description }}. On the last training sample: {{ summary }}.

{% for p in parameters %}
## `{{ p.name }}`: {{ p.role }}
{% if p.constraints %}Constraints: {{ p.constraints | join(' ') }}
{% endif %}
Current value:
<value>
{{ p.value if p.value else "(empty)" }}
</value>
Feedback:
{% for item in p.feedback %}
- ({{ item.source }}) {{ item.text | clip(limit) }}
{% endfor %}

{% endfor %}
## What to write
A JSON object with a new value for every text you change (leave out the ones to keep):
{"reasoning": "<one or two sentences>", "values": { {% for p in parameters %}"{{ p.name }}": "<new text>"{{ ", " if not loop.last }}{% endfor %} }}
"""


@attrs.define
class TextualGradientDescent:
    """The optimizer model (Opus's role) also writes the critiques in backward."""

    lm: LM
    limits: CritiqueLimits = CritiqueLimits()
    max_tokens: int = 8000
    chars_per_feedback: int = 2000
    max_value_chars: int = 10_000  # a longer rewrite is a runaway reply, not a prompt

    def step(
        self, program: Program, *, traces: Sequence[Trace], evaluation: Evaluation, context: StepContext
    ) -> StepResult:
        """Backward (critiques into every parameter's feedback), then one rewrite per module with feedback."""
        critiques = backward(
            program, traces, evaluation, lm=self.lm, ledger=context.ledger, limits=self.limits, seed=context.seed
        )
        return StepResult(tuple(critiques), tuple(self.rewrite(program, evaluation=evaluation, ledger=context.ledger)))

    def rewrite(self, program: Program, *, evaluation: Evaluation, ledger: Ledger | None = None) -> list[Update]:
        updates = []
        for node in program.order():
            module = program.nodes[node]
            local = {f"{node}.{path}": (path, p) for path, p in module.named_parameters()}
            with_feedback = {name: p for name, (_, p) in local.items() if p.trainable and p.feedback}
            if with_feedback:
                updates.append(self._rewrite(node, module, local, with_feedback, evaluation, ledger))
            for _, parameter in local.values():
                parameter.clear_feedback()
        return updates

    def _rewrite(self, node, module, local, targets, evaluation, ledger) -> Update:
        def check(data) -> list[str]:
            values = data.get("values")
            if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
                return ['"values" must be an object mapping parameter names to strings']
            unknown = sorted(set(values) - set(targets))
            if unknown:
                return [f'"values" names {", ".join(unknown)}; only {", ".join(targets)} may change']
            problems = [
                f"{name} is {len(value):,} characters; keep it under {self.max_value_chars:,}"
                for name, value in values.items()
                if len(value) > self.max_value_chars
            ]
            problems += [
                f"{name} would be emptied; rewrite it instead"
                for name, value in values.items()
                if not value.strip() and targets[name].value.strip()
            ]
            return problems + module.check({local[name][0]: value for name, value in values.items()})

        prompt = render(
            REWRITE_TEMPLATE,
            node=node,
            description=module.description or "is one step of the program",
            summary=evaluation.summary(),
            parameters=[
                {"name": name, "role": p.role, "value": p.value, "constraints": p.constraints, "feedback": p.feedback}
                for name, p in targets.items()
            ],
            limit=self.chars_per_feedback,
        )
        request = Request(messages=[("user", prompt)], system=REWRITE_SYSTEM, max_tokens=self.max_tokens, tag="rewrite")
        reply = ask_json(self.lm, request, check, ledger=ledger)
        if reply.data is None:
            return Update(
                node, "rejected", {}, replies=reply.replies, error="; ".join(reply.problems) + "; no change made"
            )
        changes = {}
        for name, value in reply.data["values"].items():
            parameter = targets[name]
            if value != parameter.value:
                changes[name] = (parameter.value, value)
                parameter.update(value)
        reasoning = str(reply.data.get("reasoning", ""))
        return Update(node, "changed" if changes else "unchanged", changes, reasoning, reply.replies)
