"""The gradient check (section 5.7.3): backprop agrees with numerical gradients, for any seed."""
import pytest
from hypothesis import example, given, settings, strategies as st

from purenn import rng
from purenn.gradient_check import (GradientCheckError, KINK_MARGIN, gradient_check,
                                   max_abs_difference, relu_inputs)
from purenn.matrix import Matrix
from purenn.multilayer import MultiLayerNet, TwoLayerNet

pytestmark = pytest.mark.ch5

CONFIGS = [(a, bn) for a in ("relu", "sigmoid", "tanh") for bn in (False, True)]
IDS = ["%s%s" % (a, "-batchnorm" if bn else "") for a, bn in CONFIGS]


@pytest.mark.parametrize("activation,use_batchnorm", CONFIGS, ids=IDS)
def test_every_parameter_agrees_below_1e_7(activation, use_batchnorm):
    worst = gradient_check(activation, use_batchnorm=use_batchnorm, weight_decay_lambda=0.1)
    assert set(worst) >= {"W1", "b1", "W2", "b2", "W3", "b3"}
    assert max(worst.values()) < 1e-7, worst


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 10 ** 6))
@example(3)    # relu + batchnorm: plain central differences missed by 1.9e-6
@example(4)    # relu: a pre-activation 8.3e-5 from the kink, W1 missed by 1.4e-3
@example(76)   # relu + batchnorm: plain central differences missed by 1.5e-4
@example(323)  # relu: every batch put a layer-2 ReLU input at exactly 0 (zero biases)
@pytest.mark.parametrize("activation,use_batchnorm", CONFIGS, ids=IDS)
def test_agrees_below_1e_7_for_any_seed(activation, use_batchnorm, seed):
    worst = gradient_check(activation, use_batchnorm=use_batchnorm, weight_decay_lambda=0.1,
                           seed=seed)
    assert max(worst.values()) < 1e-7, (seed, worst)


@pytest.mark.slow
@pytest.mark.parametrize("use_batchnorm", [False, True], ids=["relu", "relu-batchnorm"])
def test_agrees_below_1e_7_for_each_of_200_seeds(use_batchnorm):
    # before the biases were drawn, 1.5 % of the seeds failed (290 of 20,000)
    bad = []
    for seed in range(200):
        worst = max(gradient_check("relu", use_batchnorm=use_batchnorm, weight_decay_lambda=0.1,
                                   seed=seed).values())
        if not worst < 1e-7:
            bad.append((seed, worst))
    assert bad == []


def test_zero_biases_put_every_redrawn_batch_on_the_kink_seed_323():
    # why the biases are drawn: a sample whose layer-1 ReLUs are all off feeds
    # exact zeros to layer 2, whose inputs are then b2 = 0, whatever x is
    net = MultiLayerNet(6, [5, 4], 3, weight_decay_lambda=0.1, seed=323)
    gen = rng.Random(423)
    zeros = []
    for _ in range(4):
        x = Matrix.uniform(4, 6, seed=gen)
        gen.randrange(3), gen.randrange(3), gen.randrange(3), gen.randrange(3)
        zeros.append(relu_inputs(net, x).count(0.0))
    assert zeros[1:] == [4, 8, 8]


def test_relu_inputs_near_the_kink_spoil_a_plain_central_difference():
    # seed 4's first batch has a ReLU input 8.3e-5 from 0: closer than KINK_MARGIN,
    # and there the plain central difference is no check at all
    net = MultiLayerNet(6, [5, 4], 3, weight_decay_lambda=0.1, seed=4)
    gen = rng.Random(104)
    x = Matrix.uniform(4, 6, seed=gen)
    t = [gen.randrange(3) for _ in range(4)]
    assert min(abs(v) for v in relu_inputs(net, x)) < KINK_MARGIN
    assert max_abs_difference(net.gradient(x, t), net.numerical_gradient(x, t)) > 1e-4


def test_a_check_that_cannot_be_made_is_a_one_line_gradient_check_error():
    # 10,000 ReLU inputs: no draw keeps them all 1e-2 from 0
    with pytest.raises(GradientCheckError) as info:
        gradient_check("relu", sizes=(6, [200], 3), batch=50, tries=2)
    assert isinstance(info.value, ValueError) and "\n" not in str(info.value)
    assert str(info.value).startswith("gradient_check: 2 draws of the batch and the biases "
                                      "(seed 0) all put a ReLU input within 0.01 of its kink")


def test_batchnorm_error_of_a_plain_difference_is_the_h_squared_truncation_error():
    # not a backprop bug: the plain difference shrinks 100-fold per 10-fold smaller h
    plain = [max(gradient_check("relu", use_batchnorm=True, weight_decay_lambda=0.1, seed=3,
                                h=h, extrapolate=False).values()) for h in (1e-3, 1e-4)]
    assert plain[1] > 1e-7                         # the plain check fails at h = 1e-4 ...
    assert 80 < plain[0] / plain[1] < 120          # ... by c h^2


def test_two_layer_net_of_the_book_passes_its_gradient_check():
    # section 5.7.3: TwoLayerNet(784, 50, 10) on 3 MNIST images, std 0.01 (here smaller)
    net = TwoLayerNet(input_size=20, hidden_size=8, output_size=10)
    x = Matrix.uniform(3, 20, seed=5)
    t = [3, 7, 1]
    assert max_abs_difference(net.gradient(x, t), net.numerical_gradient(x, t)) < 1e-9


@pytest.mark.parametrize("a, b, expected", [
    ({"W": Matrix([[1.0, 2.0]])}, {"W": Matrix([[1.5, 2.0]])}, 0.5),
    ({"W": Matrix([[1.0]]), "b": Matrix([[0.0]])}, {"W": Matrix([[1.0]]), "b": Matrix([[-2.0]])},
     2.0),
])
def test_max_abs_difference_is_the_largest_over_all_keys(a, b, expected):
    assert max_abs_difference(a, b) == expected


def test_max_abs_difference_of_a_nan_is_nan():
    d = max_abs_difference({"W": Matrix([[float("nan"), 0.0]])}, {"W": Matrix([[0.0, 5.0]])})
    assert d != d
