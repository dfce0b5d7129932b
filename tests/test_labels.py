"""Labels, one-hot rows and accuracy (chapters 3.6, 4.2): one home, one rule."""
import pytest

from purenn import ShapeError
from purenn.labels import accuracy, as_labels, one_hot, predict_labels, targets
from purenn.layers import SoftmaxWithLoss
from purenn.losses import cross_entropy_error
from purenn.matrix import Matrix
from purenn.multilayer import MultiLayerNet
from purenn.network import Layer, Network
from purenn.activations import identity_function
from purenn.trainer import Trainer

pytestmark = pytest.mark.ch3

NOT_ONE_HOT = [[[1, 1]], [[0.3, 0.7]], [[0, 0]], [[2, 0]]]
IDS = ["two-ones", "soft", "no-one", "a-two"]


def test_one_hot_puts_a_1_at_each_label():
    assert one_hot([2, 0], 3) == Matrix([[0, 0, 1], [1, 0, 0]])


@pytest.mark.parametrize("t, labels", [
    ([2, 0], [2, 0]), (1, [1]), (Matrix([[0, 0, 1], [1, 0, 0]]), [2, 0]),
    ([[0, 1, 0]], [1]), ([[0.0, 0.0, 1.0]], [2]),
])
def test_labels_come_from_labels_or_one_hot_rows(t, labels):
    assert as_labels(t, 3, "test") == labels


def test_a_flat_row_of_one_hot_numbers_is_one_row_for_a_single_sample():
    # the slides' t = [0, 0, 1, 0, ...] for one output row
    assert as_labels([0, 0, 1], 3, "loss", n=1) == [2]


@pytest.mark.parametrize("t", NOT_ONE_HOT, ids=IDS)
def test_rows_that_are_not_one_hot_are_refused(t):
    with pytest.raises(ValueError, match=r"test: t row 0 is \[.*\], not one-hot \(one 1, the "
                                         r"rest 0\); give class labels \(ints\) or one-hot rows"):
        as_labels(t, 2, "test")


def _identity_network(k=2):
    return Network([Layer(Matrix.identity(k), Matrix.zeros(1, k), identity_function)])


CLASS_USERS = {
    "Network.accuracy": lambda t: _identity_network().accuracy([[1.0, 0.0]], t),
    "MultiLayerNet.accuracy": lambda t: MultiLayerNet(2, [3], 2).accuracy([[1.0, 0.0]], t),
    "SoftmaxWithLoss": lambda t: SoftmaxWithLoss().forward(Matrix([[1.0, 0.0]]), t),
    "cross_entropy_error": lambda t: cross_entropy_error(Matrix([[0.5, 0.5]]), t),
    "Trainer": lambda t: Trainer(MultiLayerNet(2, [3], 2), [[1.0, 0.0]], t, [[1.0, 0.0]], [0]),
}


@pytest.mark.parametrize("t", NOT_ONE_HOT, ids=IDS)
@pytest.mark.parametrize("user", sorted(CLASS_USERS))
def test_every_user_of_class_labels_refuses_the_same_rows(user, t):
    with pytest.raises(ValueError, match=r"t row 0 is \[.*\], not one-hot"):
        CLASS_USERS[user](t)


@pytest.mark.parametrize("t, error, words", [
    ([[0, 0, 0, 1]], ShapeError, r"one-hot t \(1, 4\) for 2 classes"),
    (["1"], ValueError, "label 0 is '1'"),
    ([1.0], ValueError, "label 0 is 1.0"),
    ([2], ValueError, "an int from 0 to 1"),
    ([-1], ValueError, "label 0 is -1"),
    ([True], ValueError, "label 0 is True"),
])
def test_labels_that_are_no_classes_are_refused(t, error, words):
    with pytest.raises(error, match=words):
        as_labels(t, 2, "test")


def test_labels_of_another_count_than_the_rows_are_a_shape_error():
    with pytest.raises(ShapeError, match="test: 2 inputs but 3 labels"):
        as_labels([0, 1, 0], 2, "test", n=2)


def test_targets_of_labels_are_one_hot_and_other_rows_stay_as_they_are():
    assert targets([1], (1, 2), "sse") == Matrix([[0, 1]])
    assert targets([[0.3, 0.7]], (1, 2), "sse") == Matrix([[0.3, 0.7]])


@pytest.mark.parametrize("batch_size", [1, 2, 3, 100])
def test_predict_labels_is_the_argmax_of_each_row_in_any_batch_size(batch_size):
    x = Matrix([[1.0, 0.0], [0.0, 2.0], [5.0, 1.0]])
    assert predict_labels(_identity_network(), x, batch_size) == [0, 1, 0]


def test_a_row_of_nan_scores_predicts_nothing():
    nan = float("nan")
    assert predict_labels(_identity_network(), [[nan, nan], [1.0, nan], [1.0, 0.0]]) == \
        [None, None, 0]


def test_accuracy_is_the_share_of_right_predictions():
    assert accuracy([7, 2, 1, None], [7, 2, 0, 4]) == 0.5


def test_accuracy_of_a_network_counts_a_nan_row_as_wrong():
    # argmax of [nan, nan] is 0 (numpy's rule); accuracy must not count it as class 0
    assert _identity_network().accuracy([[float("nan")] * 2, [1.0, 0.0]], [0, 0]) == 0.5


def test_the_progress_bar_counts_the_rows_predicted():
    from purenn.progress import Progress
    import io
    out = io.StringIO()
    bar = Progress(3, "rows", out=out, width=3)
    predict_labels(_identity_network(), Matrix([[1.0, 0.0]] * 3), 2, bar)
    assert bar.count == 3
