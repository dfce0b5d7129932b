# %% [markdown]
# # 第7章 畳み込みニューラルネットワーク (Chapter 7: convolutional neural networks)
#
# 畳み込み層とプーリング層、その実装の要である im2col、そして purenn が学習させた SimpleConvNet で手書き数字を認識します。
#
# *The convolution and pooling layers, im2col (the trick that makes a convolution one matrix product), and the SimpleConvNet purenn trained, recognising handwritten digits.*
#
# purenn の行列 `Matrix` は 2 次元です。本では画像のまとまりを 4 次元配列 (N, C, H, W) で持ちますが、purenn では **1 枚の画像を 1 行** にした (N, C×H×W) の行列で持ちます。これは本の `x.reshape(N, -1)` と同じ並びです (チャンネル、行、列の順)。
#
# *A purenn Matrix is 2-D: a batch of images (N, C, H, W) is held as (N, C·H·W), one image a row, in numpy's order: the book's `x.reshape(N, -1)`.*

# %%
from IPython.display import SVG

from purenn import Matrix
from purenn.convnet import (ImageGrid, SHIPPED, SimpleConvNet, activation_images, activations,
                            filter_images, load_network)
from purenn.convolution import Convolution, Pooling, conv_output_size, im2col
from purenn.datasets import load_mnist
from purenn.plot import plot_digit

# %% [markdown]
# ## 7.2 畳み込み層 (The convolution layer)
#
# 出力の大きさ (式 7.1): 入力の高さ H、フィルターの高さ FH、パディング P、ストライド S のとき $OH = \dfrac{H + 2P - FH}{S} + 1$ です。
#
# *The output size, equation 7.1.*

# %%
print("28x28, 5x5 のフィルター          ->", conv_output_size(28, 5))
print("7x7, 3x3, ストライド 2 (stride 2)   ->", conv_output_size(7, 3, stride=2))
print("4x4, 3x3, パディング 1 (pad 1)      ->", conv_output_size(4, 3, pad=1))

# %% [markdown]
# ## 7.4.2 im2col による展開 (Unrolling with im2col)
#
# 本の図 7-3 の例: 4×4 の画像に 3×3 のフィルター (ストライド 1)。`im2col` はフィルターが当たる 3×3 の部分 (パッチ) を 1 つずつ **1 行** に並べます。出力の位置は 2×2 = 4 か所なので、`col` は (4, 9) です。
#
# *Figure 7-3: a 4×4 image and a 3×3 filter. im2col lays each 3×3 patch out as one row: four output positions, so `col` is (4, 9).*

# %%
x = Matrix([[1, 2, 3, 0,
             0, 1, 2, 3,
             3, 0, 1, 2,
             2, 3, 0, 1]])                       # (N, C*H*W) = (1, 1*4*4)
col = im2col(x, (1, 1, 4, 4), 3, 3)              # input_shape (N, C, H, W), FH, FW
print("x:  ", x.shape, "  col:", col.shape)
col

# %% [markdown]
# 形を絵にするとこうなります。左が画像 (4×4)、右が `col` (4 行 × 9 列) です。`col` の 1 行目は画像の左上の 3×3 のパッチ、2 行目はその 1 つ右、... です (濃いほど大きい数)。
#
# *The shapes as a picture: the image (4×4) and `col` (4 rows × 9 columns); row 1 of `col` is the top-left 3×3 patch, row 2 the patch one step right, and so on (darker = larger).*

# %%
grid = ImageGrid([x.reshape(4, 4).tolist(), col.tolist()],
                 titles=["x: 4x4", "col: (4, 9)"], scale="shared", title="im2col")
SVG(grid.to_svg(pixel=24))                       # 24 screen pixels a number

# %% [markdown]
# フィルター (3×3) を 1 行 (1, 9) にすれば、畳み込みは **1 回の行列の積** `col @ W.T` です。結果は本の図 7-3 と同じ 15, 16, 6, 15 になります。
#
# *With the filter as one row (1, 9), the convolution is one matrix product, `col @ W.T`: 15, 16, 6, 15, as in figure 7-3.*

# %%
W = Matrix([[2, 0, 1,
             0, 1, 2,
             1, 0, 2]])                          # (FN, C*FH*FW) = (1, 9)
print(col.shape, "@", W.T.shape, "->", (col @ W.T).shape)
(col @ W.T).reshape(2, 2)

# %% [markdown]
# ## 7.4.3 - 7.4.4 Convolution レイヤと Pooling レイヤ (The Convolution and Pooling layers)
#
# 本の `Convolution(W, b, stride, pad)` は purenn では `Convolution(params, "W", "b", stride, pad, input_shape=(C, H, W), filter_size=FH)` です。行列は変更できないので、レイヤは `params` 辞書からその都度重みを読みます (最適化手法が `params` の中身を置き換えるため)。
#
# 小さな例: 2 チャンネルの 4×4 の画像 2 枚に、3×3 のフィルター 3 枚 (パディング 1)、そして 2×2 の最大値プーリング (ストライド 2)。
#
# *The book's `Convolution(W, b, ...)` becomes `Convolution(params, "W", "b", ..., input_shape=(C, H, W), filter_size=FH)`: a Matrix is immutable, so the layer reads its weights from `params` at each pass. A tiny example: two images of 2 channels of 4×4, three 3×3 filters (pad 1), then 2×2 max pooling.*

