import promptgraph as pg
from promptgraph import Classify, DemoSearch, Program, ScriptedLM
from promptgraph.lm import Ledger
from promptgraph.metrics import evaluate
from promptgraph.optimizers import StepContext
from promptgraph.optimizers.demos import demo_candidates, draw_demos
from promptgraph.parameter import Demo
from tests.scenario import FORMAT, LABELS, questions


def learns_from_demos(request):
    """Calls 'all ...' questions insincere only once a demo has shown an insincere answer."""
    shown = any(m.role == "assistant" and "<label>insincere</label>" in m.content for m in request.messages)
    insincere = shown and " all " in request.messages[-1].content
    return f"Label: <label>{'insincere' if insincere else 'sincere'}</label>"


def classifier():
    return Program.of(Classify(LABELS, system=FORMAT, max_tokens=20), name="classify")


def context(trainset, ledger=None, seed=0):
    return StepContext(
        lm=ScriptedLM(respond=learns_from_demos),
        ledger=ledger or Ledger(),
        metric=pg.exact_match,
        labels=LABELS,
        trainset=trainset,
        seed=seed,
    )


def minibatch(program, examples):
    traces = program.run(examples, lm=ScriptedLM(respond=learns_from_demos), progress=False)
    return traces, evaluate(traces, labels=LABELS)


def test_compile_with_demo_search_improves_validation_without_a_strong_model():
    ledger = Ledger()
    result = pg.compile(
        classifier(),
        trainset=questions(80),
        lm=ScriptedLM(respond=learns_from_demos, model="local"),
        optimizer=DemoSearch(per_module=2, candidates=3, dev_per_label=5),
        iterations=2,
        samples_per_label=8,
        val_per_label=6,
        ledger=ledger,
        progress=False,
    )
    assert result.history[0].val.accuracy == 0.5
    assert result.best.val.accuracy == 1.0
    assert {account.tag for account in ledger.accounts()} == {"forward", "validate", "search"}
    assert result.program.nodes["classify"].demos.pairs


def test_a_mistake_becomes_a_demo_with_the_right_answer_in_the_module_format():
    program = classifier()
    traces, evaluation = minibatch(program, questions(12))
    pool = demo_candidates(program, "classify", traces, evaluation.scores)
    assert Demo({"text": "Why are all group1 people so bad?"}, "Label: <label>insincere</label>") in pool["insincere"]
    assert all(demo.output == "Label: <label>sincere</label>" for demo in pool["sincere"])


def test_drawn_demo_sets_take_every_label_in_turn():
    program = classifier()
    traces, evaluation = minibatch(program, questions(20))
    pool = demo_candidates(program, "classify", traces, evaluation.scores)
    import random

    drawn = draw_demos(pool, 4, random.Random(0))
    assert sorted("insincere" in demo.output for demo in drawn) == [False, False, True, True]


def test_candidates_are_scored_on_examples_the_demos_did_not_come_from():
    program = classifier()
    examples = questions(60)
    batch = examples[:10]
    traces, evaluation = minibatch(program, batch)
    ctx = context(examples)
    DemoSearch(candidates=2, dev_per_label=5).step(program, traces=traces, evaluation=evaluation, context=ctx)
    scored = {request.messages[-1].content for request in ctx.lm.requests}
    assert scored and not scored & {example.inputs["text"] for example in batch}


def test_no_better_set_leaves_the_demos_as_they_were():
    program = classifier()
    program.nodes["classify"].demos.pairs = [Demo({"text": "Why are all x bad?"}, "Label: <label>insincere</label>")]
    before = list(program.nodes["classify"].demos.pairs)
    traces, evaluation = minibatch(program, questions(10))
    result = DemoSearch(candidates=2).step(
        program, traces=traces, evaluation=evaluation, context=context(questions(60))
    )
    assert program.nodes["classify"].demos.pairs == before
    assert [update.status for update in result.updates] == ["unchanged"]


def test_frozen_demos_are_left_alone():
    program = classifier()
    program.nodes["classify"].freeze()
    traces, evaluation = minibatch(program, questions(10))
    result = DemoSearch().step(program, traces=traces, evaluation=evaluation, context=context(questions(60)))
    assert result.updates == () and program.nodes["classify"].demos.pairs == []


def test_every_demo_set_scored_is_recorded_with_its_score():
    from tests.search_world import train

    result = train(pg.BootstrapDemos(candidates=3), iterations=1)
    tried = result.history[1].tried
    assert [t.origin for t in tried] == ["current", "demo set", "demo set", "demo set"]
    assert all(t.score is not None and t.examples > 0 for t in tried)
    assert sum(t.decision.startswith("kept") for t in tried) == 1


def test_its_repr_shows_only_the_settings_changed_from_their_defaults():
    assert repr(DemoSearch()) == "BootstrapDemos()"
    assert repr(DemoSearch(per_module=2)) == "BootstrapDemos(per_module=2)"


def test_with_more_labels_than_demos_every_label_gets_its_turn_across_draws():
    import collections
    import random

    pool = {f"label{k}": [Demo(inputs={"text": f"{k}-{i}"}, output=f"label{k}") for i in range(10)] for k in range(6)}
    counts = collections.Counter(
        demo.output for seed in range(1000) for demo in draw_demos(pool, 4, random.Random(seed))
    )
    assert set(counts) == set(pool)
    assert min(counts.values()) > 0.8 * (1000 * 4 / 6)  # about as often as each other, not only the first four


def test_demo_search_on_a_program_with_no_trainable_demos_says_it_stopped():
    program = classifier()
    program.nodes["classify"].demos.trainable = False
    trainset = questions(40)
    traces = program.run(trainset[:4], lm=ScriptedLM(respond=learns_from_demos), progress=False)
    result = DemoSearch().step(program, traces=traces, evaluation=evaluate(traces), context=context(trainset))
    assert result.stopped == "demos stopped: no module of the program takes demos"


def test_the_demo_sets_of_a_step_are_scored_together_in_one_message_batch():
    from promptgraph.lm import AnthropicLM, Batching
    from promptgraph.testing import MessagesServer

    program = classifier()
    traces, evaluation = minibatch(program, questions(10))
    with MessagesServer(learns_from_demos, batch_seconds=0.02) as server:
        lm = AnthropicLM(base_url=server.base_url, api_key="test", max_retries=0, layer_retries=0)
        batching = Batching(poll_seconds=0.02, progress=False)
        ctx = StepContext(lm, Ledger(), pg.exact_match, LABELS, questions(60), seed=0, batch=batching)
        result = DemoSearch(candidates=2, dev_per_label=3).step(
            program, traces=traces, evaluation=evaluation, context=ctx
        )
        sizes = [batch.size for batch in server.batches.values()]
    assert sizes == [18]  # the current demos and both candidate sets, six dev examples each, in one batch
    assert [tried.score for tried in result.tried if tried.candidate] == [1.0, 1.0]
