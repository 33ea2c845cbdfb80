"""Executors: threads keep to the LM's concurrency and the order given; batches answer as threads do."""

import itertools
import threading

import pytest

import promptgraph as pg
from promptgraph.executors import BatchExecutor, ThreadExecutor, Unfinished
from promptgraph.lm import AnthropicLM, Batching, Request, ScriptedLM
from promptgraph.testing import MessagesServer
from tests.scenario import questions

FAST = Batching(poll_seconds=0.02, progress=False)
WAIT = 10  # seconds a test thread waits for the others before giving up (only ever reached on a failure)
OVERLAP = 0.2  # seconds a task stays running, so tasks that could run together do


def lm_for(server):
    return AnthropicLM(base_url=server.base_url, api_key="test", max_retries=0, layer_retries=0)


def test_threads_run_at_most_the_lms_max_concurrency_at_once():
    total, limit = 6, 3
    state = {"active": 0, "peak": 0}
    changed = threading.Condition()

    def task(lm):
        with changed:
            state["active"] += 1
            state["peak"] = max(state["peak"], state["active"])
            changed.notify_all()
            # Each task stays a moment, or until one more than the limit is running: an executor
            # that ran more at once is caught at it; one that keeps the limit just waits.
            changed.wait_for(lambda: state["active"] > limit, OVERLAP)
            state["active"] -= 1

    ThreadExecutor().run([task] * total, lm=ScriptedLM(max_concurrency=limit), progress=False)
    assert state["peak"] == limit


def test_threads_return_results_in_the_order_of_the_tasks_whatever_order_they_finish_in():
    count = 6
    finished = [threading.Event() for _ in range(count)]

    def task(index):
        def run(lm):
            if index + 1 < count:
                assert finished[index + 1].wait(WAIT)  # the last task finishes first
            finished[index].set()
            return index

        return run

    tasks = [task(index) for index in range(count)]
    assert ThreadExecutor().run(tasks, lm=ScriptedLM(max_concurrency=count), progress=False) == list(range(count))


def pipeline() -> pg.Program:
    program = pg.Program(inputs=["text"])
    program.add("note", pg.Generate(outputs=["note"]))
    program.add("classify", pg.Classify(["sincere", "insincere"], inputs=["note"]), note="note.note")
    return program


def reply(request):
    content = request.messages[-1].content
    return f"<note>{content.split(chr(10))[0]}</note>" if "<note>" in content else "Label: <label>sincere</label>"


def steps(traces):
    return [
        [(n.node, n.inputs, n.status, n.outputs, n.outcome.response.text) for n in trace.nodes.values()]
        for trace in traces
    ]


def test_batches_give_the_same_traces_as_threads():
    examples = questions(5)
    with MessagesServer(reply, batch_seconds=0.02) as server:
        threads = pipeline().run(examples, lm=lm_for(server), progress=False)
        batches = pipeline().run(examples, lm=lm_for(server), progress=False, executor=BatchExecutor(FAST))
        assert len(server.batches) == 2  # one per generation: the forward calls all went in batches
    assert steps(batches) == steps(threads)


def test_batches_name_the_tasks_that_keep_asking_for_something_new():
    fresh = itertools.count()

    def steady(lm):
        return lm.complete(Request(messages=[("user", "same")])).text

    def restless(lm):
        return lm.complete(Request(messages=[("user", f"new {next(fresh)}")])).text

    with MessagesServer(lambda request: "ok", batch_seconds=0.02) as server:
        with pytest.raises(Unfinished, match="after 3 batches") as raised:
            BatchExecutor(FAST, max_rounds=3).run([steady, restless], lm=lm_for(server), progress=False)
    assert raised.value.indices == (1,)


def test_a_program_hands_its_executor_one_generation_of_tasks_at_a_time():
    class Recording:
        def __init__(self):
            self.sizes = []

        def run(self, tasks, *, lm, progress=None, description=""):
            self.sizes.append(len(tasks))
            return ThreadExecutor().run(tasks, lm=lm, progress=progress, description=description)

    executor = Recording()
    traces = pipeline().run(questions(3), lm=ScriptedLM(respond=reply), progress=False, executor=executor)
    assert executor.sizes == [3, 3]
    assert [trace.prediction for trace in traces] == ["sincere"] * 3
