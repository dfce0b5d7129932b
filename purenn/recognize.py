"""Handwritten digit recognition with a trained network (chapter 3.6): which
network, from which file.

==============================  ==============================================
``load_network(path)``          a network from the book's ``sample_weight.pkl``
                                or a purenn weights file: a ``Network``, or the
                                saved ``MultiLayerNet`` itself (both have the
                                network protocol of ``purenn.network``)
``find_weights()``              the weights ``python -m purenn`` uses when
                                none are given, or None
``draw_digit(pixels)``          an image as lines of text
==============================  ==============================================

The batch loop and the accuracy are ``purenn.labels.predict_labels`` and
``purenn.labels.accuracy``.

The book's batch inference (``neuralnet_mnist_batch.py``)::

    for i in range(0, len(x), batch_size):
        y_batch = predict(network, x[i:i+batch_size])      # (100, 784) -> (100, 10)
        p = np.argmax(y_batch, axis=1)
        accuracy_cnt += np.sum(p == t[i:i+batch_size])
"""
import math
import os
import re

from purenn import activations
from purenn.errors import DataError
from purenn.network import Layer, Network
from purenn.files import cache_dir
from purenn.weights import read_weights

WEIGHTS_ENV = "PURENN_WEIGHTS"


# The book's 784-50-100-10 sigmoid network, trained by purenn itself on the
# MNIST training set (python -m purenn train --dataset mnist; see README).
BUNDLED_WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data",
                               "mnist-784-50-100-10-sigmoid.json.gz")


def find_weights():
    """A weights file to use by default, or None: the file named by the
    environment variable ``PURENN_WEIGHTS``, else ``sample_weight.pkl`` in
    purenn's cache folder (``~/.cache/purenn/``, beside the MNIST download),
    else the network purenn trained itself and ships (``BUNDLED_WEIGHTS``)."""
    path = os.environ.get(WEIGHTS_ENV)
    if path:
        return path
    path = os.path.join(cache_dir(), "sample_weight.pkl")
    if os.path.isfile(path):
        return path
    return BUNDLED_WEIGHTS if os.path.isfile(BUNDLED_WEIGHTS) else None


_LAYER_NAME = re.compile(r"^[Wb][1-9][0-9]*$")


def _check_finite(path, params):
    for name, m in params.items():
        for row in m.tolist():
            for x in row:
                if not math.isfinite(x):
                    raise DataError("%s: %s holds %r; a network to run needs finite weights"
                                    % (path, name, x))


def _layer_count(path, params):
    """How many layers W1, b1, ..., Wn, bn the params hold; any other name
    or a gap is a DataError."""
    others = sorted(k for k in params if not _LAYER_NAME.match(k))
    if others:
        raise DataError("%s: parameters %s are not layer weights W1, b1, ...; a network with "
                        "batchnorm or dropout must be saved by MultiLayerNet.save"
                        % (path, ", ".join(others)))
    count = len(params) // 2
    expected = set("%s%d" % (c, i) for i in range(1, count + 1) for c in "Wb")
    if count == 0 or set(params) != expected:
        raise DataError("%s: layer weights %s; expected W1, b1, ..., Wn, bn without gaps"
                        % (path, ", ".join(sorted(params)) or "none"))
    return count


def _load_multilayer(path, params, config):
    """A MultiLayerNet with dropout/batchnorm through ``MultiLayerNet.load``,
    after checking its sizes against the saved W matrices (so a hand-made
    config cannot make it build huge matrices)."""
    from purenn.multilayer import MultiLayerNet
    try:
        count = sum(1 for k in params if re.match(r"^W[1-9][0-9]*$", k))
        Ws = [params["W%d" % i] for i in range(1, count + 1)]
        sizes = [Ws[0].shape[0]] + [W.shape[1] for W in Ws]
        hidden = config["hidden_size_list"]
        if ([config["input_size"]] + list(hidden) + [config["output_size"]]) != sizes:
            raise DataError("%s: the config's sizes %s do not fit the saved W matrices (%s)"
                            % (path, [config["input_size"], hidden, config["output_size"]],
                               "-".join(str(s) for s in sizes)))
        net = MultiLayerNet.load(path)
    except DataError:
        raise
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise DataError("%s: not a loadable MultiLayerNet (%s: %s)" % (path, type(e).__name__, e))
    parts = [config["activation"]]
    if config.get("use_batchnorm"):
        parts.append("batchnorm")
    if config.get("use_dropout"):
        parts.append("dropout %g, off when predicting" % config.get("dropout_ratio", 0.5))
    description = "%s (%s)" % ("-".join(str(s) for s in sizes), ", ".join(parts))
    return net, description


