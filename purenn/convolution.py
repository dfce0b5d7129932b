"""Convolution and pooling (chapter 7): a convolution is a matrix product after unrolling the input.

=========================================  ==========================================
``conv_output_size(size, filter, s, p)``   ``(size + 2*p - filter) // s + 1`` (eq. 7.1)
``im2col(x, input_shape, FH, FW, s, p)``   unroll: images (N, C*H*W) ->
                                           ``col`` (N*OH*OW, C*FH*FW), one patch a row
``col2im(col, input_shape, FH, FW, s, p)``  its adjoint: patches back onto the
                                           images, overlaps added -> (N, C*H*W)
``Convolution(params, "W1", "b1", ...)``   ``col @ W.T + b``: forward and backward
``Pooling(pool_h, pool_w, stride, ...)``   max pooling: the largest of each window
=========================================  ==========================================

How images and filters are held
-------------------------------
The book keeps a batch of images in a 4-D numpy array (N, C, H, W) and a filter
bank in one of shape (FN, C, FH, FW).  A purenn ``Matrix`` is 2-D, so here

* a batch of images is a Matrix **(N, C*H*W)**: one image a row, its numbers in
  numpy's order (channel, then row, then column): exactly the book's
  ``x.reshape(N, -1)``;
* a filter bank ``W`` is a Matrix **(FN, C*FH*FW)**: one filter a row, the book's
  ``W.reshape(FN, -1)``; the bias ``b`` is a (1, FN) row;
* each layer knows its geometry: ``input_shape`` (C, H, W) when it is made, and
  it tells the next layer its ``output_shape``.

Why: the parameters stay plain 2-D matrices, so the optimisers, the
``Trainer``, the weight files and the gradient check work on a CNN as they
are; the rows are what the book's ``Affine`` makes of a 4-D input anyway
(``x.reshape(N, -1)``), so Convolution -> Pooling -> Affine needs no layer in
between; and a 4-D array of the book's pickles (``purenn.pickles``) becomes
this very Matrix.  The cost, one tuple of shape per layer, is the geometry a
4-D array would have carried.

The hand calculation of figure 7-3 (a 4x4 image, a 3x3 filter, stride 1):
``im2col`` lays every 3x3 patch out as a row; the filter is one row of ``W``;
one matrix product gives all four outputs.

>>> from purenn.matrix import Matrix
>>> x = Matrix([[1, 2, 3, 0,  0, 1, 2, 3,  3, 0, 1, 2,  2, 3, 0, 1]])  # (1, 1*4*4)
>>> col = im2col(x, (1, 1, 4, 4), 3, 3)      # (1*2*2, 1*3*3): four patches
>>> col.tolist()[:2]                           # the first two patches, as rows
[[1, 2, 3, 0, 1, 2, 3, 0, 1], [2, 3, 0, 1, 2, 3, 0, 1, 2]]
>>> W = Matrix([[2, 0, 1,  0, 1, 2,  1, 0, 2]])  # (1, 9): one filter
>>> (col @ W.T).reshape(2, 2)                    # the output, 2x2
Matrix([[15, 16], [6, 15]])
"""

from purenn import kernels
from purenn.kernels import no_cycle_collection
from purenn.errors import ShapeError
from purenn.matrix import Matrix, as_matrix  # noqa: F401 (Matrix: the doctests)

try:
    from functools import lru_cache as _lru_cache
except ImportError:  # a Python without functools: build the tables every time
    def _lru_cache(maxsize=None):
        return lambda f: f


# --------------------------------------------------------------- geometry

def _positive_int(v, what, smallest=1):
    if type(v) is not int or v < smallest:
        raise ValueError("%s must be a whole number >= %d, got %r" % (what, smallest, v))
    return v


