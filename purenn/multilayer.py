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
                                to check ``gradient``)
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
>>> max_abs_difference(grads, net.numerical_gradient(x, t)) < 1e-7
True
"""
import math
from collections import OrderedDict

from purenn.errors import ShapeError
from purenn.layers import (Affine, Relu, Sigmoid, Tanh, SoftmaxWithLoss, Dropout,
                           BatchNormalization)
from purenn.losses import _truth
from purenn.gradients import H, numerical_gradient_params
from purenn.matrix import Matrix, as_matrix, _fmt
from purenn import rng as _rng

ACTIVATION_LAYERS = {"relu": Relu, "sigmoid": Sigmoid, "tanh": Tanh}


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


class MultiLayerNet:
    """A multi-layer perceptron for classification (the book's ``MultiLayerNet``
    and ``MultiLayerNetExtend`` in one).

    ``activation`` is ``"relu"``, ``"sigmoid"`` or ``"tanh"``;
    ``weight_init_std`` a number, ``"he"``/``"relu"`` or ``"xavier"``/``"sigmoid"``
    (by default the one that suits the activation); ``weight_decay_lambda`` >= 0;
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
                             "x must have %d columns" % (_fmt(x.shape), self.sizes[0],
                                                         self.sizes[0]))
        for layer in self.layers.values():
            if isinstance(layer, (Dropout, BatchNormalization)):
                x = layer.forward(x, train_flg)
            else:
                x = layer.forward(x)
        return x

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
        """The share of rows of x whose highest score is at the true class (in batches).

        A row whose scores hold a NaN counts as wrong: it is no prediction at all.
        """
        if type(batch_size) is not int or batch_size < 1:
            raise ValueError("MultiLayerNet.accuracy: batch_size must be a positive int, got %r"
                             % (batch_size,))
        x = as_matrix(x, "MultiLayerNet.accuracy: x")
        labels, onehot = _truth(t, (x.shape[0], self.sizes[-1]), "MultiLayerNet.accuracy")
        if labels is None:
            labels = Matrix._wrap(onehot).argmax(axis=1)
        correct = 0
        for start in range(0, x.shape[0], batch_size):
            scores = self.predict(x[start:start + batch_size])
            predicted = scores.argmax(axis=1)
            correct += sum(1 for p, label, row in zip(predicted, labels[start:start + batch_size],
                                                      scores._rows)
                           if p == label and not any(v != v for v in row))
        return correct / x.shape[0]

    # -------------------------------------------------------------- gradients

    def gradient(self, x, t):
        """Every dL/dparam by backpropagation: forward (training mode), then
        ``backward`` through the layers in reverse order.  Returns a dict with
        the keys of ``params``."""
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
        from purenn.errors import DataError
        params, meta = load_params(path)
        config = meta.get("config")
        if meta.get("class") != "MultiLayerNet" or not isinstance(config, dict):
            raise DataError("%s: not a saved MultiLayerNet (meta has no MultiLayerNet config)"
                            % path)
        net = cls.__new__(cls)
        MultiLayerNet.__init__(net, **config)
        for i, layer in enumerate(net._batchnorms(), 1):
            if "running_mean%d" % i in params:
                layer.running_mean = params.pop("running_mean%d" % i)
                layer.running_var = params.pop("running_var%d" % i)
        if sorted(params) != sorted(net.params):
            raise DataError("%s: parameters %s do not fit the saved architecture (%s)"
                            % (path, sorted(params), sorted(net.params)))
        for key, value in params.items():
            if value.shape != net.params[key].shape:
                raise ShapeError("MultiLayerNet.load: %s: %r is %s, the architecture needs %s"
                                 % (path, key, _fmt(value.shape), _fmt(net.params[key].shape)))
            net.params[key] = value
        net.notes = {k: v for k, v in meta.items()
                     if k not in ("class", "config", "activations")}
        return net

    def _batchnorms(self):
        return [layer for layer in self.layers.values() if isinstance(layer, BatchNormalization)]


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


