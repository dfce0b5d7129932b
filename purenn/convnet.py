"""Convolutional networks (chapters 7 and 8): the book's SimpleConvNet and DeepConvNet.

=================================  ================================================
``SimpleConvNet(...)``             conv - relu - pool - affine - relu - affine -
                                   softmax (the book's ``ch07/simple_convnet.py``)
``DeepConvNet(...)``               six 3x3 convolutions, three poolings, affine -
                                   relu - dropout - affine - dropout - softmax
                                   (``ch08/deep_convnet.py``)
``net.predict(x)``                 the scores (N, 10) of a batch of images
``net.loss(x, t)``                 mean cross-entropy of softmax(predict(x))
``net.accuracy(x, t)``             share of images whose top score is the label
``net.predictions(x)``             the predicted class of each image
``net.gradient(x, t)``             every dL/dparam by backpropagation
``net.numerical_gradient(x, t)``   the same by central differences (slow)
``net.save(path)``                 purenn's weights format (``purenn.weights``)
``load_network(path)``             a saved network, or one of the book's pickles
``BOOK_FILES``                     the book's four weight files by sha256, with
                                   what each scores on the 10,000 test images
``identify_book_file(path)``       which of the four a file is (or None)
``SHIPPED``                        the SimpleConvNet purenn trained and ships
``gradient_check(net, x, t)``      backprop against numerical gradients
=================================  ================================================

Images go in as the rows of a Matrix (N, C*H*W), channel by channel, row by
row (``purenn.convolution`` says why): MNIST's ``load_mnist(kind="test")`` gives exactly
that, (N, 784) = (N, 1*28*28).

>>> net = SimpleConvNet(input_dim=(1, 10, 10), hidden_size=10,
...                     conv_param={"filter_num": 3, "filter_size": 3, "pad": 0, "stride": 1})
>>> [name + " " + "x".join(str(v) for v in layer.output_shape)
...  for name, layer in net.layers.items() if hasattr(layer, "output_shape")]
['Conv1 3x8x8', 'Pool1 3x4x4']
>>> net.params["W1"].shape, net.params["W2"].shape     # W1: 3 filters of 1x3x3, one a row
((3, 9), (48, 10))
>>> x = Matrix.uniform(2, 100, seed=1)
>>> net.predict(x).shape
(2, 10)
"""
import hashlib
import os

from purenn.convolution import Convolution, Pooling
from purenn.kernels import no_cycle_collection
from purenn.errors import DataError, ShapeError
from purenn.gradients import numerical_gradient_params
from purenn.layers import Affine, Dropout, Relu, SoftmaxWithLoss
from purenn.labels import accuracy, as_labels, predict_labels
from purenn.matrix import Matrix, as_matrix
from purenn.gradient_check import max_abs_difference
from purenn.multilayer import weight_scale
from purenn import rng as _rng


# ------------------------------------------------------ the book's files

BOOK_FILES = {
    "290ab40c1b1218b392cdc155b633a5df642d829453702fa421ce5f3c6c55f779": {
        "file": "simple_convnet_params_2016.pkl", "network": "SimpleConvNet", "year": 2016,
        "correct": 9890,
        "about": "ch07/params.pkl as first published (2016-07-07), which gives the "
                 "98.90 % the book prints"},
    "a5da99cffddafcfe5e686e79dc0ec3a7cc993b58e64f483b50960511e5e85344": {
        "file": "simple_convnet_params_2022.pkl", "network": "SimpleConvNet", "year": 2022,
        "correct": 9600,
        "about": "ch07/params.pkl as the repository has it since 2022-09-14; it gives "
                 "96.00 %, while the book's printed 98.90 % comes from the 2016 file"},
    "8c81d1d6ddedd08c8277c957f3af30a91e455a1d65474ec2b5a0e3527b7422cc": {
        "file": "deep_convnet_params_2016.pkl", "network": "DeepConvNet", "year": 2016,
        "correct": 9935,
        "about": "ch08/deep_convnet_params.pkl as first published (2016), which gives "
                 "the 99.35 % the book prints"},
    "4b7a27baee2037605afa94d3f514ca9fa9cc96623739328609765073cfd5f802": {
        "file": "deep_convnet_params_2022.pkl", "network": "DeepConvNet", "year": 2022,
        "correct": 9797,
        "about": "ch08/deep_convnet_params.pkl as the repository has it since 2022; it "
                 "gives 97.97 %, while the book's printed 99.35 % comes from the 2016 file"},
}
"""sha256 of the file -> what it is; ``correct`` is how many of the 10,000 MNIST
test images it classifies right, with the book's own code and with purenn."""