def load_network(path):
    """A network from a weights file, and a description of it.

    - the book's ``sample_weight.pkl`` (a numpy pickle, recognised by its
      content, ``purenn.weights.read_weights``): W1, b1, ..., Wn, bn with
      sigmoid for the hidden layers and softmax for the last, as in the book;
    - a ``MultiLayerNet`` with batchnorm or dropout saved by
      ``MultiLayerNet.save``: returned as loaded by ``MultiLayerNet.load``;
      its ``predict(x)`` runs in inference mode (batchnorm's running
      averages, no dropout);
    - purenn's own format (``purenn.weights``): layers W1, b1, W2, b2, ...
      and nothing else; their activations are ``meta["activations"]`` (a
      list of names from ``purenn.activations.ACTIVATIONS``), by default
      sigmoid for the hidden layers and softmax for the last.

    A file that is none of these is a ``DataError`` saying why.
    """
    found = read_weights(path)
    params, meta = found
    if found.kind == "numpy-pickle":
        deep = sorted(name for name, shape in found.shapes.items() if len(shape) > 2)
        if deep:
            raise DataError("%s: %s has %d dimensions: the weights of a convolutional network, "
                            "not of layers x @ W + b" % (path, deep[0], len(found.shapes[deep[0]])))
        _check_finite(path, params)
        count = _layer_count(path, params)
        names = ["sigmoid"] * (count - 1) + ["softmax"]
    else:
        _check_finite(path, params)
        config = meta.get("config")
        if (meta.get("class") == "MultiLayerNet" and isinstance(config, dict)
                and (config.get("use_batchnorm") or config.get("use_dropout"))):
            return _load_multilayer(path, params, config)
        count = _layer_count(path, params)
        names = meta.get("activations")
        if names is None:
            names = ["sigmoid"] * (count - 1) + ["softmax"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise DataError("%s: meta \"activations\" must be a list of names such as "
                            "[\"sigmoid\", \"softmax\"], got %r" % (path, names))
        if len(names) != count:
            raise DataError("%s: %d activations for %d layers" % (path, len(names), count))
    unknown = [n for n in names if n not in activations.ACTIVATIONS]
    if unknown:
        raise DataError("%s: unknown activation %s; known: %s"
                        % (path, ", ".join(unknown), ", ".join(sorted(activations.ACTIVATIONS))))
    layers = [Layer(params["W%d" % i], params["b%d" % i], activations.ACTIVATIONS[n])
              for i, n in enumerate(names, 1)]
    sizes = [layers[0].W.shape[0]] + [layer.W.shape[1] for layer in layers]
    description = "%s (%s)" % ("-".join(str(s) for s in sizes), ", ".join(names))
    return Network(layers), description


def draw_digit(pixels, side=28):
    """An image (``side * side`` values in [0, 1]) as ``side // 2`` lines of
    text: each character stands for two pixels above each other (characters
    are about twice as tall as wide), darker for more ink.  The drawing is
    ``purenn.plot``'s (the one digit renderer), in ASCII.

    >>> print("\\n".join(draw_digit([0.0, 1.0, 1.0, 0.0], side=2)))
    @@
    """
    from purenn.plot import plot_digit
    return plot_digit(pixels, shape=(side, side), vmax=1.0).text_lines("ascii", compact=True)
