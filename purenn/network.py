"""Neural network inference: matrix products and sums (chapters 3.4 - 3.6).

Each layer computes ``a = x @ W + b`` and then ``z = h(a)``; the shapes chain::

    x (N, 2) @ W1 (2, 3) + b1 (1, 3) -> a1 (N, 3) -> z1 = sigmoid(a1)
    z1 (N, 3) @ W2 (3, 2) + b2 (1, 2) -> a2 (N, 2) -> z2 = sigmoid(a2)
    z2 (N, 2) @ W3 (2, 2) + b3 (1, 2) -> a3 (N, 2) -> y  = identity(a3)

==========================  ===============================================
``init_network()``          the book's 3-layer example weights, as a dict
``forward(network, x)``     the book's forward pass over that dict
``Layer(W, b, h)``          one layer: ``h(x @ W + b)``
``Network(layers)``         any stack of layers: ``predict``, ``accuracy``
==========================  ===============================================

>>> y = forward(init_network(), [1.0, 0.5])
>>> y.allclose([[0.3168270764110298, 0.6962790898619668]], rel_tol=0, abs_tol=1e-15)
True
"""
from purenn.activations import sigmoid, identity_function
from purenn.errors import ShapeError
from purenn.matrix import Matrix, as_matrix, _fmt


def init_network():
    """The book's 3-layer network (section 3.4.3): 2 inputs, 3 and 2 hidden
    neurons, 2 outputs.  Keys W1, b1, W2, b2, W3, b3; biases are (1, M) rows.

    >>> net = init_network()
    >>> net["W1"].shape, net["b1"].shape, net["W3"].shape
    ((2, 3), (1, 3), (2, 2))
    """
    return {
        "W1": Matrix([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]]),
        "b1": Matrix([0.1, 0.2, 0.3]),
        "W2": Matrix([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]]),
        "b2": Matrix([0.1, 0.2]),
        "W3": Matrix([[0.1, 0.3], [0.2, 0.4]]),
        "b3": Matrix([0.1, 0.2]),
    }


def forward(network, x):
    """The book's ``forward``: sigmoid, sigmoid, identity (section 3.4.3).

    ``x`` is (N, 2) (a flat list is one row); the result is (N, 2).

    >>> forward(init_network(), [1.0, 0.5]).shape
    (1, 2)
    """
    W1, W2, W3 = network["W1"], network["W2"], network["W3"]
    b1, b2, b3 = network["b1"], network["b2"], network["b3"]
    x = _input(x)
    a1 = x @ W1 + b1
    z1 = sigmoid(a1)
    a2 = z1 @ W2 + b2
    z2 = sigmoid(a2)
    a3 = z2 @ W3 + b3
    y = identity_function(a3)
    return y


def _input(x):
    return as_matrix(x, "network input")


class Layer:
    """One fully connected layer: ``z = activation(x @ W + b)``.

    ``W`` is (D, M): D inputs, M neurons; ``b`` is a (1, M) row.
    """

    def __init__(self, W, b, activation=sigmoid):
        self.W = Matrix(W)
        self.b = Matrix(b)
        if self.b.shape != (1, self.W.shape[1]):
            raise ShapeError(
                "Layer: W %s and b %s: b must be one row with one bias per column of W, (1, %d)"
                % (_fmt(self.W.shape), _fmt(self.b.shape), self.W.shape[1]))
        if not callable(activation):
            raise TypeError("Layer: activation must be a function, got %r" % (activation,))
        self.activation = activation

    def __call__(self, x):
        return self.activation(x @ self.W + self.b)

    def __repr__(self):
        return "Layer(W %s, b %s, %s)" % (_fmt(self.W.shape), _fmt(self.b.shape),
                                          getattr(self.activation, "__name__", "h"))


class Network:
    """A stack of layers that computes ``predict(x)`` for a batch x of shape (N, D).

    >>> net = Network.from_dict(init_network())
    >>> net.predict([[1.0, 0.5], [1.0, 0.5]]).shape
    (2, 2)
    """

    def __init__(self, layers):
        self.layers = list(layers)
        if not self.layers:
            raise ValueError("Network: needs at least one layer")
        for i in range(1, len(self.layers)):
            prev, cur = self.layers[i - 1].W.shape, self.layers[i].W.shape
            if prev[1] != cur[0]:
                raise ShapeError(
                    "Network: layer %d W %s feeds layer %d W %s: outputs (%d) must equal "
                    "inputs (%d)" % (i - 1, _fmt(prev), i, _fmt(cur), prev[1], cur[0]))

    @classmethod
    def from_dict(cls, params, activations=(sigmoid, sigmoid, identity_function)):
        """A network from the book's dict ``{"W1": ..., "b1": ..., "W2": ...}``."""
        n = len(activations)
        missing = [k for i in range(1, n + 1) for k in ("W%d" % i, "b%d" % i) if k not in params]
        if missing:
            raise KeyError("Network.from_dict: missing %s for %d layers" % (", ".join(missing), n))
        return cls([Layer(params["W%d" % i], params["b%d" % i], activations[i - 1])
                    for i in range(1, n + 1)])

    @property
    def input_size(self):
        return self.layers[0].W.shape[0]

    def predict(self, x):
        """The output scores, (N, D) -> (N, classes)."""
        x = _input(x)
        if x.shape[1] != self.input_size:
            raise ShapeError("predict: input %s for a network with %d inputs: columns must be %d"
                             % (_fmt(x.shape), self.input_size, self.input_size))
        for layer in self.layers:
            x = layer(x)
        return x

    def accuracy(self, x, labels, batch_size=100):
        """The share of rows of x whose highest score is at the right label.

        ``labels`` are class indices (ints) or one-hot rows.  Works through x
        in batches of ``batch_size`` rows, as the book's batch inference does.
        """
        x = _input(x)
        labels = _labels(labels, self.layers[-1].W.shape[1])
        if len(labels) != x.shape[0]:
            raise ShapeError("accuracy: %d inputs but %d labels: they must be as many"
                             % (x.shape[0], len(labels)))
        if type(batch_size) is not int or batch_size < 1:
            raise ValueError("accuracy: batch_size must be a positive int, got %r" % (batch_size,))
        correct = 0
        for start in range(0, x.shape[0], batch_size):
            scores = self.predict(x[start:start + batch_size])
            # a row of scores with a nan in it predicts nothing: never correct
            correct += sum(1 for p, t, row in zip(scores.argmax(axis=1),
                                                  labels[start:start + batch_size],
                                                  scores.tolist())
                           if p == t and all(v == v for v in row))
        return correct / x.shape[0]


def _labels(labels, classes):
    """Class indices from ints in [0, classes) or from one-hot rows of width classes."""
    if not isinstance(labels, Matrix):
        labels = list(labels)
        if labels and isinstance(labels[0], (list, tuple)):
            labels = Matrix(labels)
    if isinstance(labels, Matrix):
        if labels.shape[1] != classes:
            raise ShapeError("accuracy: one-hot labels %s for %d classes: each row must have "
                             "%d columns" % (_fmt(labels.shape), classes, classes))
        return labels.argmax(axis=1)
    for i, t in enumerate(labels):
        if not (isinstance(t, int) and not isinstance(t, bool)) or not 0 <= t < classes:
            raise ValueError("accuracy: label %d is %r; labels must be class indices 0..%d "
                             "(or one-hot rows)" % (i, t, classes - 1))
    return labels
