"""ParetoSearch: reflection on small minibatches, acceptance on held-out examples, a pool that survives resume."""

import json
import re

import pytest

import promptgraph as pg
from promptgraph import prompts
from tests import scenario
from tests.search_world import FORMAT, RULE_A, RULE_B, judge, optimizer_lm, questions, train


def test_pareto_search_builds_on_a_candidate_that_keep_the_best_would_drop():
    # Rule A alone scores below the start (0.40 < 0.50); only A and B together reach 0.80.
    # Keeping the best never keeps A; the pool keeps it and its child adds B.
    optimizer = pg.ParetoSearch(optimizer_lm())
    result = train(optimizer, iterations=8)
    system = result.program.values()["classify.system"]
    assert RULE_A in system and RULE_B in system
    assert result.best.val.score >= 0.8
    lower = [c for c in optimizer.pool.candidates if c.mean < optimizer.pool.candidates[0].mean]
    assert lower and any(c.parent == lower[0].number for c in optimizer.pool.candidates)


def test_each_step_reflects_on_its_own_small_minibatch():
    result = train(pg.ParetoSearch(optimizer_lm(), minibatch=3), iterations=3)
    assert [record.train.count for record in result.history[1:]] == [3, 3, 3]


def memorised(text: str) -> str | None:
    """The example's own token ("group12", "plan-7"), which a prompt can memorise."""
    found = re.search(r"group\d+|plan \d+", text)
    return found.group(0).replace(" ", "-") if found else None


def memorising_forward(request: pg.Request) -> str:
    """Gets an example right if its own token is "remembered" in the prompt, else judges by the rules."""
    text = request.messages[-1].content
    remembered = memorised(text) is not None and f"Remember {memorised(text)}." in request.system
    return f"Label: <label>{'insincere' if remembered else judge(request.system, text)}</label>"


def memorising_optimizer(request: pg.Request) -> str:
    """The critic asks to remember the examples it saw wrong; the rewriter pastes those requests in."""
    if request.tag == "critic":
        shown = prompts.read(request.messages[0].content)
        tokens = [memorised(e.text) for e in shown.examples if not e.correct]
        asks = " ".join(f"Remember {token}." for token in tokens if token)
        return json.dumps({"critique": "memorise", "parameters": dict.fromkeys(shown.values, asks), "inputs": {}})
    value = prompts.read(request.messages[0].content).values["classify.system"]
    asks = " ".join(dict.fromkeys(re.findall(r"Remember [\w-]+\.", request.messages[0].content)))
    return json.dumps({"reasoning": "memorise", "values": {"classify.system": f"{value} {asks}"}})


def test_a_child_that_only_improves_on_the_examples_it_reflected_on_is_refused():
    lm = pg.ScriptedLM(respond=memorising_optimizer, model="claude-opus-5-5")
    optimizer = pg.ParetoSearch(lm)
    result = pg.compile(
        train_program(), trainset=questions(120), lm=pg.ScriptedLM(respond=memorising_forward, model="claude-haiku-5-5"),
        optimizer=optimizer, iterations=3, val_per_label=10, progress=False,
    )  # fmt: skip
    reflections = [tried for record in result.history for tried in record.tried if tried.origin == "reflection"]
    assert len(reflections) == 3 and all(tried.decision.startswith("dropped") for tried in reflections)
    assert len(optimizer.pool) == 1  # no child joined the pool
    assert result.program.values()["classify.system"] == FORMAT


def train_program() -> pg.Program:
    from tests.search_world import classifier

    return classifier()


def test_a_rewrite_that_pastes_a_training_example_into_the_prompt_is_refused():
    def paster(request: pg.Request) -> str:
        if request.tag == "critic":
            shown = prompts.read(request.messages[0].content)
            wrong = next(e for e in shown.examples if not e.correct)
            feedback = f"Copy this: {wrong.inputs['text']}"
            return json.dumps({"critique": "copy", "parameters": dict.fromkeys(shown.values, feedback), "inputs": {}})
        value = prompts.read(request.messages[0].content).values["classify.system"]
        pasted = re.search(r"Copy this: ([^\n\"<]+\?)", request.messages[0].content).group(1)
        return json.dumps({"reasoning": "paste", "values": {"classify.system": f"{value} {pasted}"}})

    optimizer = pg.ParetoSearch(pg.ScriptedLM(respond=paster, model="claude-opus-5-5"), copy_words=5)
    result = train(optimizer, iterations=1)
    (tried,) = result.history[1].tried
    assert re.fullmatch(
        r"rejected: classify.system copies 5 or more words of training example \w+ verbatim", tried.decision
    )
    assert result.history[1].calls.get("search", 0) == 0  # refused before anything was scored


