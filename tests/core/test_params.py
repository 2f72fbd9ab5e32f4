import pytest

from trustbench import Method, Param
from trustbench.core.errors import ParameterError
from trustbench.core.params import validate_params

SPEC = {
    "lam": Param(float, 0.1, low=0.0, doc="l1 strength"),
    "solver": Param(str, "newton", choices=("newton", "cd")),
    "max_iter": Param(int, 10, low=1),
}


def test_defaults_filled():
    assert validate_params("method 'x'", SPEC, {}) == {
        "lam": 0.1,
        "solver": "newton",
        "max_iter": 10,
    }


def test_negative_lambda_rejected_with_value():
    with pytest.raises(ParameterError, match=r"invalid value -1\.0 for parameter 'lam'.*>= 0\.0"):
        validate_params("method 'x'", SPEC, {"lam": -1.0})


def test_unknown_parameter_lists_allowed():
    with pytest.raises(ParameterError, match="unknown parameter 'lamda'.*allowed parameters: lam"):
        validate_params("method 'x'", SPEC, {"lamda": 1.0})


def test_choice_rejected():
    with pytest.raises(ParameterError, match="one of 'newton', 'cd'"):
        validate_params("method 'x'", SPEC, {"solver": "sgd"})


def test_string_values_from_command_line_converted():
    values = validate_params("method 'x'", SPEC, {"lam": "0.5", "max_iter": "3"})
    assert values["lam"] == 0.5
    assert values["max_iter"] == 3


@pytest.mark.parametrize("value", [float("nan"), float("inf"), True, "abc"])
def test_non_finite_and_wrong_types_rejected(value):
    with pytest.raises(ParameterError, match="parameter 'lam'"):
        validate_params("method 'x'", SPEC, {"lam": value})


def test_method_sets_attributes():
    class Demo(Method):
        params = SPEC

    method = Demo(lam=0.3)
    assert method.lam == 0.3
    assert method.params["solver"] == "newton"
