import subprocess
import sys


def test_importing_the_package_adds_a_null_handler_and_leaves_the_root_logger_alone():
    check = (
        "import logging, promptgraph; "
        "handlers = logging.getLogger('promptgraph').handlers; "
        "assert [type(h).__name__ for h in handlers] == ['NullHandler'], handlers; "
        "assert logging.getLogger().handlers == [], logging.getLogger().handlers; "
        "print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "ok", result.stderr