def conv_output_size(input_size, filter_size, stride=1, pad=0):
    """The output size of a convolution or pooling along one axis (equation 7.1)::

        OH = (H + 2*P - FH) // S + 1

    A stride that does not fit exactly drops the last partial step, as the
    book's ``im2col`` does.

    >>> conv_output_size(28, 5), conv_output_size(24, 2, stride=2), conv_output_size(14, 3, pad=2)
    (24, 12, 16)
    >>> conv_output_size(4, 5)
    Traceback (most recent call last):
        ...
    purenn.errors.ShapeError: conv_output_size: a filter of 5 does not fit an input of 4 with padding 0
    """
    _positive_int(input_size, "conv_output_size: input_size")
    _positive_int(filter_size, "conv_output_size: filter_size")
    _positive_int(stride, "conv_output_size: stride")
    _positive_int(pad, "conv_output_size: pad", 0)
    if input_size + 2 * pad < filter_size:
        raise ShapeError("conv_output_size: a filter of %d does not fit an input of %d with "
                         "padding %d" % (filter_size, input_size, pad))
    return (input_size + 2 * pad - filter_size) // stride + 1


def _image_shape(input_shape, what):
    """``(N, C, H, W)``, checked."""
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 4:
        raise ShapeError("%s: input_shape must be (N, C, H, W), as numpy's x.shape, got %r"
                         % (what, input_shape))
    for v, name in zip(input_shape, "NCHW"):
        _positive_int(v, "%s: input_shape %s" % (what, name))
    return tuple(input_shape)


@_lru_cache(maxsize=64)
def _im2col_table(C, H, W, FH, FW, stride, pad):
    """im2col's index table: for each output position (oy, ox), the column of
    the image row that each patch element (c, fy, fx) reads, or None where the
    patch covers the zero padding.  One tuple per output position, so
    ``x.gather(table)`` is ``col``; cached, so the same geometry reuses one
    table (and ``Matrix.gather`` its compiled form)."""
    out_h = conv_output_size(H, FH, stride, pad)
    out_w = conv_output_size(W, FW, stride, pad)
    table = []
    for oy in range(out_h):
        for ox in range(out_w):
            row = []
            for c in range(C):
                for fy in range(FH):
                    y = oy * stride + fy - pad
                    for fx in range(FW):
                        x = ox * stride + fx - pad
                        inside = 0 <= y < H and 0 <= x < W
                        row.append(c * H * W + y * W + x if inside else None)
            table.append(tuple(row))
    return tuple(table)


@_lru_cache(maxsize=64)
def _pool_table(C, H, W, FH, FW, stride, pad):
    """Pooling's windows: im2col's patches cut into one row per channel
    (the book's ``col.reshape(-1, pool_h*pool_w)``), listed channel first,
    (c, oy, ox), so that the maxima come out in the order of the output."""
    table = _im2col_table(C, H, W, FH, FW, stride, pad)
    size = FH * FW
    return tuple(patch[c * size:(c + 1) * size] for c in range(C) for patch in table)


# ---------------------------------------------------------- im2col, col2im

