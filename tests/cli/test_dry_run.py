"""`compile --dry-run` prices the backend the run would really use."""

from promptgraph.cli import main
from tests.cli.test_train import data, data_options  # noqa: F401  # the data fixture


def total(printed: str) -> str:
    return next(line for line in printed.splitlines() if line.startswith("total")).split()[-1]


def test_with_no_key_and_no_backend_named_the_dry_run_prices_the_local_backend_at_nothing(data, capsys):  # noqa: F811
    assert main(["compile", str(data), *data_options(), "--dry-run"]) == 0
    printed = capsys.readouterr()
    assert "runs on the local backend" in printed.err
    assert "local model" in printed.out and "0 (local)" in printed.out
    assert total(printed.out) == "0.0000"


def test_with_claude_the_dry_run_prices_claude(data, capsys):  # noqa: F811
    assert main(["compile", str(data), *data_options(), "--dry-run", "--lm", "claude"]) == 0
    printed = capsys.readouterr().out
    assert "claude-haiku-5-5" in printed and float(total(printed)) > 0


def test_a_server_with_models_that_have_no_price_totals_unknown_not_zero(data, capsys):  # noqa: F811
    server = ["--base-url", "http://127.0.0.1:9", "--model", "mine", "--optimizer-model", "mine"]
    assert main(["compile", str(data), *data_options(), "--dry-run", *server]) == 0
    printed = capsys.readouterr().out
    assert "unpriced" in printed and total(printed) == "unknown"


def test_a_dry_run_with_batches_on_the_local_backend_is_refused_as_the_run_would_be(data, capsys):  # noqa: F811
    assert main(["compile", str(data), *data_options(), "--dry-run", "--batch", "--lm", "local"]) == 2
    assert "the local server has none" in capsys.readouterr().err