def careful(request: pg.Request) -> str:
    """Critiques every module; its rewrites help nothing, so every child is refused and the start stays the parent."""
    if request.tag == "critic":
        return scenario.graph_critic(request)
    values = prompts.read(request.messages[0].content).values
    return json.dumps({"reasoning": "care", "values": {name: f"{v} Be careful." for name, v in values.items()}})


def rewritten_modules(policy: str, metric=pg.exact_match) -> list[str]:
    optimizer = pg.ParetoSearch(pg.ScriptedLM(respond=careful, model="claude-opus-5-5"), policy=policy)
    pg.compile(
        scenario.chain(frozen_tail=False), trainset=scenario.questions(60),
        lm=pg.ScriptedLM(respond=scenario.chain_forward, model="claude-haiku-5-5"),
        optimizer=optimizer, metric=metric, iterations=3, val_per_label=10, progress=False,
    )  # fmt: skip
    rewrites = [r for r in optimizer.lm.requests if r.tag == "rewrite"]
    return [next(iter(prompts.read(r.messages[0].content).values)).split(".")[0] for r in rewrites]


def test_round_robin_rewrites_one_module_per_step():
    assert sorted(rewritten_modules("round_robin")) == ["classify", "note", "summarise"]


def test_blame_rewrites_the_module_the_metric_feedback_names():
    def blames_summarise(example: pg.Example, prediction: object) -> pg.Score:
        right = prediction == example.label
        return pg.Score(float(right), feedback="" if right else "the summary lost it", module="summarise")

    assert rewritten_modules("blame", blames_summarise) == ["summarise"] * 3


def test_the_pool_survives_a_resume(tmp_path):
    whole = pg.ParetoSearch(optimizer_lm())
    train(whole, iterations=6)
    train(pg.ParetoSearch(optimizer_lm()), iterations=3, run_dir=tmp_path)
    resumed = pg.ParetoSearch(optimizer_lm())
    train(resumed, iterations=6, run_dir=tmp_path, resume=True)
    assert resumed.pool.candidates == whole.pool.candidates


def test_a_resumed_search_sends_no_call_for_a_score_it_had_before_so_its_budget_runs_as_before(tmp_path):
    whole = train(pg.ParetoSearch(optimizer_lm()), iterations=8)
    train(pg.ParetoSearch(optimizer_lm()), iterations=4, run_dir=tmp_path)
    resumed = train(pg.ParetoSearch(optimizer_lm()), iterations=8, run_dir=tmp_path, resume=True)
    assert [record.rollouts for record in resumed.history] == [record.rollouts for record in whole.history]


@pytest.mark.parametrize("setting", [{"selection": "greedy"}, {"policy": "loudest"}, {"minibatch": 0}])
def test_bad_settings_are_refused_by_name(setting):
    with pytest.raises(ValueError, match=next(iter(setting))):
        pg.ParetoSearch(optimizer_lm(), **setting)


def test_a_rewrite_over_the_length_budget_is_refused_before_it_is_scored():
    result = train(pg.ParetoSearch(optimizer_lm(), max_tokens_per_text=20), iterations=1)
    (tried,) = result.history[1].tried
    assert (
        tried.decision.startswith("rejected: classify.system is about") and "max_tokens_per_text 20" in tried.decision
    )
    assert result.history[1].calls.get("search", 0) == 0


def demo_reader(request: pg.Request) -> str:
    """Gets rhetorical questions right once a demo shows one (as the few-shot messages before the question)."""
    text, shown = request.messages[-1].content, " ".join(m.content for m in request.messages[:-1])
    label = "insincere" if "obvious" in text and "obvious" in shown else judge(request.system, text)
    return f"Label: <label>{label}</label>"


def test_with_demos_every_other_step_redraws_demos_and_a_helpful_set_joins_the_pool():
    optimizer = pg.ParetoSearch(optimizer_lm(), demos=2, minibatch=6)
    result = pg.compile(
        train_program(), trainset=questions(200), lm=pg.ScriptedLM(respond=demo_reader, model="claude-haiku-5-5"),
        optimizer=optimizer, iterations=6, val_per_label=20, samples_per_label=10, progress=False,
    )  # fmt: skip
    origins = [tried.origin for record in result.history[1:] for tried in record.tried if tried.candidate]
    assert origins[1::2] == ["demos"] * len(origins[1::2]) and "reflection" in origins[::2]
    assert any(c.origin == "demos" for c in optimizer.pool.candidates)
    assert any("obvious" in demo.inputs["text"] for demo in result.program.demo_values()["classify.demos"])


