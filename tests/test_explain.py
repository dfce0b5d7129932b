"""The hand calculation (purenn.explain): its text follows the slides and its
numbers are the ones purenn really computes."""
import re
import subprocess
import sys
from fractions import Fraction

import pytest

from purenn import (AND, NAND, OR, XOR, Layer, Matrix, Network, ShapeError, forward,
                    init_network, relu, softmax)
from purenn.explain import (explain, explain_layer, explain_matmul, explain_perceptron,
                            number)

pytestmark = pytest.mark.ch3


def test_book_network_first_layer_as_on_the_slides():
    # section 3.4.3: a1 = x·W1 + b1 with x = (1.0, 0.5)
    text = str(explain(init_network(), [1.0, 0.5]))
    assert "(1,2)·(2,3)+(1,3) -> (1,3)" in text
    assert "a1[0] = 1.0×0.1 + 0.5×0.2 + 0.1 = 0.3" in text
    assert "z1[0] = sigmoid(0.3) = 0.5744425168" in text
    assert "(1,3)·(3,2)+(1,2) -> (1,2)" in text
    assert "(1,2)·(2,2)+(1,2) -> (1,2)" in text


def test_result_is_what_forward_returns():
    e = explain(init_network(), [1.0, 0.5])
    assert e.result == forward(init_network(), [1.0, 0.5])


def test_network_object_and_dict_agree():
    net = init_network()
    x = [[1.0, 0.5], [-2.0, 3.0]]
    a = explain(net, x)
    b = explain(Network.from_dict(net), x)
    assert str(a) == str(b)
    assert a.result == Network.from_dict(net).predict(x)


def test_every_written_element_equals_the_computed_element():
    # parse "a1[j] = ... = value" lines back and compare with the real a1
    x, W, b = Matrix([[0.3, -1.2, 2.0]]), Matrix([[1.5, -0.5], [0.25, 2.0], [-1.0, 0.75]]), Matrix([0.1, -0.2])
    e = explain_layer(x, W, b, relu)
    a = x @ W + b
    for j in range(2):
        line = next(l for l in e.lines if l.strip().startswith("a1[%d] =" % j))
        assert float(line.rsplit("= ", 1)[1]) == pytest.approx(a[0, j], rel=1e-9)


def test_fraction_inputs_give_exact_values():
    F = Fraction
    net = {k: v.map(lambda t: F(repr(t))) for k, v in init_network().items()}
    text = str(explain(net, [F(1), F(1, 2)]))
    assert "a1[0] = 1×(1/10) + (1/2)×(1/5) + 1/10 = 3/10" in text
    assert "a1[2] = 1×(1/2) + (1/2)×(3/5) + 3/10 = 11/10" in text


def test_matmul_small_every_element():
    e = explain_matmul([[1, 2], [3, 4]], [[5, 6], [7, 8]])
    assert e.lines[0] == "C = A·B   (2,2)·(2,2) -> (2,2)"
    assert "  C[1,0] = 3×5 + 4×7 = 43" in e.lines
    assert e.result == Matrix([[19, 22], [43, 50]])


def test_large_matrices_are_summarised_not_dumped():
    x = Matrix.uniform(100, 784, seed=1)
    W = Matrix.uniform(784, 50, low=-0.1, high=0.1, seed=2)
    b = Matrix.zeros(1, 50)
    e = explain_layer(x, W, b)
    text = str(e)
    assert len(e.lines) < 10
    assert len(text) < 2000
    assert "(100,784)·(784,50)+(1,50) -> (100,50)" in text
    assert "3920000 multiply-adds" in text
    assert "... (784 products) ..." in text
    assert re.search(r"a1 \(100,50\): min .*, mean .*, max .*", text)


def test_negative_numbers_get_parentheses_and_negative_bias_a_minus():
    text = str(explain_layer([1.0], [[-0.5]], [-0.25], relu))
    assert "a1[0] = 1.0×(-0.5) - 0.25 = -0.75" in text
    assert "z1[0] = relu(-0.75) = 0.0" in text