MAX_FILE_BYTES = 64 << 20  # the book's files are 1 and 3.5 MB

SHIPPED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data",
                       "mnist-simple-convnet.json.gz")
"""The SimpleConvNet purenn trained itself on MNIST (its meta says how)."""


def identify_book_file(path):
    """``(sha256, info)`` for the file at ``path``: ``info`` is its entry of
    ``BOOK_FILES`` (a dict), or None for a file that is none of the four."""
    from purenn.files import read_limited
    digest = hashlib.sha256(read_limited(path, MAX_FILE_BYTES, "weights file")).hexdigest()
    return digest, BOOK_FILES.get(digest)


# ------------------------------------------------------- the common part

class ConvNet:
    """What SimpleConvNet and DeepConvNet share: the layers run in order, the
    loss, the accuracy, backpropagation, saving.  Subclasses build
    ``params``, ``layers`` (the book keeps a dict in one and a list in the
    other) and ``config`` (their keyword arguments)."""

    input_dim = None  # (C, H, W), set by the subclass
    _loading = False  # True while load_network builds a network whose weights it will set

    def _randn(self, rows, cols, seed, std):
        """The initial weights: Gaussian; zeros when the weights are about to be
        loaded (drawing 400,000 Gaussians in pure Python takes a second)."""
        if self._loading:
            return Matrix.zeros(rows, cols)
        return Matrix.randn(rows, cols, seed=seed, std=std)

    def _layer_list(self):
        return list(self.layers.values()) if isinstance(self.layers, dict) else self.layers

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, "x".join(str(v) for v in self.input_dim))

    # --------------------------------------------------------------- forward

    def predict(self, x, train_flg=False):
        """The scores (N, output_size), before softmax, for images x (N, C*H*W).

        ``train_flg`` switches Dropout to training mode (random masks)."""
        x = as_matrix(x, "%s.predict: x" % type(self).__name__)
        C, H, W = self.input_dim
        if x.shape[1] != C * H * W:
            raise ShapeError("%s.predict: x is (%d, %d); the network takes images of "
                             "%dx%dx%d = %d numbers a row"
                             % (type(self).__name__, x.shape[0], x.shape[1], C, H, W,
                                C * H * W))
        with no_cycle_collection():  # (see purenn.kernels)
            for layer in self._layer_list():
                if isinstance(layer, Dropout):
                    x = layer.forward(x, train_flg)
                else:
                    x = layer.forward(x)
        return x

    def loss(self, x, t, train_flg=False):
        """The mean cross-entropy of softmax(predict(x)) against t (labels or one-hot)."""
        return self.last_layer.forward(self.predict(x, train_flg), t)

    def predictions(self, x, batch_size=100):
        """The predicted class (the top score) of each row of x, in batches; None
        for a row whose scores hold a NaN: that is no prediction at all."""
        if type(batch_size) is not int or batch_size < 1:
            raise ValueError("%s: batch_size must be a positive int, got %r"
                             % (type(self).__name__, batch_size))
        x = as_matrix(x, "%s.predictions: x" % type(self).__name__)
        return predict_labels(self, x, batch_size)

    def accuracy(self, x, t, batch_size=100):
        """The share of rows of x whose top score is the label (in batches of
        ``batch_size``).  Every row counts; the book's loop skips a last
        partial batch (``range(int(N / batch_size))``), which for the
        10,000 test images changes nothing."""
        x = as_matrix(x, "%s.accuracy: x" % type(self).__name__)
        classes = self.params[self.output_key].shape[1]
        labels = as_labels(t, classes, "%s.accuracy" % type(self).__name__, n=x.shape[0])
        return accuracy(self.predictions(x, batch_size), labels)

    # -------------------------------------------------------------- gradients

    def gradient(self, x, t):
        """Every dL/dparam by backpropagation: the forward pass in training mode,
        then ``backward`` through the layers in reverse; a dict with the keys of
        ``params``.  The first convolution computes no dx (nobody needs the
        gradient of the images)."""
        self.loss(x, t, train_flg=True)
        with no_cycle_collection():
            dout = self.last_layer.backward(1)
            layers = self._layer_list()
            for layer in reversed(layers[1:]):
                dout = layer.backward(dout)
            layers[0].backward(dout, need_dx=False)
        grads = {}
        for layer in layers:
            grads.update(getattr(layer, "grads", {}))
        return dict((key, grads[key]) for key in self.params)

    def numerical_gradient(self, x, t, h=1e-4):
        """Every dL/dparam by central differences (two losses per parameter: slow).

        With dropout the loss would draw new masks at every call; so the masks
        of the last training forward pass (``gradient``) are kept: the
        numerical gradient of the same function that ``gradient``
        differentiated."""
        return numerical_gradient_params(lambda: self._frozen_loss(x, t), self.params, h)

    def _frozen_loss(self, x, t):
        """The training-mode loss, with each Dropout layer's last mask reused."""
        x = as_matrix(x, "numerical_gradient: x")
        for layer in self._layer_list():
            if isinstance(layer, Dropout):
                if layer.mask is None:
                    raise ValueError("numerical_gradient: the Dropout masks are drawn by a "
                                     "training forward pass; call gradient(x, t) first")
                x = x * Matrix(layer.mask)
            else:
                x = layer.forward(x)
        return self.last_layer.forward(x, t)

    # ------------------------------------------------------------ save, load

    def save(self, path, digits=None, **notes):
        """Write the network to ``path`` in purenn's weights format: the
        parameters, and in ``meta`` the class, its ``config`` and any
        ``notes`` (JSON values, e.g. how it was trained).

        ``digits``: each weight rounded to that many significant digits (7 is
        float32's precision and makes the SimpleConvNet's file half as big);
        by default every float is written exactly."""
        from purenn.weights import save_params
        meta = {"class": type(self).__name__, "config": self.config}
        meta.update(notes)
        params = self.params
        if digits is not None:
            if type(digits) is not int or not 1 <= digits <= 17:
                raise ValueError("save: digits must be an int from 1 to 17, got %r" % (digits,))
            meta["digits"] = digits
            params = dict((key, m.map(lambda v: float("%.*g" % (digits, v))))
                          for key, m in params.items())
        save_params(path, params, meta)

    def _set_params(self, params, source):
        """Take the matrices of ``params`` (checked: the same names and shapes)."""
        if sorted(params) != sorted(self.params):
            raise DataError("%s: parameters %s; a %s with this architecture has %s"
                            % (source, ", ".join(sorted(params)), type(self).__name__,
                               ", ".join(sorted(self.params))))
        for key in self.params:
            value = params[key]
            if not isinstance(value, Matrix) or value.shape != self.params[key].shape:
                raise DataError("%s: %r is %s, the %s needs %s"
                                % (source, key, getattr(value, "shape", type(value).__name__),
                                   type(self).__name__, self.params[key].shape))
        for key in self.params:
            self.params[key] = params[key]