def test_the_estimate_counts_its_own_small_minibatch_not_compiles_sample():
    from promptgraph.estimate import estimate_compile

    phases = estimate_compile(
        train_program(), trainset=questions(200), valset_size=40, iterations=10, samples_per_label=100,
        optimizer=pg.ParetoSearch(optimizer_lm(), minibatch=4), forward_model="claude-haiku-5-5",
        optimizer_model="claude-opus-5-5",
    )  # fmt: skip
    by_phase = {phase.phase: phase.calls for phase in phases}
    assert by_phase["forward"] == 10 * 4 and by_phase["search"] == 10 * 2 * (2 * 2 + 2 * 4)


def test_the_estimates_phases_are_named_by_the_tags_the_ledger_shows_for_its_calls():
    from promptgraph.estimate import estimate_compile

    sent = {account.tag for account in train(pg.ParetoSearch(optimizer_lm()), iterations=2).ledger.accounts()}
    phases = estimate_compile(
        train_program(), trainset=questions(200), valset_size=40, iterations=2, samples_per_label=10,
        optimizer=pg.ParetoSearch(optimizer_lm()), forward_model="claude-haiku-5-5", optimizer_model="claude-opus-5-5",
    )  # fmt: skip
    assert {phase.phase.removesuffix(" (at most)") for phase in phases} == sent


def test_a_merge_takes_each_module_from_the_candidate_that_changed_it_and_joins_the_pool():
    from promptgraph.lm import Ledger
    from promptgraph.optimizers.base import StepContext
    from promptgraph.optimizers.search import trainable_values

    program = scenario.chain(frozen_tail=False)
    start = trainable_values(program)
    note_fixed = start | {"note.system": f"{start['note.system']} {scenario.KEY_PHRASE}".strip()}
    classify_changed = start | {"classify.system": f"{start['classify.system']} Be careful."}
    optimizer = pg.ParetoSearch(optimizer_lm())
    optimizer.pool.add(start, (0, 0, 0))
    optimizer.pool.add(note_fixed, (1, 1, 0), parent=0, changed=("note",))
    optimizer.pool.add(classify_changed, (0, 0, 1), parent=0, changed=("classify",))  # leads the last example
    optimizer._merge_due = True  # as after an accepted child
    forward = pg.ScriptedLM(respond=scenario.chain_forward, model="claude-haiku-5-5")
    context = StepContext(forward, Ledger(), pg.exact_match, scenario.LABELS, scenario.questions(40), seed=3)
    assert optimizer.begin_step(program, context) == []  # a merge reflects on nothing
    result = optimizer.step(program, traces=[], evaluation=pg.evaluate([]), context=context)
    (kept,) = [tried for tried in result.tried if tried.decision.startswith("kept")]
    assert kept.origin == "merge of 1 and 2"
    assert trainable_values(program) == note_fixed | {"classify.system": classify_changed["classify.system"]}
    optimizer.validated(2, program, _scores(3))  # compile validates what the step left
    merged = optimizer.pool.candidates[-1]
    assert (merged.origin, merged.merged_from, merged.parent) == ("merge", (1, 2), 1)


def test_a_merge_says_why_it_took_no_training_minibatch():
    from promptgraph.lm import Ledger
    from promptgraph.optimizers.base import StepContext
    from promptgraph.optimizers.search import trainable_values

    program = scenario.chain(frozen_tail=False)
    start = trainable_values(program)
    optimizer = pg.ParetoSearch(optimizer_lm())
    optimizer.pool.add(start, (0, 0, 0))
    optimizer.pool.add(start | {"note.system": "A."}, (1, 1, 0), parent=0, changed=("note",))
    optimizer.pool.add(start | {"classify.system": "B."}, (0, 0, 1), parent=0, changed=("classify",))
    optimizer._merge_due = True  # as after an accepted child
    forward = pg.ScriptedLM(respond=scenario.chain_forward, model="claude-haiku-5-5")
    context = StepContext(forward, Ledger(), pg.exact_match, scenario.LABELS, scenario.questions(40), seed=3)
    assert optimizer.begin_step(program, context) == []

    result = optimizer.step(program, traces=[], evaluation=pg.evaluate([]), context=context)

    assert "merge combines the texts of candidates #1 and #2" in result.no_minibatch


def _scores(count: int) -> pg.Evaluation:
    from promptgraph.metrics import Evaluation

    return Evaluation(count=count, score=1.0, labels=(), per_label={}, confusion={}, unparsed=0, failed=0,
                      scores=(1.0,) * count)  # fmt: skip


def test_a_child_that_fixes_nothing_it_was_made_from_is_dropped_before_the_held_out_test():
    optimizer = pg.ParetoSearch(pg.ScriptedLM(respond=careful, model="claude-opus-5-5"), minibatch=4)
    result = train(optimizer, iterations=2)
    decisions = [tried.decision for record in result.history[1:] for tried in record.tried]
    assert len(decisions) == 2 and all("on the 4 examples it was made from" in d for d in decisions)
    assert result.history[-1].calls["search"] <= 2 * 4  # the child on its own minibatch, nothing held out