def test_softmax_layer_shows_exp_and_sum():
    e = explain_layer([[1.0, 2.0]], [[1, 0], [0, 1]], [0, 0], softmax)
    text = str(e)
    assert "max = 2.0" in text
    assert e.result.allclose(softmax(Matrix([[1.0, 2.0]])))


@pytest.mark.parametrize("gate,name", [(AND, "AND"), (OR, "OR"), (NAND, "NAND")])
@pytest.mark.parametrize("pair", [(0, 0), (1, 0), (0, 1), (1, 1)])
def test_perceptron_explanation_matches_the_gate(gate, name, pair):
    e = explain(gate, pair)
    assert e.result == gate(*pair)
    assert e.lines[0].startswith(name + ": w·x + b = ")
    assert e.lines[0].endswith("-> %d" % gate(*pair))


def test_and_gate_as_in_the_issue():
    assert str(explain(AND, (1, 1))) == "AND: w·x + b = 0.5×1 + 0.5×1 - 0.7 = 0.3 > 0 -> 1"


@pytest.mark.parametrize("pair", [(0, 0), (1, 0), (0, 1), (1, 1)])
def test_xor_two_layers(pair):
    e = explain(XOR, pair)
    assert e.result == XOR(*pair)
    assert len(e.lines) == 4


def test_shape_mismatch_is_purenn_shape_error_with_both_shapes():
    with pytest.raises(ShapeError, match=r"\(1, 2\) @ \(3, 2\)"):
        explain_matmul([[1, 2]], [[1, 2], [3, 4], [5, 6]])
    with pytest.raises(ShapeError):
        explain(init_network(), [1.0, 2.0, 3.0])


def test_wrong_number_of_perceptron_inputs():
    with pytest.raises(ShapeError, match="3 inputs for 2 weights"):
        explain_perceptron(AND, (1, 0, 1))


@pytest.mark.parametrize("bad", ["sigmoid", 3, None])
def test_cannot_explain_other_things(bad):
    with pytest.raises(TypeError, match="explain: cannot explain"):
        explain(bad)


def test_explain_needs_exactly_one_input():
    with pytest.raises(TypeError, match="one more argument"):
        explain(AND)
    with pytest.raises(TypeError):
        explain(XOR, (1, 0, 1))


def test_layer_object():
    layer = Layer([[1, 2], [3, 4]], [1, 1], relu)
    e = explain(layer, [[1, -1]])
    assert e.result == layer(Matrix([[1, -1]]))


def test_number_formatting():
    assert number(float("nan")) == "nan"
    assert number(float("-inf")) == "-inf"
    assert number(-2.0) == "-2.0"
    assert number(1e300) == "1e+300"
    assert number(True) == "True"  # bools are ints; shown as Python does


def test_html_repr_escapes():
    e = explain_matmul([[1]], [[2]], names=("<A>", "B", "C"))
    assert "<A>" not in e._repr_html_()
    assert "&lt;A&gt;" in e._repr_html_()


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "purenn"] + list(args),
                          capture_output=True, text=True, timeout=120)


@pytest.mark.processes
def test_cli_explain_network_and_gate():
    out = _cli("explain").stdout
    assert "a1[0] = 1.0×0.1 + 0.5×0.2 + 0.1 = 0.3" in out
    out = _cli("explain", "gate", "and", "1", "1").stdout
    assert "AND: w·x + b = 0.5×1 + 0.5×1 - 0.7 = 0.3 > 0 -> 1" in out
    out = _cli("explain", "matmul", "[[0.1, 0.2]]", "[[1], [2]]", "--exact").stdout
    assert "C[0] = (1/10)×1 + (1/5)×2 = 1/2" in out