def _conv_param(p, what):
    try:
        return p["filter_num"], p["filter_size"], p["pad"], p["stride"]
    except (KeyError, TypeError):
        raise ValueError("%s: conv_param must be a dict with filter_num, filter_size, pad "
                         "and stride, got %r" % (what, p))


def _input_dim(input_dim, what):
    if not isinstance(input_dim, (tuple, list)) or len(input_dim) != 3 \
            or any(type(v) is not int or v < 1 for v in input_dim):
        raise ValueError("%s: input_dim must be (C, H, W), e.g. (1, 28, 28), got %r"
                         % (what, input_dim))
    return tuple(input_dim)


# --------------------------------------------------------- SimpleConvNet

class SimpleConvNet(ConvNet):
    """The book's simple ConvNet (section 7.5)::

        x (N, 1*28*28) -> Conv1 -> Relu1 -> Pool1 -> Affine1 -> Relu2 -> Affine2 -> SoftmaxWithLoss
                          W1 (30, 1*5*5)    2x2, stride 2   W2 (30*12*12, 100)   W3 (100, 10)

    The book's arguments and defaults: ``input_dim`` (C, H, W), ``conv_param``
    (``filter_num`` 30, ``filter_size`` 5, ``pad`` 0, ``stride`` 1),
    ``hidden_size`` 100, ``output_size`` 10, ``weight_init_std`` 0.01 (or
    "he" / "xavier", as ``purenn.multilayer.weight_scale``).  ``seed`` makes
    the initial weights reproducible (purenn's own generator).

    ``layers`` is the book's ordered dict: Conv1, Relu1, Pool1, Affine1,
    Relu2, Affine2; ``last_layer`` the SoftmaxWithLoss.
    """

    output_key = "W3"

    def __init__(self, input_dim=(1, 28, 28),
                 conv_param={"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1},
                 hidden_size=100, output_size=10, weight_init_std=0.01, seed=0):
        what = "SimpleConvNet"
        self.input_dim = C, H, W = _input_dim(input_dim, what)
        filter_num, filter_size, filter_pad, filter_stride = _conv_param(conv_param, what)
        for v, name in ((hidden_size, "hidden_size"), (output_size, "output_size")):
            if type(v) is not int or v < 1:
                raise ValueError("%s: %s must be a positive int, got %r" % (what, name, v))
        self.config = {"input_dim": list(input_dim),
                       "conv_param": {"filter_num": filter_num, "filter_size": filter_size,
                                      "pad": filter_pad, "stride": filter_stride},
                       "hidden_size": hidden_size, "output_size": output_size,
                       "weight_init_std": weight_init_std, "seed": seed}
        gen = _rng.Random(seed)

        # the layers' geometry first: W2 takes what Pool1 gives
        self.params = {}
        conv_in = C * filter_size * filter_size
        self.params["W1"] = self._randn(filter_num, conv_in, seed=gen,
                                         std=weight_scale(weight_init_std, conv_in))
        self.params["b1"] = Matrix.zeros(1, filter_num)
        conv = Convolution(self.params, "W1", "b1", filter_stride, filter_pad,
                           input_shape=self.input_dim, filter_size=filter_size)
        pool = Pooling(pool_h=2, pool_w=2, stride=2, input_shape=conv.output_shape)
        pool_output_size = pool.output_shape[0] * pool.output_shape[1] * pool.output_shape[2]
        self.params["W2"] = self._randn(pool_output_size, hidden_size, seed=gen,
                                         std=weight_scale(weight_init_std, pool_output_size))
        self.params["b2"] = Matrix.zeros(1, hidden_size)
        self.params["W3"] = self._randn(hidden_size, output_size, seed=gen,
                                         std=weight_scale(weight_init_std, hidden_size))
        self.params["b3"] = Matrix.zeros(1, output_size)

        self.layers = {}
        self.layers["Conv1"] = conv
        self.layers["Relu1"] = Relu()
        self.layers["Pool1"] = pool
        self.layers["Affine1"] = Affine(self.params, "W2", "b2")
        self.layers["Relu2"] = Relu()
        self.layers["Affine2"] = Affine(self.params, "W3", "b3")
        self.last_layer = SoftmaxWithLoss()
        self.notes = {}


# ----------------------------------------------------------- DeepConvNet

DEEP_CONV_PARAMS = (
    {"filter_num": 16, "filter_size": 3, "pad": 1, "stride": 1},
    {"filter_num": 16, "filter_size": 3, "pad": 1, "stride": 1},
    {"filter_num": 32, "filter_size": 3, "pad": 1, "stride": 1},
    {"filter_num": 32, "filter_size": 3, "pad": 2, "stride": 1},
    {"filter_num": 64, "filter_size": 3, "pad": 1, "stride": 1},
    {"filter_num": 64, "filter_size": 3, "pad": 1, "stride": 1},
)
"""The book's ``conv_param_1`` ... ``conv_param_6`` (note the pad of 2 in the fourth)."""


class DeepConvNet(ConvNet):
    """The book's deep ConvNet (section 8.1), over 99 % on MNIST::

        conv - relu - conv - relu - pool -
        conv - relu - conv - relu - pool -
        conv - relu - conv - relu - pool -
        affine - relu - dropout - affine - dropout - softmax

    3x3 filters 16, 16, 32, 32, 64, 64 (pads 1, 1, 1, 2, 1, 1), 2x2 poolings of
    stride 2: 28x28 -> 14x14 -> 16x16 (the pad of 2) -> 8x8 -> 4x4, so W7 is
    (64*4*4, 50).  Weights start with He's scale ``sqrt(2 / n_in)``.

    The book's arguments: ``input_dim``, ``conv_param_1`` ... ``conv_param_6``,
    ``hidden_size`` 50, ``output_size`` 10; purenn adds ``dropout_ratio``
    (the book's 0.5) and ``seed``.  ``layers`` is the book's list; the
    parameterised layers are at indices 0, 2, 5, 7, 10, 12, 15, 18.

    The book's ``loss`` always runs in training mode (dropout on); here, as
    for every purenn network, ``loss(x, t)`` is the test-mode loss and
    ``loss(x, t, train_flg=True)`` the training one (``gradient`` uses it).
    """

    output_key = "W8"
    PARAM_LAYERS = (0, 2, 5, 7, 10, 12, 15, 18)

    def __init__(self, input_dim=(1, 28, 28), conv_param_1=DEEP_CONV_PARAMS[0],
                 conv_param_2=DEEP_CONV_PARAMS[1], conv_param_3=DEEP_CONV_PARAMS[2],
                 conv_param_4=DEEP_CONV_PARAMS[3], conv_param_5=DEEP_CONV_PARAMS[4],
                 conv_param_6=DEEP_CONV_PARAMS[5], hidden_size=50, output_size=10,
                 dropout_ratio=0.5, seed=0):
        what = "DeepConvNet"
        self.input_dim = _input_dim(input_dim, what)
        conv_params = [conv_param_1, conv_param_2, conv_param_3, conv_param_4, conv_param_5,
                       conv_param_6]
        specs = [_conv_param(p, what) for p in conv_params]
        self.config = {"input_dim": list(input_dim),
                       "hidden_size": hidden_size, "output_size": output_size,
                       "dropout_ratio": dropout_ratio, "seed": seed}
        for i, (fn, fs, pad, stride) in enumerate(specs, 1):
            self.config["conv_param_%d" % i] = {"filter_num": fn, "filter_size": fs,
                                                "pad": pad, "stride": stride}
        gen = _rng.Random(seed)
        drop_gen = _rng.Random(seed + 1)  # the masks get a stream of their own

        self.params = {}
        self.layers = []
        shape = self.input_dim
        for i, (fn, fs, pad, stride) in enumerate(specs, 1):
            n_in = shape[0] * fs * fs  # connections of one neuron to the layer before
            self.params["W%d" % i] = self._randn(fn, n_in, seed=gen,
                                                  std=weight_scale("he", n_in))
            self.params["b%d" % i] = Matrix.zeros(1, fn)
            conv = Convolution(self.params, "W%d" % i, "b%d" % i, stride, pad,
                               input_shape=shape, filter_size=fs)
            self.layers.append(conv)
            self.layers.append(Relu())
            shape = conv.output_shape
            if i % 2 == 0:
                pool = Pooling(pool_h=2, pool_w=2, stride=2, input_shape=shape)
                self.layers.append(pool)
                shape = pool.output_shape
        flat = shape[0] * shape[1] * shape[2]
        self.params["W7"] = self._randn(flat, hidden_size, seed=gen,
                                         std=weight_scale("he", flat))
        self.params["b7"] = Matrix.zeros(1, hidden_size)
        self.params["W8"] = self._randn(hidden_size, output_size, seed=gen,
                                         std=weight_scale("he", hidden_size))
        self.params["b8"] = Matrix.zeros(1, output_size)
        self.layers.append(Affine(self.params, "W7", "b7"))
        self.layers.append(Relu())
        self.layers.append(Dropout(dropout_ratio, seed=drop_gen))
        self.layers.append(Affine(self.params, "W8", "b8"))
        self.layers.append(Dropout(dropout_ratio, seed=drop_gen))
        self.last_layer = SoftmaxWithLoss()
        self.notes = {}


NETWORKS = {"SimpleConvNet": SimpleConvNet, "DeepConvNet": DeepConvNet}


def _unweighted(cls, **config):
    """A network of class ``cls`` whose weights are about to be set (zeros for now)."""
    net = cls.__new__(cls)
    net._loading = True
    cls.__init__(net, **config)
    del net._loading
    return net


# ------------------------------------------------------------- loading

def load_network(path):
    """A network from ``path``: a file written by ``net.save`` (purenn's
    weights format) or one of the book's pickles (``SimpleConvNet`` or
    ``DeepConvNet`` with the book's architecture, read without numpy and
    without running the pickle, see ``purenn.pickles``).

    ``net.notes`` says where it came from: for the book's files ``book`` is
    the ``BOOK_FILES`` entry (None for a file none of the four), and
    ``sha256`` the file's digest.  Anything else is a ``DataError``.
    """
    from purenn.files import read_limited
    head = read_limited(path, MAX_FILE_BYTES, "weights file")[:2]
    if head[:1] == b"\x80":  # a pickle of protocol 2 or later
        return _load_book(path)
    from purenn.weights import load_params
    params, meta = load_params(path)
    cls = NETWORKS.get(meta.get("class"))
    config = meta.get("config")
    if cls is None or not isinstance(config, dict):
        raise DataError("%s: not a saved SimpleConvNet or DeepConvNet (its meta has class "
                        "%r)" % (path, meta.get("class")))
    try:
        net = _unweighted(cls, **config)
    except (TypeError, ValueError) as e:
        raise DataError("%s: the saved %s config does not build: %s" % (path, cls.__name__, e))
    net._set_params(params, path)
    net.notes = dict((k, v) for k, v in meta.items() if k not in ("class", "config"))
    return net


def _load_book(path):
    from purenn.pickles import load_arrays
    digest, info = identify_book_file(path)
    arrays = load_arrays(path)
    params = dict((name, array.matrix()) for name, array in arrays.items())
    cls = DeepConvNet if "W8" in params else SimpleConvNet
    if info is not None:
        cls = NETWORKS[info["network"]]
    net = _unweighted(cls)
    net._set_params(params, path)
    net.notes = {"book": info, "sha256": digest}
    return net


# ------------------------------------------------------- gradient check

def kink_distance(net, x, t):
    """How far the training forward pass on (x, t) is from a kink: the
    smallest |input| of a ReLU and the smallest gap between the largest and
    the second largest number of a pooling window whose largest is > 0.

    Central differences straddle a kink that is closer than the step h, and
    then measure a mean of two slopes: a "failure" that is no bug of
    backpropagation.  Uses the Dropout masks of the last training pass."""
    x = as_matrix(x, "kink_distance: x")
    nearest = float("inf")
    for layer in net._layer_list():
        if isinstance(layer, Relu):
            nearest = min([nearest] + [abs(v) for row in x.tolist() for v in row])
        if isinstance(layer, Pooling):
            from purenn.convolution import im2col
            N = x.shape[0]
            col = im2col(x, (N,) + layer.input_shape, layer.pool_h, layer.pool_w,
                         layer.stride, layer.pad).reshape(-1, layer.pool_h * layer.pool_w)
            for window in col.tolist():
                top = sorted(window, reverse=True)
                if top[0] > 0 and len(top) > 1:
                    nearest = min(nearest, top[0] - top[1])
        if isinstance(layer, Dropout):
            x = x * Matrix(layer.mask)
        else:
            x = layer.forward(x)
    return nearest


def gradient_check(net, x, t, h=1e-6):
    """``{param: max |backprop - numerical|}`` for ``net`` on (x, t): the
    book's ``ch07/gradient_check.py``, which prints the mean difference.

    The numerical gradient uses central differences with step ``h``; a
    ``ValueError`` if the pass comes within ``10 h`` of a kink
    (``kink_distance``), where the two would rightly differ.  (With inputs in
    [0, 1) and weights below 1, a nudge of h moves a ReLU input by less.)

    >>> net = SimpleConvNet(input_dim=(1, 6, 6), hidden_size=4, output_size=3, seed=2,
    ...                     conv_param={"filter_num": 2, "filter_size": 3, "pad": 0, "stride": 1})
    >>> worst = gradient_check(net, Matrix.uniform(1, 36, seed=7), [1])
    >>> sorted(worst), max(worst.values()) < 1e-8
    (['W1', 'W2', 'W3', 'b1', 'b2', 'b3'], True)
    """
    backprop = net.gradient(x, t)
    margin = kink_distance(net, x, t)
    if margin < 10 * h:
        raise ValueError("gradient_check: an input of a ReLU or a pooling window is within "
                         "%g of its kink (nearest %g); draw another x" % (10 * h, margin))
    numerical = net.numerical_gradient(x, t, h)
    return dict((key, max_abs_difference({key: backprop[key]}, {key: numerical[key]}))
                for key in net.params)


# -------------------------------------------------------------- pictures

class ImageGrid:
    """Small grey-scale images in a grid (the book's ``filter_show``), as text and SVG.

    Each image is scaled from its own smallest number (white) to its largest
    (black), as matplotlib's ``imshow`` with ``cmap=gray_r`` draws them in
    the book; ``scale="shared"`` uses one range for all (to compare them).
    ``images`` is a list of images, each a list of rows of numbers.

    >>> grid = ImageGrid([[[0, 1], [1, 0]], [[2, 2], [0, 4]]], titles=["a", "b"])
    >>> print(grid.to_text(charset="ascii"))
    a    b
      @@ ====
    @@     @@
    """

    SHADES = {"unicode": " ░▒▓█", "ascii": " .:-=+*#%@"}

    def __init__(self, images, titles=None, columns=8, title="", scale="each"):
        if not images:
            raise ValueError("ImageGrid: no images")
        if scale not in ("each", "shared"):
            raise ValueError("ImageGrid: scale must be 'each' or 'shared', got %r" % (scale,))
        self.images = [[[float(v) for v in row] for row in image] for image in images]
        self.titles = list(titles) if titles is not None else [""] * len(images)
        if len(self.titles) != len(self.images):
            raise ValueError("ImageGrid: %d titles for %d images"
                             % (len(self.titles), len(self.images)))
        self.columns, self.title, self.scale = max(1, columns), title, scale

    def _ranges(self):
        lows = [min(min(r) for r in im) for im in self.images]
        highs = [max(max(r) for r in im) for im in self.images]
        if self.scale == "shared":
            lows, highs = [min(lows)] * len(lows), [max(highs)] * len(highs)
        return lows, highs

    def _levels(self, image, lo, hi):
        """Each pixel as 0 (white) .. 1 (black)."""
        span = hi - lo
        return [[(v - lo) / span if span > 0 else 0.0 for v in row] for row in image]

    def to_text(self, charset="unicode", double=True):
        """The images side by side, ``columns`` a line; two characters a pixel
        (``double``), darker for larger numbers."""
        if charset not in self.SHADES:
            raise ValueError("to_text: charset must be 'unicode' or 'ascii', got %r" % (charset,))
        shades = self.SHADES[charset]
        top = len(shades) - 1
        lows, highs = self._ranges()
        cells = []
        for image, lo, hi, title in zip(self.images, lows, highs, self.titles):
            lines = ["".join(shades[int(round(v * top))] * (2 if double else 1) for v in row)
                     for row in self._levels(image, lo, hi)]
            width = max(len(lines[0]), len(title))
            cells.append([title.ljust(width)] + [line.ljust(width) for line in lines])
        out = [self.title] if self.title else []
        for start in range(0, len(cells), self.columns):
            group = cells[start:start + self.columns]
            height = max(len(c) for c in group)
            for i in range(height):
                out.append(" ".join(c[i] if i < len(c) else " " * len(c[0])
                                    for c in group).rstrip())
        return "\n".join(out)

    def __str__(self):
        return self.to_text()

    def to_svg(self, pixel=8):
        """One ``<rect>`` a pixel, grey ``1 - level``; a title over each image."""
        lows, highs = self._ranges()
        h = max(len(im) for im in self.images)
        w = max(len(im[0]) for im in self.images)
        cell_w, cell_h = w * pixel + 10, h * pixel + 26
        cols = min(self.columns, len(self.images))
        rows = (len(self.images) + cols - 1) // cols
        width, height = cols * cell_w + 10, rows * cell_h + (40 if self.title else 10)
        top = 40 if self.title else 10
        out = ['<?xml version="1.0" encoding="UTF-8"?>',
               '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d '
               '%d" font-family="DejaVu Sans, Arial, sans-serif" font-size="11">'
               % (width, height, width, height),
               '<title>%s</title>' % _xml(self.title or "images"),
               '<rect x="0" y="0" width="%d" height="%d" fill="white"/>' % (width, height)]
        if self.title:
            out.append('<text x="%g" y="22" text-anchor="middle" font-size="14">%s</text>'
                       % (width / 2, _xml(self.title)))
        for n, (image, lo, hi, title) in enumerate(zip(self.images, lows, highs, self.titles)):
            x0 = 10 + (n % cols) * cell_w
            y0 = top + (n // cols) * cell_h
            out.append('<g class="image" transform="translate(%d, %d)">' % (x0, y0))
            out.append('<text x="0" y="11">%s</text>' % _xml(title))
            out.append('<rect x="0" y="16" width="%d" height="%d" fill="white" stroke="#999999"/>'
                       % (len(image[0]) * pixel, len(image) * pixel))
            for i, row in enumerate(self._levels(image, lo, hi)):
                for j, v in enumerate(row):
                    if v > 0:
                        g = int(round(255 * (1 - v)))
                        out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="#%02x%02x%02x"/>'
                                   % (j * pixel, 16 + i * pixel, pixel, pixel, g, g, g))
            out.append("</g>")
        out.append("</svg>")
        return "\n".join(out) + "\n"

    def _repr_svg_(self):
        return self.to_svg()

    def save_svg(self, path):
        """Write the SVG to ``path`` (atomically) and return the path."""
        from purenn.files import write_atomic
        write_atomic(path, self.to_svg().encode("utf-8"))
        return path


def _xml(text):
    text = "".join(c for c in str(text) if c >= " " and c != "\x7f")
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _image(values, h, w):
    return [list(values[i * w:(i + 1) * w]) for i in range(h)]


def filter_images(W, filter_shape, title="", columns=10):
    """The filters of a first layer as pictures (section 7.6.1): ``W`` (FN, C*FH*FW)
    with ``filter_shape`` (FN, C, FH, FW); channel 0 of each filter, as the
    book's ``filter_show`` draws ``filters[i, 0]``."""
    FN, C, FH, FW = filter_shape
    images = [_image(row[:FH * FW], FH, FW) for row in as_matrix(W, "filter_images: W").tolist()]
    return ImageGrid(images, titles=[str(i + 1) for i in range(FN)], columns=columns,
                     title=title)


def activations(net, x):
    """One image through the network: ``[(layer name, output (1, n), shape)]``
    for each layer, ``shape`` (C, H, W) where the layer has one, else (n,)."""
    x = as_matrix(x, "activations: x")
    if x.shape[0] != 1:
        raise ShapeError("activations: x is (%d, %d); give one image, (1, C*H*W)" % x.shape)
    layers = net.layers.items() if isinstance(net.layers, dict) else [
        ("%s%d" % (type(layer).__name__, i), layer) for i, layer in enumerate(net.layers)]
    out, shape = [], net.input_dim
    for name, layer in layers:
        x = layer.forward(x, False) if isinstance(layer, Dropout) else layer.forward(x)
        shape = getattr(layer, "output_shape", shape if isinstance(layer, (Relu, Dropout))
                        else (x.shape[1],))
        out.append((name, x, shape))
    return out


def activation_images(name, values, shape, columns=10, limit=None):
    """The channels of one layer's output (1, C*H*W) as an ImageGrid."""
    C, H, W = shape
    row = as_matrix(values, "activation_images: values").tolist()[0]
    count = C if limit is None else min(C, limit)
    images = [_image(row[c * H * W:(c + 1) * H * W], H, W) for c in range(count)]
    return ImageGrid(images, titles=["%d" % (c + 1) for c in range(count)], columns=columns,
                     title="%s: %d channels of %dx%d%s" % (name, C, H, W,
                                                         "" if count == C else
                                                         " (the first %d)" % count))


# ------------------------------------------------------- bit precision (8.3.4)

PRECISIONS = ("float64", "float32", "float16", "int8")
"""The precisions of ``precision_accuracy`` (``purenn.precision`` rounds)."""


def precision_model(net):
    """A ``purenn.precision.ParamsModel`` for ``net``, measured the way of the
    book's ``half_float_network.py``: every parameter rounded to the precision
    (biases too, as the book converts them all); at int8 a filter bank gets one
    scale per filter (a row), an Affine's weights one per column, a bias one per
    number (so it is kept: a bias is a handful of numbers)."""
    from purenn.precision import ParamsModel
    layers = net._layer_list() if hasattr(net, "_layer_list") else net.layers
    filters = set(layer.w_key for layer in layers if isinstance(layer, Convolution))
    return ParamsModel(net, per=lambda name, m: "row" if name in filters else "column")


def precision_accuracy(net, x, t, precision, batch_size=100):
    """The accuracy of ``net`` (a convnet or a MultiLayerNet) when its weights are
    stored at ``precision`` and, at float32 and float16, the images too (the
    book's ``x_test.astype(np.float16)``); the arithmetic stays float64."""
    from purenn.precision import rounded_matrix
    x = as_matrix(x, "precision_accuracy: x")
    if precision in ("float32", "float16"):
        x = rounded_matrix(x, precision)
    predicted = precision_model(net).classes_at(precision, x, batch_size)
    return sum(1 for p, label in zip(predicted, t) if p == label) / float(len(t))
