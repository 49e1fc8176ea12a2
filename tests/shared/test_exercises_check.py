"""shared.exercises.check: not attempted, right, and wrong in each way it can be wrong."""
import numpy as np
import pytest

from shared.exercises import ExerciseError, check

REF = {"dx": np.arange(6.0).reshape(2, 3), "dw": np.ones(3)}


def stub():
    raise NotImplementedError


def test_a_stub_is_not_attempted(capsys):
    assert check("ex", stub, REF) is None
    assert "not attempted" in capsys.readouterr().out


def test_a_right_answer_passes_and_prints_each_tensor(capsys):
    assert check("ex", lambda: {k: v * (1 + 1e-9) for k, v in REF.items()}, REF)
    out = capsys.readouterr().out
    assert "dx" in out and "dw" in out and "correct" in out


@pytest.mark.parametrize("answer,message", [
    ({"dx": REF["dx"] * 1.001, "dw": REF["dw"]}, "dx is off by 5.0e-04"),
    ({"dx": REF["dx"].T, "dw": REF["dw"]}, "dx has shape (3, 2)"),
    ({"dx": REF["dx"]}, "dw is missing"),
])
def test_a_wrong_answer_names_the_tensor(answer, message):
    with pytest.raises(ExerciseError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check("ex", lambda: answer, REF)
