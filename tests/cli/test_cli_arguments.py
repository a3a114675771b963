"""Every argument is checked before anything starts, and quiet acceptance is gone.

The targets here are a port where nothing listens: a command that checked its arguments only after
reaching its target would say "cannot connect" instead of naming the argument.
"""

from __future__ import annotations

import pytest

from framework.cli.main import main

NOWHERE = "postgresql://postgres@127.0.0.1:1"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["load", "--source", f"{NOWHERE}/src", "--datakit", "pagila_source", "--target", NOWHERE, "--batch-id", ""],
            "batch id '' must be a string of 1 to 64 characters",
        ),
        (["generate", "pagila", "--scale", "1e300", "--target", NOWHERE], "--scale 1e+300: give a number above 0"),
        (["generate", "pagila", "--scale", "nan", "--target", NOWHERE], "--scale nan: give a number above 0"),
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