@pytest.mark.processes
def test_cli_explain_bad_input_is_a_message_not_a_traceback():
    r = _cli("explain", "matmul", "[[1, 2]]", "[[1, 2]]")
    assert r.returncode != 0
    assert "columns of the left (2) must equal rows of the right (1)" in r.stderr
    assert "Traceback" not in r.stderr
    r = _cli("explain", "matmul", "[[1, 2]", "[[1]]")
    assert r.returncode != 0 and "Traceback" not in r.stderr


@pytest.mark.processes
def test_tour_includes_the_hand_calculation():
    out = _cli().stdout
    assert "by hand" in out
    assert "z1[0] = sigmoid(0.3) = 0.5744425168" in out


def test_unnamed_activation_is_called_h():
    e = explain_layer([[1.0]], [[2.0]], [0.0], lambda a: a * 3)
    assert "  z1 = h(a1):  z1[0] = h(2.0) = 6.0" in e.lines


@pytest.mark.processes
def test_tour_on_an_ascii_terminal_falls_back_instead_of_crashing():
    import os
    env = dict(os.environ, PYTHONIOENCODING="ascii")
    r = subprocess.run([sys.executable, "-m", "purenn"], capture_output=True, text=True,
                       timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    assert "AND: w.x + b = 0.5*1 + 0.5*1 - 0.7 = 0.3 > 0 -> 1" in r.stdout
    assert "a1[0] = 1.0*0.1 + 0.5*0.2 + 0.1 = 0.3" in r.stdout
    assert "* sigmoid  o step_function" in r.stdout       # the chart in ASCII


def test_activation_that_does_not_return_a_matrix():
    with pytest.raises(TypeError, match="must return a Matrix"):
        explain_layer([[1.0]], [[2.0]], [0.0], lambda a: 3)


def test_activation_that_changes_the_shape():
    with pytest.raises(ShapeError, match=r"\(1, 2\) -> \(2, 1\)"):
        explain_layer([[1.0]], [[2.0, 1.0]], [0.0, 0.0], lambda a: a.T)


# ------------------------------------------------------ laws, with purenn.testing

from hypothesis import given, settings, strategies as st  # noqa: E402

from purenn.testing import matmul_pairs  # noqa: E402


@settings(max_examples=30, deadline=None)
@given(matmul_pairs(kind="fraction", max_dim=4))
def test_every_written_element_is_the_exact_product(pair):
    A, B = pair
    e = explain_matmul(A, B)
    C = A @ B
    assert e.result == C
    n, m = C.shape
    if n * m <= 16 and A.shape[1] <= 8:
        element_lines = e.lines[1:]
        assert len(element_lines) == n * m
        for line, value in zip(element_lines, [v for row in C.tolist() for v in row]):
            assert line.rsplit(" = ", 1)[1] == str(value)   # exact: Fractions print exactly


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.integers(1, 40))
def test_long_or_large_products_stay_short(n, k, m):
    A, B = Matrix.ones(n, k), Matrix.ones(k, m)
    e = explain_matmul(A, B)
    assert e.result == A @ B
    assert len(e.lines) <= 1 + 16                     # never a dump of every element
    assert max(len(line) for line in e.lines) < 400   # never a 40-term sum written out


def test_a_trained_multi_layer_net_is_explained_step_by_step():
    from purenn.multilayer import MultiLayerNet
    net = MultiLayerNet(2, [3], 2, activation="sigmoid", seed=1)
    e = explain(net, [[1.0, 0.5]])
    assert e.result == net.predict([[1.0, 0.5]])
    assert "z1 = sigmoid(a1)" in str(e) and "y = identity_function(a2)" in str(e)


def test_a_network_with_batchnorm_is_refused_with_the_reason():
    from purenn.multilayer import MultiLayerNet
    with pytest.raises(TypeError, match="batch normalization or dropout"):
        explain(MultiLayerNet(2, [3], 2, use_batchnorm=True), [[1.0, 0.5]])
