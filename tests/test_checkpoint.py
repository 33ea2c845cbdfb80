"""A checkpoint.json that is damaged or not ours is refused in one line naming it, never a traceback."""

import pytest

from promptgraph import checkpoint
from promptgraph.saving import LoadError


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * 100_000 + "]" * 100_000, id="nested-100k-deep"),
        pytest.param("[1, 2]", id="a-list"),
        pytest.param('{"format": "promptgraph.checkpoint/1"}', id="fields-missing"),
        pytest.param(
            '{"format": "promptgraph.checkpoint/1", "iteration": 1, "program": {}, '
            '"history": [], "ledger": 7, "settings": {}}',
            id="ledger-not-an-object",
        ),
        pytest.param("\xff\xfe{}", id="not-utf-8"),
    ],
)
def test_a_damaged_checkpoint_is_a_load_error_naming_the_file(tmp_path, text):
    (tmp_path / checkpoint.FILE).write_bytes(text.encode("latin-1"))
    with pytest.raises(LoadError, match=str(tmp_path / checkpoint.FILE).replace(".", r"\.")):
        checkpoint.read(tmp_path)


def test_after_an_interrupt_a_checkpointed_run_is_carried_on_as_the_caller_spells_it(tmp_path):
    (tmp_path / checkpoint.FILE).write_text("{}", encoding="utf-8")
    said = checkpoint.how_to_go_on(tmp_path, resume="RESUME IT", again="it")
    assert said == "; carry on with: RESUME IT"


def test_after_an_interrupt_before_any_checkpoint_there_is_nothing_to_resume(tmp_path):
    said = checkpoint.how_to_go_on(tmp_path, resume="RESUME IT", again="the same command")
    assert said == " before the first iteration finished: there is nothing to resume; run the same command again"
