"""A fully connected network of any depth, trained by backpropagation (chapters 5.7, 6.2 - 6.4).

``MultiLayerNet(input_size, hidden_size_list, output_size, ...)`` stacks, for
each hidden layer, ``Affine -> [BatchNormalization] -> activation -> [Dropout]``
and ends with ``Affine -> SoftmaxWithLoss``::

    x (N, 784) -> Affine1 -> Relu1 -> Affine2 -> Relu2 -> Affine3 -> SoftmaxWithLoss
                  W1 (784, 100)       W2 (100, 100)       W3 (100, 10)

==============================  =============================================
``net.params``                  dict of matrices: ``W1, b1, W2, b2, ...``
                                (and ``gamma1, beta1, ...`` with batchnorm)
``net.predict(x)``              the scores (N, classes), before softmax
``net.loss(x, t)``              mean cross-entropy (+ weight decay)
``net.accuracy(x, t)``          share of rows whose top score is the label
``net.gradient(x, t)``          every dL/dparam by backpropagation (a dict)
``net.numerical_gradient(x, t)``  the same by numerical differentiation (slow;
                                to check ``gradient``: ``purenn.gradient_check``)
``net.save(path)``, ``MultiLayerNet.load(path)``  purenn's weights format, exact
``TwoLayerNet(...)``            the book's chapter-5 network: one hidden layer
``weight_scale(init, n_in)``    the std of a layer's initial weights
==============================  =============================================

Weight initialisation (section 6.2): weights are Gaussian with standard deviation

* a fixed number, e.g. ``0.01`` (the book's chapter 4 and 5 networks),
* ``"xavier"`` (or ``"sigmoid"``): ``sqrt(1 / n_in)``, for sigmoid and tanh,
* ``"he"`` (or ``"relu"``): ``sqrt(2 / n_in)``, for ReLU,

where ``n_in`` is the number of inputs of the layer; biases start at 0.

Weight decay (section 6.4.2) adds ``lambda / 2 * sum(W**2)`` over all weights
to the loss, and so ``lambda * W`` to each weight's gradient.

>>> net = MultiLayerNet(4, [5], 3, seed=1)
>>> sorted(net.params), net.params["W1"].shape, net.params["b2"].shape
(['W1', 'W2', 'b1', 'b2'], (4, 5), (1, 3))
>>> x, t = Matrix([[0.1, 0.2, 0.3, 0.4]]), [2]
>>> grads = net.gradient(x, t)
>>> numerical = net.numerical_gradient(x, t)
>>> max(abs(grads[k] - numerical[k]).max() for k in grads) < 1e-7
True
"""
import math
from collections import OrderedDict

from purenn.errors import DataError, ShapeError
from purenn.layers import (Affine, Relu, Sigmoid, Tanh, SoftmaxWithLoss, Dropout,
                           BatchNormalization)
from purenn.activations import identity_function, relu, sigmoid, tanh
from purenn.labels import accuracy, as_labels, predict_labels
from purenn.network import Layer
from purenn.gradients import H, numerical_gradient_params
from purenn.kernels import no_cycle_collection
from purenn.matrix import Matrix, as_matrix, format_shape
from purenn import rng as _rng

ACTIVATION_LAYERS = {"relu": Relu, "sigmoid": Sigmoid, "tanh": Tanh}
ACTIVATION_FUNCTIONS = {"relu": relu, "sigmoid": sigmoid, "tanh": tanh}


def weight_scale(init, n_in):
    """The standard deviation of the initial weights of a layer with ``n_in`` inputs.

    >>> weight_scale(0.01, 784), weight_scale("xavier", 100), weight_scale("he", 50)
    (0.01, 0.1, 0.2)
    """
    if isinstance(init, str):
        kind = init.lower()
        if kind in ("relu", "he"):
            return math.sqrt(2.0 / n_in)
        if kind in ("sigmoid", "xavier"):
            return math.sqrt(1.0 / n_in)
        raise ValueError("weight_scale: unknown initialisation %r; give a number, "
                         "'xavier' (or 'sigmoid') or 'he' (or 'relu')" % (init,))
    if not init > 0:
        raise ValueError("weight_scale: a fixed std must be > 0, got %r" % (init,))
    return float(init)


