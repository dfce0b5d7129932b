"""Perceptrons and logic gates (chapter 2).

A perceptron with weights w and bias b fires when the weighted sum of its
inputs is positive::

    y = 1 if w·x + b > 0 else 0        (w·x = w1·x1 + w2·x2 + ...)

One perceptron draws one straight line through the input plane, so it can be
AND, OR or NAND, but never XOR (XOR's two "1" corners are on opposite sides of
every line).  Two layers can: ``XOR(x1, x2) = AND(NAND(x1, x2), OR(x1, x2))``.

>>> print(truth_table(XOR))
(0, 0) -> 0
(1, 0) -> 1
(0, 1) -> 1
(1, 1) -> 0
"""
from purenn.errors import ShapeError
from purenn.matrix import is_number


class Perceptron:
    """A single perceptron: ``y = 1 if w·x + b > 0 else 0``.

    Call it with the inputs as separate numbers or as one sequence.

    >>> AND = Perceptron((0.5, 0.5), -0.7)
    >>> AND(1, 1), AND((1, 0))
    (1, 0)
    """

    def __init__(self, weights, bias):
        if isinstance(weights, (str, bytes)):
            raise TypeError("Perceptron: weights must be numbers, got %r" % (weights,))
        self.weights = tuple(weights)
        self.bias = bias
        if not self.weights:
            raise ValueError("Perceptron: needs at least one weight")
        for w in self.weights + (bias,):
            if not is_number(w):
                raise TypeError("Perceptron: weights and bias must be numbers, got %r" % (w,))

    def weighted_sum(self, *inputs):
        """``w·x + b``, the number the perceptron compares with 0."""
        x = self._inputs(inputs)
        return sum(w * v for w, v in zip(self.weights, x)) + self.bias

    def __call__(self, *inputs):
        return 1 if self.weighted_sum(*inputs) > 0 else 0

    def _inputs(self, inputs):
        if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):
            inputs = tuple(inputs[0])
        for v in inputs:
            if not is_number(v):
                raise TypeError("Perceptron: inputs must be numbers, got %r" % (v,))
        if len(inputs) != len(self.weights):
            raise ShapeError(
                "Perceptron: %d inputs for %d weights; give one input per weight"
                % (len(inputs), len(self.weights)))
        return inputs

    def __repr__(self):
        return "Perceptron(weights=%r, bias=%r)" % (self.weights, self.bias)


# The slides' parameters (chapter 2.3.3); other values draw the same lines.
AND = Perceptron((0.5, 0.5), -0.7)
OR = Perceptron((0.5, 0.5), -0.2)
NAND = Perceptron((-0.5, -0.5), 0.7)


def XOR(x1, x2):
    """Exclusive or as a two-layer perceptron (chapter 2.5): the first layer is
    NAND and OR, the second an AND of their outputs.

    >>> [XOR(0, 0), XOR(1, 0), XOR(0, 1), XOR(1, 1)]
    [0, 1, 1, 0]
    """
    s1 = NAND(x1, x2)
    s2 = OR(x1, x2)
    return AND(s1, s2)


GATES = (("AND", AND), ("OR", OR), ("NAND", NAND), ("XOR", XOR))

# The book's order of the input pairs.
INPUTS = ((0, 0), (1, 0), (0, 1), (1, 1))


def truth_table(gate):
    """The gate's outputs for the four input pairs, one line each, as the
    book's scripts print them: ``(0, 0) -> 0``."""
    return "\n".join("(%d, %d) -> %d" % (x1, x2, gate(x1, x2)) for x1, x2 in INPUTS)