def im2col(input_data, input_shape, filter_h, filter_w, stride=1, pad=0):
    """Unroll images into patches: ``(N, C*H*W) -> col (N*OH*OW, C*FH*FW)`` (section 7.4.3).

    ``input_data`` holds N images, one a row (see the module docstring);
    ``input_shape`` is their 4-D shape (N, C, H, W), as numpy's ``x.shape``.
    Row ``n*OH*OW + oy*OW + ox`` of ``col`` is the patch of image n under the
    filter at output position (oy, ox), read channel by channel, row by row:
    exactly the book's ``col``.  ``pad`` adds that many zeros around each image.

    The work is one ``Matrix.gather`` by an index table (``_im2col_table``):
    a convolution is then one matrix product, ``col @ W.T``.

    >>> x = Matrix([[1, 2, 3, 4, 5, 6, 7, 8, 9]])          # one 3x3 image
    >>> im2col(x, (1, 1, 3, 3), 2, 2)                      # four 2x2 patches
    Matrix([[1, 2, 4, 5], [2, 3, 5, 6], [4, 5, 7, 8], [5, 6, 8, 9]])
    >>> im2col(x, (1, 1, 3, 3), 2, 2, stride=2, pad=1)     # zeros around it
    Matrix([[0, 0, 0, 1], [0, 0, 2, 3], [0, 4, 0, 7], [5, 6, 8, 9]])
    """
    x = as_matrix(input_data, "im2col: input_data")
    N, C, H, W = _image_shape(input_shape, "im2col")
    if x.shape != (N, C * H * W):
        raise ShapeError("im2col: input_data is (%d, %d), input_shape %r needs (%d, %d): "
                         "one image of C*H*W numbers a row"
                         % (x.shape[0], x.shape[1], tuple(input_shape), N, C * H * W))
    return x.gather(_im2col_table(C, H, W, filter_h, filter_w, stride, pad))


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    """Fold patches back onto images: ``col (N*OH*OW, C*FH*FW) -> (N, C*H*W)``.

    The adjoint of ``im2col``: every element of ``col`` is added into the
    pixel it was read from (where patches overlap, their numbers add up;
    what fell on the padding is dropped).  So ``col2im(im2col(x))`` is not
    x: each pixel comes back times the number of patches that cover it.
    That is what the backward pass needs: the gradient of a pixel is the sum
    over every patch that used it.

    >>> col = Matrix([[1, 1, 1, 1]] * 4)               # four 2x2 patches of ones
    >>> col2im(col, (1, 1, 3, 3), 2, 2).reshape(3, 3)  # how often each pixel is used
    Matrix([[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    """
    col = as_matrix(col, "col2im: col")
    N, C, H, W = _image_shape(input_shape, "col2im")
    table = _im2col_table(C, H, W, filter_h, filter_w, stride, pad)
    expected = (N * len(table), C * filter_h * filter_w)
    if col.shape != expected:
        raise ShapeError("col2im: col is (%d, %d), input_shape %r with a %dx%d filter needs "
                         "(%d, %d)" % (col.shape[0], col.shape[1], tuple(input_shape),
                                       filter_h, filter_w, expected[0], expected[1]))
    return col.scatter_add(table, C * H * W)


# -------------------------------------------------- backward's orientation

@_lru_cache(maxsize=64)
def _filter_order(N, C):
    return [n * C + c for c in range(C) for n in range(N)]


def _filter_rows(dout, N, C, P):
    """``(N, C*P) -> (C, N*P)``: row c holds channel c of every image, image
    after image; its transpose (N*P, C) is the book's
    ``dout.transpose(0, 2, 3, 1).reshape(-1, C)``.  In this orientation the
    backward products need no transpose of the big matrices: ``dW = dout_T @ col``."""
    return dout.reshape(N * C, P)[_filter_order(N, C)].reshape(C, N * P)


# where plain index loops are the fastest kernel, the forward pass skips col
_WITHOUT_COL = kernels.KERNEL == "ikj"


# ------------------------------------------------------------------ layers

_BOOK_CALL = ("%s: purenn's layers take the params dict and its keys, %s, not the "
              "matrices: a Matrix is immutable, so an optimiser puts new matrices into "
              "params and the layer reads them from there at each forward pass")


def _input_shape(input_shape, what):
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3:
        raise TypeError("%s: give input_shape=(C, H, W), the shape of one input image "
                        "(channels, height, width), got %r" % (what, input_shape))
    for v, name in zip(input_shape, "CHW"):
        _positive_int(v, "%s: input_shape %s" % (what, name))
    return tuple(input_shape)


def _filter_size(filter_size, what):
    if type(filter_size) is int:
        filter_size = (filter_size, filter_size)
    if not isinstance(filter_size, (tuple, list)) or len(filter_size) != 2:
        raise TypeError("%s: give filter_size=FH (square) or (FH, FW), got %r"
                        % (what, filter_size))
    return (_positive_int(filter_size[0], what + ": filter height"),
            _positive_int(filter_size[1], what + ": filter width"))


def _batch(x, width, what):
    x = as_matrix(x, what + ": x")
    if x.shape[1] != width:
        raise ShapeError("%s: x is (%d, %d); this layer takes images of %d numbers a row "
                         "(input_shape C*H*W)" % (what, x.shape[0], x.shape[1], width))
    return x