MAX_PARAMETERS = 50 * 10 ** 6
"""The most parameters a MultiLayerNet may have: 50 million, about 1.6 GB as
Python floats (``BYTES_PER_PARAMETER``), and training holds about four times
the parameters (their gradients, Adam's two averages).  MNIST's 784-50-100-10
has 45,360; pure Python would train 50 million for days."""

BYTES_PER_PARAMETER = 32
"""A float of a weight matrix in CPython: the float object (24 bytes) and its
slot in the row's list (8 bytes)."""


def parameter_count(sizes, use_batchnorm=False):
    """The number of parameters of a network with layer ``sizes``: a W and a b
    for each pair of neighbouring layers (and gamma, beta per hidden layer).

    >>> parameter_count([784, 50, 100, 10])
    45360
    """
    count = sum(n_in * n_out + n_out for n_in, n_out in zip(sizes, sizes[1:]))
    if use_batchnorm:
        count += 2 * sum(sizes[1:-1])
    return count


def memory_size():
    """This machine's physical memory in bytes, or None where Python cannot
    tell (Windows, MicroPython): the one place purenn asks (``python -m purenn
    train`` checks a training run against it too)."""
    try:
        import os
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ImportError, AttributeError, ValueError, OSError):  # Windows; MicroPython
        return None


def _gigabytes(n_bytes):
    if n_bytes >= 10 ** 100:  # an int too big for a float (a config from a file can say so)
        return "about 10**%d GB" % (len(str(n_bytes)) - 10)
    gb = n_bytes / 1e9
    return "{:,.0f} GB".format(gb) if gb >= 100 else "%.3g GB" % gb


def _check_fits(sizes, use_batchnorm):
    """Refuse, before allocating anything, a network whose parameters alone
    cannot fit: more than ``MAX_PARAMETERS``, or more bytes than this machine has."""
    count = parameter_count(sizes, use_batchnorm)
    need = count * BYTES_PER_PARAMETER
    memory = memory_size()
    if count > MAX_PARAMETERS or (memory is not None and need > memory):
        limit = ("at most %s parameters (%s)" % ("{:,}".format(MAX_PARAMETERS),
                                                 _gigabytes(MAX_PARAMETERS * BYTES_PER_PARAMETER)))
        if memory is not None:
            limit += " and no more than this machine's %s of memory" % _gigabytes(memory)
        raise ValueError("MultiLayerNet: %s has %s parameters, about %s as Python floats; "
                         "purenn builds %s" % ("-".join(str(s) for s in sizes),
                                               "{:,}".format(count), _gigabytes(need), limit))