# %%
N, C, H, W_ = 2, 2, 4, 4
FN, FH = 3, 3
images = Matrix.uniform(N, C * H * W_, seed=7)   # (2, 2*4*4): one image a row
params = {"W": Matrix.randn(FN, C * FH * FH, std=0.5, seed=8), "b": Matrix.zeros(1, FN)}

conv = Convolution(params, "W", "b", stride=1, pad=1, input_shape=(C, H, W_), filter_size=FH)
pool = Pooling(2, 2, stride=2, input_shape=conv.output_shape)
print(conv)
print(pool)

out = conv.forward(images)
pooled = pool.forward(out)
print("x      ", images.shape, "  = (N, C*H*W)     =", (N, "%d*%d*%d" % (C, H, W_)))
print("col    ", conv.col.shape, " = (N*OH*OW, C*FH*FW)")
print("col_W  ", conv.col_W.shape, "   = (C*FH*FW, FN)")
print("conv   ", out.shape, "  = (N, FN*OH*OW)   =", (N, "%d*%d*%d" % conv.output_shape))
print("pool   ", pooled.shape, "  = (N, FN*OH*OW)   =", (N, "%d*%d*%d" % pool.output_shape))

# %% [markdown]
# プーリングは各チャンネルの 2×2 の窓ごとに最大値を取ります。1 枚目の画像の 1 つ目のチャンネル (4×4) と、そのプーリングの結果 (2×2) です:
#
# *Pooling keeps the largest number of each 2×2 window of each channel: the first channel of image 1 (4×4) and its pooled 2×2.*

# %%
first_conv = out[0:1].reshape(FN, H * W_)[0:1].reshape(H, W_)      # image 1, channel 1
first_pool = pooled[0:1].reshape(FN, 4)[0:1].reshape(2, 2)
print(first_conv.shape, "->", first_pool.shape)
grid = ImageGrid([first_conv.tolist(), first_pool.tolist()], titles=["conv: 4x4", "pool: 2x2"],
                 scale="shared")
SVG(grid.to_svg(pixel=24))

# %% [markdown]
# ### 練習 7: 自分の im2col (Exercise 7: your own im2col)
#
# 下の `my_im2col` は本の式どおりに書いたつもりですが、1 か所間違いがあります。purenn の `im2col` と同じ `col` になるかを、hypothesis がいろいろな画像・フィルター・ストライド・パディングで調べます。
# 反例を読んで直してみましょう (ヒント: パッチの左上の位置はストライドに比例します)。
#
# *`my_im2col` has one bug. hypothesis compares it with purenn's `im2col` over many images, filters, strides and pads; read the counterexample and fix it (hint: a patch's top-left corner moves by the stride).*

# %%
from hypothesis import Phase, given, settings, strategies as st
from purenn.testing import assert_allclose, counterexample, matrices

SETTINGS = settings(max_examples=60, deadline=None, database=None, derandomize=True,
                    phases=[Phase.explicit, Phase.generate, Phase.shrink])