def _dout(dout, expected, what):
    dout = as_matrix(dout, what + ": dout")
    if dout.shape != expected:
        raise ShapeError("%s: dout is (%d, %d) for a forward output of (%d, %d): shapes "
                         "must be equal" % ((what,) + dout.shape + expected))
    return dout


class Convolution:
    """The convolution layer (section 7.4.3): im2col, then one matrix product.

    Made as ``Convolution(params, "W1", "b1", stride=1, pad=0,
    input_shape=(C, H, W), filter_size=FH)``: ``params["W1"]`` is the filter
    bank (FN, C*FH*FW), one filter a row, ``params["b1"]`` the bias (1, FN).
    ``filter_size`` is FH (a square filter) or (FH, FW).

    Forward, for x (N, C*H*W)::

        col   = im2col(x, ...)           (N*OH*OW, C*FH*FW)   one patch a row
        col_W = W.T                      (C*FH*FW, FN)
        out   = col @ col_W              (N*OH*OW, FN)        one output position a row
        out   = channels first, + b      (N, FN*OH*OW)        one image a row

    The book writes ``np.dot(col, col_W) + self.b`` and then
    ``reshape(N, OH, OW, -1).transpose(0, 3, 1, 2)``; here the bias is added
    in the same pass as that transpose (``Matrix.transpose_blocks``): the same
    numbers, one pass fewer.  On PyPy and MicroPython the three lines are one
    call, ``x.gather_product(table, col_W, add=b)``, which gives the same numbers
    without building ``col`` (each nonzero pixel adds into the outputs whose
    patch holds it: a fifth of the work on MNIST); ``col`` is then made from
    ``x`` when backward, or you, read it.

    Backward, for dout (N, FN*OH*OW), held as ``dout_T`` (FN, N*OH*OW): row f
    is filter f's gradient at every output position (the transpose of the
    book's ``dout.transpose(0, 2, 3, 1).reshape(-1, FN)``)::

        db   = dout_T summed along rows  (1, FN)
        dW   = dout_T @ col              (FN, C*FH*FW)        the book's dot(col.T, dout).T
        dcol = dout_T.T @ col_W.T        (N*OH*OW, C*FH*FW)   the book's dot(dout, col_W.T)
        dx   = col2im(dcol, ...)         (N, C*H*W)

    The book's attributes are here: ``W``, ``b`` (read from ``params`` at each
    forward pass), ``stride``, ``pad``, ``x``, ``col``, ``col_W``, ``dW``,
    ``db``; the gradients also go to ``grads[w_key]`` and ``grads[b_key]``.
    ``output_shape`` is (FN, OH, OW), the next layer's ``input_shape``.

    >>> params = {"W": Matrix([[1.0, 0.0, 0.0, 1.0]]), "b": Matrix([[0.5]])}
    >>> conv = Convolution(params, "W", "b", input_shape=(1, 3, 3), filter_size=2)
    >>> conv.output_shape
    (1, 2, 2)
    >>> conv.forward(Matrix([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]]))
    Matrix([[6.5, 8.5, 12.5, 14.5]])
    >>> conv.backward(Matrix([[1.0, 0.0, 0.0, 0.0]])).reshape(3, 3)
    Matrix([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    >>> conv.dW, conv.db
    (Matrix([[1.0, 2.0, 4.0, 5.0]]), Matrix([[1.0]]))
    """

    def __init__(self, params, w_key="W", b_key="b", stride=1, pad=0, input_shape=None,
                 filter_size=None):
        if not isinstance(params, dict):
            raise TypeError(_BOOK_CALL % ("Convolution(W, b, stride, pad)",
                                          "Convolution(params, 'W1', 'b1', stride=1, pad=0, "
                                          "input_shape=(C, H, W), filter_size=FH)"))
        what = "Convolution"
        C, H, W_ = _input_shape(input_shape, what)
        FH, FW = _filter_size(filter_size, what)
        self.stride = _positive_int(stride, what + ": stride")
        self.pad = _positive_int(pad, what + ": pad", 0)
        if w_key not in params or b_key not in params:
            raise KeyError("Convolution: params has no %r" % (w_key if w_key not in params
                                                              else b_key))
        Wm, b = params[w_key], params[b_key]
        FN = Wm.shape[0]
        if Wm.shape[1] != C * FH * FW:
            raise ShapeError("Convolution: %s is (%d, %d); %d filters of %d channels of %dx%d "
                             "need (%d, %d): one filter a row"
                             % (w_key, FN, Wm.shape[1], FN, C, FH, FW, FN, C * FH * FW))
        if b.shape != (1, FN):
            raise ShapeError("Convolution: %s is (%d, %d); the bias of %d filters is one row "
                             "(1, %d)" % (b_key, b.shape[0], b.shape[1], FN, FN))
        self.params, self.w_key, self.b_key = params, w_key, b_key
        self.input_shape = (C, H, W_)
        self.filter_shape = (FN, C, FH, FW)
        self.output_shape = (FN, conv_output_size(H, FH, self.stride, self.pad),
                             conv_output_size(W_, FW, self.stride, self.pad))
        self.W = None
        self.b = None
        # what backward needs (the book's names)
        self.x = None
        self._col = None
        self.col_W = None
        # the gradients of the weights and the bias
        self.dW = None
        self.db = None
        self.grads = {}

    def __repr__(self):
        return ("Convolution(%s %s, stride=%d, pad=%d: %s -> %s)"
                % (self.w_key, "x".join(str(v) for v in self.filter_shape), self.stride,
                   self.pad, "x".join(str(v) for v in self.input_shape),
                   "x".join(str(v) for v in self.output_shape)))

    def forward(self, x):
        with no_cycle_collection():
            return self._forward(x)

    def _forward(self, x):
        FN, C, FH, FW = self.filter_shape
        _, out_h, out_w = self.output_shape
        x = _batch(x, C * self.input_shape[1] * self.input_shape[2], "Convolution.forward")
        N = x.shape[0]
        self.W, self.b = self.params[self.w_key], self.params[self.b_key]

        col_W = self.W.T
        if _WITHOUT_COL:
            # PyPy, MicroPython: the same numbers without building col, each
            # nonzero pixel adding into the outputs that read it (a fifth of
            # the work on MNIST); col is made if backward (or you) ask for it
            table = _im2col_table(C, self.input_shape[1], self.input_shape[2], FH, FW,
                                  self.stride, self.pad)
            out = x.gather_product(table, col_W, add=self.b)
            col = None
        else:
            col = im2col(x, (N,) + self.input_shape, FH, FW, self.stride, self.pad)
            out = col @ col_W
            out = out.transpose_blocks(N, add=self.b)

        self.x = x
        self.col = col
        self.col_W = col_W
        return out

    @property
    def col(self):
        """im2col of the last forward pass's x (the book's ``self.col``)."""
        if self._col is None and self.x is not None:
            N = self.x.shape[0]
            FN, C, FH, FW = self.filter_shape
            self._col = im2col(self.x, (N,) + self.input_shape, FH, FW, self.stride, self.pad)
        return self._col

    @col.setter
    def col(self, value):
        self._col = value

    def backward(self, dout, need_dx=True):
        """dW and db (also into ``grads``); returns dx, or None when ``need_dx``
        is false (the first layer: nobody needs the gradient of the images)."""
        with no_cycle_collection():
            return self._backward(dout, need_dx)

    def _backward(self, dout, need_dx):
        if self.x is None:
            raise ValueError("Convolution.backward: call forward first (backward needs x)")
        FN, C, FH, FW = self.filter_shape
        _, out_h, out_w = self.output_shape
        N = self.x.shape[0]
        dout = _dout(dout, (N, FN * out_h * out_w), "Convolution.backward")
        dout_T = _filter_rows(dout, N, FN, out_h * out_w)

        self.db = dout_T.sum(axis=1).T
        self.dW = dout_T @ self.col
        self.grads[self.w_key], self.grads[self.b_key] = self.dW, self.db
        if not need_dx:
            return None
        dcol = dout_T.T @ self.col_W.T
        return col2im(dcol, (N,) + self.input_shape, FH, FW, self.stride, self.pad)


