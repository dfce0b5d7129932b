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
                            (the network protocol, shared with ``MultiLayerNet``)
==========================  ===============================================

>>> y = forward(init_network(), [1.0, 0.5])
>>> y.allclose([[0.3168270764110298, 0.6962790898619668]], rel_tol=0, abs_tol=1e-15)
True
"""
from purenn.activations import sigmoid, identity_function
from purenn.errors import ShapeError
from purenn.labels import accuracy, as_labels, predict_labels
from purenn.matrix import Matrix, as_matrix, format_shape


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
        self.W = as_matrix(W, "Layer: W")   # a Matrix as it is: it never changes
        self.b = as_matrix(b, "Layer: b")
        if self.b.shape != (1, self.W.shape[1]):
            raise ShapeError(
                "Layer: W %s and b %s: b must be one row with one bias per column of W, (1, %d)"
                % (format_shape(self.W.shape), format_shape(self.b.shape), self.W.shape[1]))
        if not callable(activation):
            raise TypeError("Layer: activation must be a function, got %r" % (activation,))
        self.activation = activation

    def __call__(self, x):
        return self.activation(x @ self.W + self.b)

    def __repr__(self):
        return "Layer(W %s, b %s, %s)" % (format_shape(self.W.shape), format_shape(self.b.shape),
                                          getattr(self.activation, "__name__", "h"))


class Network:
    """A stack of layers that computes ``predict(x)`` for a batch x of shape (N, D).

    **The network protocol**, which ``Network`` and the trained networks of
    chapters 5-6 (``purenn.multilayer.MultiLayerNet``) share, so that
    ``explain``, ``purenn.labels.predict_labels`` and ``python -m purenn mnist``
    take either:

    ==========================  ===============================================
    ``predict(x)``              the scores (N, output_size), inference mode
    ``accuracy(x, t)``          the share of rows predicted right (in batches)
    ``input_size``              the number of inputs (columns of x)
    ``output_size``             the number of outputs (classes)
    ``layer_steps()``           the fully connected steps as ``Layer`` objects,
                                ``h(x @ W + b)``, for the hand calculation
    ==========================  ===============================================

    >>> net = Network.from_dict(init_network())
    >>> net.predict([[1.0, 0.5], [1.0, 0.5]]).shape
    (2, 2)
    >>> net.input_size, net.output_size, len(net.layer_steps())
    (2, 2, 3)
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
                    "inputs (%d)" % (i - 1, format_shape(prev), i, format_shape(cur), prev[1], cur[0]))

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
        """The number of inputs, the rows of the first W."""
        return self.layers[0].W.shape[0]

    @property
    def output_size(self):
        """The number of outputs (classes), the columns of the last W."""
        return self.layers[-1].W.shape[1]

    def layer_steps(self):
        """The layers, each ``h(x @ W + b)`` (the network protocol)."""
        return list(self.layers)

    def predict(self, x):
        """The output scores, (N, D) -> (N, classes)."""
        x = _input(x)
        if x.shape[1] != self.input_size:
            raise ShapeError("predict: input %s for a network with %d inputs: columns must be %d"
                             % (format_shape(x.shape), self.input_size, self.input_size))
        for layer in self.layers:
            x = layer(x)
        return x

    def accuracy(self, x, t, batch_size=100):
        """The share of rows of x whose highest score is at the true class.

        ``t`` are class labels (ints) or one-hot rows.  Works through x in
        batches of ``batch_size`` rows, as the book's batch inference does; a
        row whose scores hold a nan predicts nothing and counts as wrong
        (``purenn.labels``, which ``MultiLayerNet.accuracy`` uses too).
        """
        x = _input(x)
        labels = as_labels(t, self.output_size, "accuracy", n=x.shape[0])
        return accuracy(predict_labels(self, x, batch_size), labels)
