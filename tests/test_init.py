import subprocess
import sys


def test_importing_the_package_adds_no_handler_and_leaves_the_root_logger_alone():
    # No NullHandler (a deliberate change): it would hide the library's warnings from a script that configures
    # no logging, which Python otherwise prints on stderr (tests/test_logging.py).
    check = (
        "import logging, promptgraph; "
        "handlers = logging.getLogger('promptgraph').handlers; "
        "assert handlers == [], handlers; "
        "assert logging.getLogger().handlers == [], logging.getLogger().handlers; "
        "print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "ok", result.stderr


def test_every_public_class_and_function_has_a_docstring_for_help():
    import inspect

    import promptgraph as pg

    def documented(obj):
        doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else obj.__doc__
        return bool(doc and doc.strip())

    public = [getattr(pg, name) for name in pg.__all__]
    undocumented = [
        obj.__name__ for obj in public if (inspect.isclass(obj) or inspect.isfunction(obj)) and not documented(obj)
    ]
    assert not undocumented, f"no docstring: {', '.join(undocumented)}"
