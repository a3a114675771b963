"""No password in anything the plugin prints: usage errors, reprs of a failing test's locals, --debug."""

from __future__ import annotations

import pytest

from framework.engines.urls import safe_text, safe_url, to_url
from framework.targets.named import get_target_config
from framework.targets.runs import Database

SECRET = "S3cretPW"
FAILING = """
def test_fails(datakit_target):
    config = datakit_target.config
    assert config is None
"""


def test_every_rendering_hides_the_password() -> None:
    in_query = f"postgresql://root@127.0.0.1:1/x?password={SECRET}"
    assert SECRET not in safe_url(in_query)
    assert SECRET not in safe_text(f"mongodb://root:{SECRET}@127.0.0.1/x and {in_query}")
    config = get_target_config(f"postgresql://root:{SECRET}@127.0.0.1/x?sslpassword={SECRET}")
    assert SECRET not in repr(config)
    assert SECRET not in repr(Database(to_url(in_query), name="x"))


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        (f"mongodb://root:{SECRET}@127.0.0.1/x", "mongodb://root:***@127.0.0.1/x"),
        (f"postgresql://u:{SECRET}@127.0.0.1:notaport/x", "not a valid database URL"),  # was an INTERNALERROR
    ],
)
def test_a_usage_error_hides_the_password(run, target: str, shown: str) -> None:
    result = run(f"--datakit-target={target}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert shown in result.stderr.str()
    assert SECRET not in result.stdout.str() + result.stderr.str()
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_a_failing_test_shows_no_password_even_with_locals_and_debug(
    run, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL here trusts local users, so the password is ignored, but it must never be printed.

    The target comes from the environment: pytest itself echoes its command line in --debug."""
    pytester.makepyfile(FAILING)
    monkeypatch.setenv("DATAKITS_TARGET", f"postgresql://postgres:{SECRET}@127.0.0.1:5432/postgres?password={SECRET}")
    result = run("-l", "-vv", "--debug=debug.log")
    result.assert_outcomes(failed=1)
    shown = result.stdout.str() + result.stderr.str() + (pytester.path / "debug.log").read_text()
    assert "TargetConfig(" in shown
    assert SECRET not in shown


ENGINE_FAILING = """
def test_fails(datakit_engine, datakit_target):
    engine = datakit_engine
    assert engine is None
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]])
def test_a_query_string_password_is_in_no_fixture_repr_nor_xdist_debug(
    run, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, workers: list[str]
) -> None:
    """The engine holds its URL (SQLAlchemy's repr hides ``user:password@`` only, not ``?password=``)."""
    pytester.makepyfile(ENGINE_FAILING)
    monkeypatch.setenv("DATAKITS_TARGET", f"postgresql://postgres@127.0.0.1:5432/postgres?password={SECRET}")
    result = run("-l", "-vv", "--debug=debug.log", *workers)
    result.assert_outcomes(failed=1)
    shown = result.stdout.str() + result.stderr.str() + (pytester.path / "debug.log").read_text()
    assert "Engine(" in shown  # the local was shown
    assert SECRET not in shown