class Pooling:
    """Max pooling (section 7.3): the largest number of each window, per channel.

    ``Pooling(pool_h, pool_w, stride=2, pad=0, input_shape=(C, H, W))``: the
    book's arguments, plus the shape of one input image.

    The book unrolls the windows with im2col, one window of one channel a row
    (``col.reshape(-1, pool_h*pool_w)``), and takes ``np.max`` and
    ``np.argmax`` of each row.  Here the windows are an index table (im2col's,
    cut per channel) and ``Matrix.gather_max`` reads the largest number of
    each without building the rows::

        out, arg_max = x.gather_max(windows)     (N, C*OH*OW) each

    ``arg_max`` (the book's name) holds, for each window, the position of its
    maximum, 0 .. pool_h*pool_w - 1 (the first on ties, as ``np.argmax``); a
    Matrix (N, C*OH*OW), channel first like the output (the book's is a flat
    array in the order image, oy, ox, channel).  Backward sends each window's
    gradient to that position, 0 to the others (``Matrix.scatter_at``, the
    book's ``dmax`` and ``col2im``).  ``pad`` pads with zeros, as the book's
    ``im2col`` does.

    >>> pool = Pooling(2, 2, stride=2, input_shape=(1, 2, 4))
    >>> pool.forward(Matrix([[1.0, 5.0, 2.0, 0.0, 3.0, 4.0, 8.0, 6.0]]))
    Matrix([[5.0, 8.0]])
    >>> pool.arg_max
    Matrix([[1, 2]])
    >>> pool.backward(Matrix([[10.0, 20.0]])).reshape(2, 4)
    Matrix([[0.0, 10.0, 0.0, 0.0], [0.0, 0.0, 20.0, 0.0]])
    """

    def __init__(self, pool_h, pool_w, stride=2, pad=0, input_shape=None):
        what = "Pooling"
        self.pool_h = _positive_int(pool_h, what + ": pool_h")
        self.pool_w = _positive_int(pool_w, what + ": pool_w")
        self.stride = _positive_int(stride, what + ": stride")
        self.pad = _positive_int(pad, what + ": pad", 0)
        C, H, W = self.input_shape = _input_shape(input_shape, what)
        self.output_shape = (C, conv_output_size(H, pool_h, stride, pad),
                             conv_output_size(W, pool_w, stride, pad))
        self.x = None
        self.arg_max = None

    def __repr__(self):
        return ("Pooling(%dx%d, stride=%d, pad=%d: %s -> %s)"
                % (self.pool_h, self.pool_w, self.stride, self.pad,
                   "x".join(str(v) for v in self.input_shape),
                   "x".join(str(v) for v in self.output_shape)))

    def forward(self, x):
        with no_cycle_collection():
            return self._forward(x)

    def _forward(self, x):
        C, H, W = self.input_shape
        x = _batch(x, C * H * W, "Pooling.forward")

        windows = _pool_table(C, H, W, self.pool_h, self.pool_w, self.stride, self.pad)
        out, arg_max = x.gather_max(windows)

        self.x = x
        self.arg_max = arg_max
        return out

    def backward(self, dout):
        with no_cycle_collection():
            return self._backward(dout)

    def _backward(self, dout):
        if self.x is None:
            raise ValueError("Pooling.backward: call forward first (backward needs arg_max)")
        C, H, W = self.input_shape
        _, out_h, out_w = self.output_shape
        dout = _dout(dout, (self.x.shape[0], C * out_h * out_w), "Pooling.backward")

        windows = _pool_table(C, H, W, self.pool_h, self.pool_w, self.stride, self.pad)
        return dout.scatter_at(windows, self.arg_max, C * H * W)
