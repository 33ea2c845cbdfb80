"""A scripted world in which training can be seen to work.

The forward model gets insincere questions right only when its prompt contains the
KEY_PHRASE; the critic says so when it sees mistakes; the rewriter adds the phrase when
the feedback asks for it. So compile must raise validation accuracy, and the history
must show the critique that caused the change.
"""

from __future__ import annotations

import json

from promptgraph import (
    Classify,
    CompileResult,
    Example,
    Program,
    Request,
    ScriptedLM,
    TextualGradientDescent,
    compile,  # noqa: A004
    prompts,
)
from promptgraph.formats import LabelTag  # these worlds train prompts that carry the format themselves

LABELS = ("sincere", "insincere")
KEY_PHRASE = "Sweeping generalisations about a group are insincere."
FORMAT = "End with Label: <label>sincere</label> or Label: <label>insincere</label>."
CRITIQUE = (
    "The prompt never says that generalisations about groups are insincere, so every such question is called sincere."
)


def questions(count: int = 40) -> list[Example]:
    """Half sincere, half insincere; insincere ones contain the word 'all'."""
    examples = []
    for index in range(count):
        if index % 2:
            examples.append(Example({"text": f"Why are all group{index} people so bad?"}, "insincere", id=f"q{index}"))
        else:
            examples.append(Example({"text": f"How do I bake bread number {index}?"}, "sincere", id=f"q{index}"))
    return examples


def forward_reply(request: Request) -> str:
    prompt = request.system + request.messages[-1].content
    if "<label>" not in prompt:
        return "I think this is a fine question."  # no format asked for: unparsed
    text = request.messages[-1].content
    insincere = " all " in text and KEY_PHRASE in prompt
    return f"Reasoning done. Label: <label>{'insincere' if insincere else 'sincere'}</label>"


def asked(request: Request) -> str:
    """What a request is: its tag, which a Message Batches item carries too (in its custom_id)."""
    return request.tag


def optimizer_reply(request: Request) -> str:
    prompt = request.messages[0].content
    shown = prompts.read(prompt)
    if asked(request) == "critic":
        name = next(name for name in shown.values if name.endswith("system"))
        return json.dumps(
            {
                "critique": CRITIQUE,
                "parameters": {name: "State that generalisations about groups are insincere."},
                "inputs": {},
            }
        )
    name, value = next((name, value) for name, value in shown.values.items() if name.endswith("system"))
    if "generalisations" in prompt and KEY_PHRASE not in value:
        value = f"{value} {KEY_PHRASE}" if FORMAT in value else f"{value} {KEY_PHRASE} {FORMAT}"
        value = value.strip()
    return "Here you go:\n" + json.dumps({"reasoning": "add the missing rule", "values": {name: value}})


def classifier(system: str = FORMAT) -> Program:
    return Program.of(Classify(LABELS, system=system, format=LabelTag(stated=False)), name="classify")


def world(request: Request) -> str:
    """The loopback server's script: the optimizer model's replies to claude-opus-5-5, the classifier's to the rest."""
    return optimizer_reply(request) if request.model == "claude-opus-5-5" else forward_reply(request)


def forward_lm(**options) -> ScriptedLM:
    return ScriptedLM(respond=forward_reply, model="claude-haiku-5-5", **options)


def optimizer_lm(**options) -> ScriptedLM:
    return ScriptedLM(respond=optimizer_reply, model="claude-opus-5-5", **options)


# -- a scripted world for multi-module programs ----------------------------------------

GROUP_NOTE = "mentions a group"


def graph_critic(request: Request) -> str:
    """Feedback for every trainable parameter it is shown and every upstream input it is told of."""
    shown = prompts.read(request.messages[0].content)
    names, fields, node = list(shown.values), list(shown.upstream), shown.step
    return json.dumps(
        {
            "critique": f"{node}: insincere questions are missed because nobody notes generalisations.",
            "parameters": {name: "State that generalisations about groups are insincere." for name in names},
            "inputs": {
                field: f"{node} needs its {field} to say whether the text generalises about a group."
                for field in fields
            },
        }
    )


def graph_rewriter(request: Request) -> str:
    """Adds the key phrase to every text whose feedback mentions generalisations."""
    values = {}
    for name, value in prompts.read(request.messages[0].content).values.items():
        if KEY_PHRASE not in value:
            values[name] = f"{value} {KEY_PHRASE}".strip()
    return json.dumps({"reasoning": "add the rule", "values": values})


def graph_optimizer_lm() -> ScriptedLM:
    return ScriptedLM(
        respond=lambda r: graph_critic(r) if r.tag == "critic" else graph_rewriter(r), model="claude-opus-5-5"
    )


def chain_forward(request: Request) -> str:
    """note: flags a group only when its own prompt has the key phrase; summary: copies; classify: reads the flag."""
    content = request.messages[-1].content
    if "<note>" in content:  # the first module, asked for a <note>
        flagged = KEY_PHRASE in request.system and " all " in content
        return f"<note>{GROUP_NOTE if flagged else 'an ordinary question'}</note>"
    if "<summary>" in content:
        return f"<summary>{content.split(chr(10))[0]}</summary>"
    return f"Label: <label>{'insincere' if GROUP_NOTE in content else 'sincere'}</label>"


def chain(frozen_tail: bool = True) -> Program:
    """note -> summary -> classify, where only note's system prompt can make the answer right."""
    from promptgraph import Generate

    program = Program(inputs=("text",))
    program.add("note", Generate(inputs=("text",), outputs=("note",)))
    program.add("summarise", Generate(inputs=("note",), outputs=("summary",)), note="note.note")
    program.add(
        "classify",
        Classify(LABELS, input="summary", system=FORMAT, format=LabelTag(stated=False)),
        summary="summarise.summary",
    )
    if frozen_tail:
        program.nodes["summarise"].freeze()
        program.nodes["classify"].freeze()
    return program


def undoing_run(iterations: int = 3, **options) -> CompileResult:
    """Iteration 1 learns the key phrase; iteration 2's rewrite loses it and is undone; iteration 3 goes on from 1."""
    rewrites = iter([f"{KEY_PHRASE} {FORMAT}", f"Be careful. {FORMAT}", f"Be careful. {FORMAT}"])

    def rewriter(request):
        if request.tag == "critic":
            return json.dumps({"critique": "c", "parameters": {}, "inputs": {}})
        return json.dumps({"values": {"classify.system": next(rewrites)}})

    def forward(request):
        return "<label>insincere</label>" if "number 0?" in request.messages[-1].content else forward_reply(request)

    wrong = [Example({"text": "How do I bake bread number 0?"}, "sincere", id=f"w{i}") for i in range(30)]
    return compile(
        classifier(),
        trainset=questions(60) + wrong,
        lm=ScriptedLM(respond=forward),
        optimizer=TextualGradientDescent(lm=ScriptedLM(respond=rewriter)),
        iterations=iterations,
        samples_per_label=8,
        val_per_label=5,
        progress=False,
        **options,
    )


def pipeline_run(**options) -> CompileResult:
    """The premises -> classify chain trained for one iteration by TGD with the scripted graph optimizer."""
    return compile(
        chain(),
        trainset=questions(40),
        lm=ScriptedLM(respond=chain_forward),
        optimizer=TextualGradientDescent(lm=graph_optimizer_lm()),
        iterations=1,
        samples_per_label=6,
        val_per_label=5,
        progress=False,
        **options,
    )