def max_abs_difference(grads_a, grads_b):
    """The largest ``|a - b|`` over every element of every matrix in two dicts of
    gradients with the same keys: the gradient check's number."""
    worst = 0.0
    for key in grads_a:
        a, b = grads_a[key], grads_b[key]
        if a.shape != b.shape:
            raise ShapeError("max_abs_difference: %r is %s in one and %s in the other"
                             % (key, _fmt(a.shape), _fmt(b.shape)))
        for ra, rb in zip(a._rows, b._rows):
            for u, v in zip(ra, rb):
                d = abs(u - v)
                if d > worst or d != d:
                    worst = d
    return worst


KINK_MARGIN = 100 * H  # how far every ReLU input must stay from its kink at 0


def relu_inputs(net, x):
    """Every value that enters a ReLU layer of ``net`` on the batch ``x``
    (training mode, as ``gradient`` runs), as one flat list."""
    values = []
    for layer in net.layers.values():
        if isinstance(layer, Relu):
            values.extend(v for row in x._rows for v in row)
        if isinstance(layer, BatchNormalization):
            saved = (layer.running_mean, layer.running_var)
            x = layer.forward(x, True)
            layer.running_mean, layer.running_var = saved
        elif isinstance(layer, Dropout):
            continue
        else:
            x = layer.forward(x)
    return values


def gradient_check(activation="relu", use_batchnorm=False, weight_decay_lambda=0.0,
                   sizes=(6, [5, 4], 3), batch=4, seed=0, h=H, tries=100,
                   extrapolate=True):
    """Backprop against numerical gradients (step ``h``) on a small random
    network: ``{param: max |backprop - numerical|}``.

    ReLU has a kink at 0: if an input of a ReLU lies within ``h`` of 0, the
    central difference ``(L(p + h) - L(p - h)) / 2h`` straddles the kink and
    measures the mean of two different slopes, a "failure" that is no bug of
    backprop.  So the batch is redrawn (up to ``tries`` times) until every ReLU
    input is at least ``KINK_MARGIN`` (100 h) away from 0; ``ValueError`` if no
    such batch is found.

    The central difference itself is off by about ``h**2 / 6`` times the third
    derivative of the loss.  That is tiny for most networks, but batch
    normalization over a batch of 4 divides by a standard deviation of 4
    numbers, which can be small: then the third derivative is large and plain
    central differences miss by up to 1.5e-4 (seed 76, relu + batchnorm),
    shrinking 100-fold for each 10-fold smaller h.  So by default
    (``extrapolate``) the numerical gradient is Richardson-extrapolated,
    ``(4 D(h/2) - D(h)) / 3``, which cancels the ``h**2`` term;
    ``extrapolate=False`` gives the plain ``D(h)``.

    >>> worst = gradient_check("sigmoid")
    >>> sorted(worst) == ["W1", "W2", "W3", "b1", "b2", "b3"], max(worst.values()) < 1e-7
    (True, True)
    """
    gen = _rng.Random(seed + 100)
    net = MultiLayerNet(sizes[0], sizes[1], sizes[2], activation=activation,
                        use_batchnorm=use_batchnorm, weight_decay_lambda=weight_decay_lambda,
                        seed=seed)
    for _ in range(tries):
        x = Matrix.uniform(batch, sizes[0], seed=gen)  # inputs in [0, 1), like pixels
        t = [gen.randrange(sizes[2]) for _ in range(batch)]
        if all(abs(v) >= KINK_MARGIN for v in relu_inputs(net, x)):
            break
    else:
        raise ValueError("gradient_check: %d batches all put a ReLU input within %g of its "
                         "kink at 0; the central difference cannot check them"
                         % (tries, KINK_MARGIN))
    grad_backprop = net.gradient(x, t)
    grad_numerical = net.numerical_gradient(x, t, h)
    if extrapolate:
        # Richardson: the central difference is g + c h^2 + O(h^4), so
        # (4 D(h/2) - D(h)) / 3 cancels the h^2 term
        half = net.numerical_gradient(x, t, h / 2)
        grad_numerical = {key: (4 * half[key] - grad_numerical[key]) / 3 for key in half}
    return {key: max_abs_difference({key: grad_backprop[key]}, {key: grad_numerical[key]})
            for key in net.params}
