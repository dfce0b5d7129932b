"""purenn: neural networks from first principles, in pure Python.

The chapters 2 - 6 of "Deep Learning from Scratch" with the standard library
only:

============================  ====================================================
``purenn.matrix``             ``Matrix``, ``dot``: products, broadcasting, reductions
``purenn.errors``             ``ShapeError``, the one error family for shapes;
                              ``DataError`` for files whose content is wrong
``purenn.perceptron``         ``Perceptron``, ``AND``, ``OR``, ``NAND``, ``XOR``
``purenn.activations``        ``step_function``, ``sigmoid``, ``tanh``, ``relu``,
                              ``leaky_relu``, ``identity_function``, ``softmax``,
                              ``sigmoid_grad``, ``relu_grad``
``purenn.network``            ``init_network``, ``forward``, ``Layer``, ``Network``
``purenn.labels``             ``one_hot``, ``accuracy``, ``predict_labels``: the truth
                              as labels or one-hot rows, and the share predicted right
``purenn.rng``                ``Random``: purenn's own seeded generator
``purenn.kernels``            the hot loops of the matrix product
``purenn.explain``            ``explain(...)``: the hand calculation, element by element
``purenn.plot``               text and SVG plots: activations, softmax, digits, curves
``purenn.notebook``           Jupyter views (``Matrix._repr_html_``)
``purenn.testing``            hypothesis strategies and ``assert_allclose`` (needs
                              hypothesis; ``import purenn`` never does)
``purenn.losses``             ``sum_squared_error``, ``cross_entropy_error`` (ch. 4)
``purenn.gradients``          ``numerical_diff``, ``numerical_gradient``,
                              ``gradient_descent`` (ch. 4)
``purenn.layers``             backprop layers: ``MulLayer``, ``AddLayer``, ``Relu``,
                              ``Sigmoid``, ``Affine``, ``SoftmaxWithLoss``, ... (ch. 5)
``purenn.optimizers``         ``SGD``, ``Momentum``, ``Nesterov``, ``AdaGrad``,
                              ``RMSprop``, ``Adam`` (ch. 6)
``purenn.multilayer``         ``MultiLayerNet``, ``TwoLayerNet`` (ch. 5 - 6)
``purenn.gradient_check``     ``gradient_check``: backprop against numerical
                              gradients (ch. 5.7.3)
``purenn.trainer``            ``Trainer``: mini-batches, epochs (ch. 6)
``purenn.optimizer_compare``  the optimisers' paths on x²/20 + y² (ch. 6.1.7)
``purenn.progress``           ``Progress``: the text progress bar
``purenn.recognize``          which trained network, from which file (ch. 3.6)
``purenn.datasets``           ``load_mnist``, ``load_digits``, ``read_idx`` (import it
                              yourself: it needs ``gzip``, which small Pythons lack)
============================  ====================================================

>>> from purenn import XOR, forward, init_network
>>> [XOR(0, 0), XOR(1, 0), XOR(0, 1), XOR(1, 1)]
[0, 1, 1, 0]
"""
import sys as _sys

try:  # (the whole import: see the except at its end)
    from purenn.errors import ShapeError, DataError
    from purenn.matrix import Matrix, dot
    from purenn.perceptron import Perceptron, AND, OR, NAND, XOR, truth_table
    from purenn.activations import (
        step_function, sigmoid, tanh, relu, leaky_relu, identity_function, softmax,
        sigmoid_grad, relu_grad)
    from purenn.network import init_network, forward, Layer, Network
    from purenn.labels import one_hot, accuracy
    from purenn.rng import Random
    from purenn.kernels import IMPLEMENTATION as _IMPLEMENTATION

    try:  # chapters 4-6; the portable core above must import even where these can't
        from purenn.losses import sum_squared_error, cross_entropy_error
        from purenn.gradients import numerical_diff, numerical_gradient, gradient_descent
        from purenn.optimizers import SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam
        from purenn.multilayer import MultiLayerNet, TwoLayerNet
        from purenn.trainer import Trainer
    except ImportError as _e:
        # A module the learning code needs may be absent from a small Python
        # (MicroPython builds without collections or time): then the core alone
        # is purenn.  But an ImportError of purenn's own modules is a bug (a
        # typo, a missing name) and must show here, not as an AttributeError
        # later: on CPython and PyPy, whose ImportError names the module, it is
        # raised again.
        if str(getattr(_e, "name", None) or "").startswith("purenn") \
                and _IMPLEMENTATION != "micropython":
            raise
except KeyboardInterrupt:
    # Ctrl-C while ``python -m purenn`` imports this package, before its
    # __main__ can catch anything: the exit status 130 of an interrupted
    # command, no traceback.  Imported by a program, the program decides.
    if _sys.argv[:1] == ["-m"]:
        _sys.stderr.write("purenn: interrupted\n")
        raise SystemExit(130)
    raise

__version__ = "0.1.0"

__all__ = [
    "Matrix", "ShapeError", "DataError", "dot",
    "Perceptron", "AND", "OR", "NAND", "XOR", "truth_table",
    "step_function", "sigmoid", "tanh", "relu", "leaky_relu", "identity_function", "softmax",
    "init_network", "forward", "Layer", "Network", "Random",
    "sum_squared_error", "cross_entropy_error",
    "numerical_diff", "numerical_gradient", "gradient_descent",
    "SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam",
    "MultiLayerNet", "TwoLayerNet", "Trainer", "one_hot", "accuracy",
    "sigmoid_grad", "relu_grad",
]
