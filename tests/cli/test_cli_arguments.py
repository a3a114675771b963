"""Every argument is checked before anything starts, and quiet acceptance is gone.

The targets here are a port where nothing listens: a command that checked its arguments only after
reaching its target would say "cannot connect" instead of naming the argument.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from framework.cli.main import main

NOWHERE = "postgresql://postgres@127.0.0.1:1"
PROJECT = Path(__file__).resolve().parents[2] / "dbt" / "pagila_warehouse"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["load", "--source", f"{NOWHERE}/src", "--datakit", "pagila_source", "--target", NOWHERE, "--batch-id", ""],
            "batch id '' must be a string of 1 to 64 characters",
        ),
        (
            ["generate", "pagila", "--scale", "1e300", "--target", NOWHERE],
            "--scale 1e+300: the scale must be a number above 0",
        ),
        (
            ["generate", "pagila", "--scale", "nan", "--target", NOWHERE],
            "--scale nan: the scale must be a number above 0",
        ),
        (["pipeline", "pagila", "--source", "generate:1e9", "--target", NOWHERE], "at most 10000"),
        (
            ["pipeline", "pagila", "--source", f"{NOWHERE}/src", "--target", NOWHERE, "--batch-id", ""],
            "batch id '' must be a string of 1 to 64 characters",
        ),
    ],
    ids=[
        "load-empty-batch-id",
        "generate-huge-scale",
        "generate-nan-scale",
        "pipeline-huge-scale",
        "pipeline-empty-batch",
    ],
)
def test_a_bad_argument_is_named_before_anything_starts(
    args: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(args)
    err = capsys.readouterr().err
    assert status == 2 and len(err.strip().splitlines()) == 1 and expected in err, err
    assert "cannot connect" not in err


def test_dbt_build_that_selects_nothing_says_so_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["dbt", "build", "--project", str(PROJECT), "--select", "nosuch", "--target", "postgres_local"])
    err = capsys.readouterr().err
    assert status == 1, err
    assert "datakits: dbt selected nothing with --select nosuch; check it" in err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_a_signal_during_a_dbt_step_is_an_interrupt(sig: signal.Signals) -> None:
    """dbt catches the KeyboardInterrupt and reports it as its error: the command said "signal SIGTERM",
    exit 2; it is an interrupt: exit 130, "interrupted", the run's database dropped."""
    command = [sys.executable, "-m", "framework.cli", "dbt", "build", "--project", str(PROJECT)]
    command += ["--target", "postgres_local"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stderr is not None
        lines = [proc.stderr.readline(), proc.stderr.readline()]  # the command's line, then dbt's first node
        assert all(lines), lines
        proc.send_signal(sig)
        _, rest = proc.communicate(timeout=120)
    assert proc.returncode == 130, "".join(lines) + rest
    assert "datakits: interrupted" in rest and "Traceback" not in rest, rest