class MultiLayerNet:
    """A multi-layer perceptron for classification (the book's ``MultiLayerNet``
    and ``MultiLayerNetExtend`` in one).

    ``activation`` is ``"relu"``, ``"sigmoid"`` or ``"tanh"``;
    ``weight_init_std`` a number, ``"he"``/``"relu"`` or ``"xavier"``/``"sigmoid"``
    (by default the one that suits the activation: He for ReLU, Xavier for
    sigmoid and tanh, where the book's default is ``"relu"`` whatever the
    activation; pass ``weight_init_std="he"`` for the book's); ``weight_decay_lambda`` >= 0;
    ``use_dropout`` with ``dropout_ratio``; ``use_batchnorm``.  ``seed`` (an int)
    makes the initial weights and the dropout masks reproducible.
    """

    def __init__(self, input_size, hidden_size_list, output_size, activation="relu",
                 weight_init_std=None, weight_decay_lambda=0.0, use_dropout=False,
                 dropout_ratio=0.5, use_batchnorm=False, seed=0):
        if activation not in ACTIVATION_LAYERS:
            raise ValueError("MultiLayerNet: activation must be one of %s, got %r"
                             % (", ".join(sorted(ACTIVATION_LAYERS)), activation))
        if isinstance(hidden_size_list, int) or not hasattr(hidden_size_list, "__iter__"):
            raise TypeError("MultiLayerNet: hidden_size_list must be a list of layer sizes "
                            "(e.g. [50, 100], or [] for none), got %r" % (hidden_size_list,))
        sizes = [input_size] + list(hidden_size_list) + [output_size]
        for s in sizes:
            if type(s) is not int or s < 1:
                raise ValueError("MultiLayerNet: layer sizes must be positive ints, got %r"
                                 % (sizes,))
        if isinstance(weight_decay_lambda, bool) or not isinstance(weight_decay_lambda, (int, float)) \
                or not 0 <= weight_decay_lambda < float("inf"):
            # ``not 0 <= v`` also refuses NaN, which would make every loss NaN
            raise ValueError("MultiLayerNet: weight_decay_lambda must be a finite number >= 0, "
                             "got %r" % (weight_decay_lambda,))
        _check_fits(sizes, use_batchnorm)
        if weight_init_std is None:
            weight_init_std = "he" if activation == "relu" else "xavier"
        self.config = {
            "input_size": input_size, "hidden_size_list": list(hidden_size_list),
            "output_size": output_size, "activation": activation,
            "weight_init_std": weight_init_std, "weight_decay_lambda": weight_decay_lambda,
            "use_dropout": use_dropout, "dropout_ratio": dropout_ratio,
            "use_batchnorm": use_batchnorm, "seed": seed,
        }
        self.sizes = sizes
        self.weight_decay_lambda = weight_decay_lambda
        gen = _rng.Random(seed)
        self.params = {}
        for i in range(1, len(sizes)):
            std = weight_scale(weight_init_std, sizes[i - 1])
            self.params["W%d" % i] = Matrix.randn(sizes[i - 1], sizes[i], std=std, seed=gen)
            self.params["b%d" % i] = Matrix.zeros(1, sizes[i])

        # the layers, in order, named as the book's MultiLayerNetExtend names
        # them; each hidden one is Affine [BatchNorm] activation [Dropout]
        self.input_size, self.output_size = input_size, output_size
        self.hidden_size_list = list(hidden_size_list)
        self.hidden_layer_num = len(self.hidden_size_list)
        self.use_dropout, self.use_batchnorm = use_dropout, use_batchnorm
        drop_gen = _rng.Random(seed + 1)  # the masks get a stream of their own
        self.layers = OrderedDict()
        for i in range(1, len(sizes) - 1):
            self.layers["Affine%d" % i] = Affine(self.params, "W%d" % i, "b%d" % i)
            if use_batchnorm:
                self.params["gamma%d" % i] = Matrix.ones(1, sizes[i])
                self.params["beta%d" % i] = Matrix.zeros(1, sizes[i])
                self.layers["BatchNorm%d" % i] = BatchNormalization(
                    self.params, "gamma%d" % i, "beta%d" % i)
            self.layers[self._activation_name(activation, i)] = ACTIVATION_LAYERS[activation]()
            if use_dropout:
                self.layers["Dropout%d" % i] = Dropout(dropout_ratio, seed=drop_gen)
        last = len(sizes) - 1
        self.layers["Affine%d" % last] = Affine(self.params, "W%d" % last, "b%d" % last)
        self.last_layer = SoftmaxWithLoss()
        self.notes = {}

    @staticmethod
    def _activation_name(activation, i):
        """The book's key of the i-th activation layer in ``layers``."""
        return "Activation_function%d" % i

    def __repr__(self):
        return "MultiLayerNet(%s, %s)" % ("-".join(str(s) for s in self.sizes),
                                          self.config["activation"])

    # --------------------------------------------------------------- forward

    def predict(self, x, train_flg=False):
        """The scores (N, output_size) for a batch x (N, input_size).

        ``train_flg`` switches Dropout and BatchNormalization to training mode.
        """
        x = as_matrix(x, "MultiLayerNet.predict: x")
        if x.shape[1] != self.sizes[0]:
            raise ShapeError("MultiLayerNet.predict: x %s for a network with %d inputs: "
                             "x must have %d columns" % (format_shape(x.shape), self.sizes[0],
                                                         self.sizes[0]))
        for layer in self.layers.values():
            if isinstance(layer, (Dropout, BatchNormalization)):
                x = layer.forward(x, train_flg)
            else:
                x = layer.forward(x)
        return x

    def layer_steps(self):
        """The network as fully connected steps ``h(x @ W + b)``, a list of
        ``purenn.network.Layer`` (the network protocol, shared with ``Network``):
        each Affine with the activation after it, the last with the identity
        (``predict`` gives scores, before softmax).  Batch normalization and
        dropout are no such step: a ``TypeError`` says so.

        >>> steps = MultiLayerNet(4, [5], 3, activation="tanh").layer_steps()
        >>> [(s.W.shape, s.activation.__name__) for s in steps]
        [((4, 5), 'tanh'), ((5, 3), 'identity_function')]
        """
        if self.use_batchnorm or self.use_dropout:
            raise TypeError("%r has batch normalization or dropout: its steps are not all "
                            "h(x @ W + b), which is what explain writes out" % (self,))
        function = ACTIVATION_FUNCTIONS[self.config["activation"]]
        n = len(self.sizes) - 1
        return [Layer(self.params["W%d" % i], self.params["b%d" % i],
                      function if i < n else identity_function) for i in range(1, n + 1)]

    def _decay(self):
        lam = self.weight_decay_lambda
        if not lam:
            return 0.0
        total = 0.0
        for i in range(1, len(self.sizes)):
            total += (self.params["W%d" % i] ** 2).sum()
        return 0.5 * lam * total

    def loss(self, x, t, train_flg=False):
        """The mean cross-entropy of softmax(predict(x)) against t (labels or
        one-hot), plus the weight decay term."""
        y = self.predict(x, train_flg)
        return self.last_layer.forward(y, t) + self._decay()

    def accuracy(self, x, t, batch_size=100):
        """The share of rows of x whose highest score is at the true class (in
        batches; ``purenn.labels``, as ``Network.accuracy``).  A row whose
        scores hold a NaN counts as wrong: it is no prediction at all.
        """
        x = as_matrix(x, "MultiLayerNet.accuracy: x")
        labels = as_labels(t, self.output_size, "MultiLayerNet.accuracy", n=x.shape[0])
        return accuracy(predict_labels(self, x, batch_size), labels)

    # -------------------------------------------------------------- gradients

    def gradient(self, x, t):
        """Every dL/dparam by backpropagation: forward (training mode), then
        ``backward`` through the layers in reverse order.  Returns a dict with
        the keys of ``params``."""
        with no_cycle_collection():  # a step makes ~10**4 lists, no cycles to speak of
            self.loss(x, t, train_flg=True)
            dout = self.last_layer.backward(1)
            layers = list(self.layers.values())
            for layer in reversed(layers[1:]):
                dout = layer.backward(dout)
            layers[0].backward(dout, need_dx=False)  # the input itself is not learnt
        grads = {}
        for layer in layers:
            grads.update(getattr(layer, "grads", {}))
        lam = self.weight_decay_lambda
        if lam:
            for i in range(1, len(self.sizes)):
                key = "W%d" % i
                grads[key] = grads[key] + lam * self.params[key]
        return grads

    def numerical_gradient(self, x, t, h=H):
        """Every dL/dparam by central differences with step ``h`` (slow: two
        losses per parameter).  Uses the training-mode forward pass, as ``gradient`` does;
        with dropout the masks would change between calls, so that is refused."""
        if self.config["use_dropout"]:
            raise ValueError("MultiLayerNet.numerical_gradient: dropout draws new masks "
                             "at every forward pass; check gradients without dropout")
        if self.config["use_batchnorm"]:
            # training-mode batchnorm also moves its running averages; keep them
            saved = [(layer.running_mean, layer.running_var) for layer in self._batchnorms()]
        grads = numerical_gradient_params(lambda: self.loss(x, t, train_flg=True), self.params, h)
        if self.config["use_batchnorm"]:
            for layer, (mean, var) in zip(self._batchnorms(), saved):
                layer.running_mean, layer.running_var = mean, var
        return grads


    # ------------------------------------------------------------ save, load

    def save(self, path, **notes):
        """Write the network to ``path`` in purenn's weights format
        (``purenn.weights``): the parameters, batchnorm's running averages
        (as ``running_mean1``, ``running_var1``, ...), and in ``meta`` the
        architecture (``config``) plus any ``notes`` (JSON values)."""
        from purenn.weights import save_params
        params = dict(self.params)
        for i, layer in enumerate(self._batchnorms(), 1):
            if layer.running_mean is not None:
                params["running_mean%d" % i] = layer.running_mean
                params["running_var%d" % i] = layer.running_var
        meta = {"class": "MultiLayerNet", "config": self.config}
        if not (self.config["use_dropout"] or self.config["use_batchnorm"]):
            # then it is a plain stack of layers that purenn.network (and
            # ``python -m purenn mnist``) can run too: say which activations
            meta["activations"] = [self.config["activation"]] * (len(self.sizes) - 2) + ["softmax"]
        meta.update(notes)
        save_params(path, params, meta)

    @classmethod
    def load(cls, path):
        """A network read from a file written by ``save``: the same architecture
        and bit-for-bit the same parameters."""
        from purenn.weights import load_params
        params, meta = load_params(path)
        config = meta.get("config")
        if meta.get("class") != "MultiLayerNet" or not isinstance(config, dict):
            raise DataError("%s: not a saved MultiLayerNet (meta has no MultiLayerNet config)"
                            % path)
        net = cls.__new__(cls)
        try:
            MultiLayerNet.__init__(net, **config)
        except (TypeError, ValueError, OverflowError) as e:   # a config that makes no network
            raise DataError("%s: the saved config is no MultiLayerNet: %s" % (path, e))
        for i, layer in enumerate(net._batchnorms(), 1):
            mean, var = params.pop("running_mean%d" % i, None), params.pop("running_var%d" % i, None)
            if mean is not None or var is not None:
                layer.running_mean, layer.running_var = _running_stats(
                    path, i, mean, var, net.hidden_size_list[i - 1])
        if sorted(params) != sorted(net.params):
            raise DataError("%s: parameters %s do not fit the saved architecture (%s)"
                            % (path, sorted(params), sorted(net.params)))
        for key, value in params.items():
            if value.shape != net.params[key].shape:
                raise ShapeError("MultiLayerNet.load: %s: %r is %s, the architecture needs %s"
                                 % (path, key, format_shape(value.shape), format_shape(net.params[key].shape)))
            bad = _not_finite(value)
            if bad:  # nan or inf: every prediction would be nan, counted silently as wrong
                raise DataError("%s: %s holds %r; a saved network's parameters are finite"
                                % (path, key, bad[0]))
            net.params[key] = value
        net.notes = {k: v for k, v in meta.items()
                     if k not in ("class", "config", "activations")}
        return net

    def _batchnorms(self):
        return [layer for layer in self.layers.values() if isinstance(layer, BatchNormalization)]