def my_im2col(x, input_shape, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    rows = []
    for image in x.tolist():                          # one image: a list of C*H*W numbers
        for oy in range(out_h):
            for ox in range(out_w):
                patch = []
                for c in range(C):
                    for fy in range(filter_h):
                        for fx in range(filter_w):
                            y = oy + fy - pad        # ← ここが間違い (the bug is here)
                            x_ = ox * stride + fx - pad
                            inside = 0 <= y < H and 0 <= x_ < W
                            patch.append(image[c * H * W + y * W + x_] if inside else 0)
                rows.append(patch)
    return Matrix(rows)


@st.composite
def conv_cases(draw):
    """(x, input_shape, FH, FW, stride, pad): small images and a filter that fits."""
    N, C = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    H, W = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    pad, stride = draw(st.integers(0, 1)), draw(st.integers(1, 3))
    FH, FW = draw(st.integers(1, H + 2 * pad)), draw(st.integers(1, W + 2 * pad))
    x = draw(matrices((N, C * H * W), kind="int", min_value=0, max_value=9))
    return x, (N, C, H, W), FH, FW, stride, pad


def check(im2col_function):
    """purenn の im2col と同じ col になるか (the same col as purenn's?)"""
    @SETTINGS
    @given(conv_cases())
    def test_same_col_as_purenn(case):
        x, shape, FH, FW, stride, pad = case
        assert_allclose(im2col_function(x, shape, FH, FW, stride, pad),
                        im2col(x, shape, FH, FW, stride, pad))

    found = counterexample(test_same_col_as_purenn)
    if found:
        print("反例が見つかった (hypothesis found a counterexample):\n" + found)
    else:
        print("合格: 反例は見つからなかった (passed: no counterexample found)")


check(my_im2col)

# %% [markdown]
# 直したら (`y = oy * stride + fy - pad`)、もう一度 `check(my_im2col)` を実行してください。purenn 自身の `im2col` は当然合格します。
#
# もう一つの性質: **畳み込み = im2col + 行列の積**。Convolution レイヤの出力が、`col @ W.T` (+ b) を並べ替えたものと一致するかを調べます。
#
# *Fixed (`y = oy * stride + fy - pad`), run `check(my_im2col)` again; purenn's own passes. A second law: convolution = im2col + a matrix product; the layer's output is `col @ W.T + b`, rearranged channel first.*

# %%
check(im2col)


@SETTINGS
@given(conv_cases(), st.integers(1, 3))
def test_convolution_is_im2col_then_product(case, FN):
    x, (N, C, H, W), FH, FW, stride, pad = case
    params = {"W": Matrix.uniform(FN, C * FH * FW, low=-1, high=1, seed=FN),
              "b": Matrix.uniform(1, FN, seed=FN + 1)}
    layer = Convolution(params, "W", "b", stride, pad, input_shape=(C, H, W),
                        filter_size=(FH, FW))
    out = layer.forward(x)                                    # (N, FN*OH*OW)
    product = im2col(x, (N, C, H, W), FH, FW, stride, pad) @ params["W"].T + params["b"]
    P = product.shape[0] // N                                 # OH*OW positions an image
    # row n*P + p, column f of the product is out[n, f*P + p]
    expected = [[product[n * P + p, f] for f in range(FN) for p in range(P)] for n in range(N)]
    assert_allclose(out, Matrix(expected))


found = counterexample(test_convolution_is_im2col_then_product)
print(found or "合格: Convolution の出力 = im2col + 行列の積 (passed)")

# %% [markdown]
# ## 7.5 CNN の実装 (The SimpleConvNet)
#
# 本の SimpleConvNet: Conv (5×5 のフィルター 30 枚) - ReLU - Pooling (2×2) - Affine (100) - ReLU - Affine (10) - Softmax。
# purenn はこのネットワークを MNIST の訓練画像 60,000 枚で学習させ、その重みを同梱しています (`SHIPPED`)。各レイヤの形は:
#
# *The book's SimpleConvNet. purenn trained it on the 60,000 MNIST training images and ships the weights (`SHIPPED`). One test image through it, layer by layer (`activations`), with the shape after each:*

# %%
x_test, t_test = load_mnist(kind="test", normalize=True)
net = load_network(SHIPPED)
print("input     (1, 784)    1x28x28")
for name, values, shape in activations(net, x_test[0:1]):
    print("%-9s %-11s %s" % (name, values.shape, "x".join(str(v) for v in shape)))
print({key: value.shape for key, value in net.params.items()})
print("学習 (trained by):", net.notes.get("command"))
print("テスト画像 10,000 枚の正解数 (test images right when saved):", net.notes.get("test_correct"))

# %% [markdown]
# 同梱のテスト画像のうち最初の `N` 枚を分類します。純粋な Python なので 1 枚に数十ミリ秒かかります (ブラウザではその数倍)。
#
# *Classify the first `N` bundled test images: tens of milliseconds an image in pure Python (several times that in a browser).*

# %%
N = 20
predicted = net.predictions(x_test[0:N])
correct = sum(1 for p, t in zip(predicted, t_test[:N]) if p == t)
print("予測 (predicted):", predicted)
print("正解 (labels):   ", t_test[:N])
print("%d 枚中 %d 枚正解 (%d of %d right): accuracy %.2f" % (N, correct, correct, N, correct / N))

# %%
plot_digit(x_test[0], label=t_test[0])

# %% [markdown]
# ## 7.6.1 1 層目の重みの可視化 (Conv1's filters)
#
# 学習前 (ランダム) と学習後の 30 枚の 5×5 フィルターです (濃いほど大きい重み)。学習後のフィルターは、縦や横のエッジ、かたまり (ブロブ) に反応するようになっています。コマンドラインでは `python -m purenn convnet filters` で同じ図が出ます。
#
# *The 30 5×5 filters before (random) and after learning (darker = larger weight): learnt ones respond to edges and blobs. `python -m purenn convnet filters` draws the same.*

# %%
conv1 = net.layers["Conv1"]
before = SimpleConvNet(**dict(net.config, seed=net.notes.get("seed", 0))).params["W1"]
filter_images(before, conv1.filter_shape, title="Conv1, before learning (random)")

# %%
filter_images(net.params["W1"], conv1.filter_shape, title="Conv1, after learning")

# %% [markdown]
# ## 7.6.2 階層構造による情報抽出 (What the layers extract)
#
# テスト画像 1 枚 (7) がプーリング層を通った後の 30 チャンネル (12×12) です。チャンネルごとに、画像の違う部分 (縦の線、横の線、端) が強く出ています。`python -m purenn convnet activations` はすべての層を描きます。
#
# *Test image 0 (a 7) after Pool1: 30 channels of 12×12, each bringing out other parts (strokes, edges). `python -m purenn convnet activations` draws every layer.*

# %%
name, values, shape = activations(net, x_test[0:1])[2]       # Conv1, Relu1, Pool1, ...
SVG(activation_images("after " + name, values, shape, columns=10).to_svg(pixel=5))