def _not_finite(m):
    """The elements of ``m`` that are nan or infinite (a list, empty if none)."""
    return [v for v in m.flatten().tolist()[0] if not -_INF < v < _INF]


def _running_stats(path, i, mean, var, width):
    """BatchNormalization ``i``'s running averages from a file, checked: both
    there, each a (1, width) row of finite numbers, the variance >= 0 (else a
    DataError now, not a traceback in the middle of inference)."""
    for name, m in (("running_mean%d" % i, mean), ("running_var%d" % i, var)):
        if m is None:
            raise DataError("%s: running_mean%d and running_var%d go together; %s is missing"
                            % (path, i, i, name))
        if m.shape != (1, width):
            raise DataError("%s: %s is %s; BatchNormalization %d needs one number per neuron, "
                            "(1, %d)" % (path, name, format_shape(m.shape), i, width))
        bad = _not_finite(m)
        if bad:
            raise DataError("%s: %s holds %r; running averages must be finite"
                            % (path, name, bad[0]))
    if var.min() < 0:
        raise DataError("%s: running_var%d holds %r; a variance is >= 0"
                        % (path, i, var.min()))
    return mean, var


_INF = float("inf")


class TwoLayerNet(MultiLayerNet):
    """The book's chapter-5 network: Affine -> Relu -> Affine -> SoftmaxWithLoss,
    weights Gaussian with std ``weight_init_std`` (0.01).  Its layers are named
    as the book's ``ch05/two_layer_net.py`` names them, and ``lastLayer`` is
    the book's name of ``last_layer``.

    >>> net = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    >>> net.params["W1"].shape, net.params["W2"].shape
    ((784, 50), (50, 10))
    >>> list(net.layers), net.layers["Affine1"].W is net.params["W1"]
    (['Affine1', 'Relu1', 'Affine2'], True)
    >>> net.lastLayer is net.last_layer
    True
    """

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01, seed=0):
        MultiLayerNet.__init__(self, input_size, [hidden_size], output_size,
                               activation="relu", weight_init_std=weight_init_std, seed=seed)

    @staticmethod
    def _activation_name(activation, i):
        return "Relu%d" % i

    @property
    def lastLayer(self):
        """The book's name (``ch05/two_layer_net.py``) of ``last_layer``."""
        return self.last_layer

