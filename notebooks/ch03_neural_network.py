# %% [markdown]
# # 第3章 ニューラルネットワーク (Chapter 3: neural networks)
#
# 活性化関数、行列の積、3 層ニューラルネットワーク、ソフトマックス関数、そして手書き数字の認識 (MNIST) までを、purenn で実際に計算します。
# 行列は表として、グラフは図として、このノートブックの中に表示されます。
#
# *Activation functions, the matrix product, the 3-layer network, softmax, and handwritten digit recognition with MNIST. Matrices show as tables, plots as figures.*

# %%
from purenn import (Matrix, ShapeError, forward, identity_function, init_network, relu,
                    sigmoid, softmax, step_function)
from purenn.explain import explain
from purenn.plot import plot_digit, plot_functions, plot_softmax

# %% [markdown]
# ## 3.2 活性化関数 (Activation functions)
#
# パーセプトロンのステップ関数を、なめらかなシグモイド関数 $h(x) = \dfrac{1}{1 + \exp(-x)}$ に替えると、ニューラルネットワークになります。
# 本の図 3-8 (ステップ関数とシグモイド関数の比較) です:
#
# *Replace the perceptron's step function by the smooth sigmoid and you have a neural network. The book's figure 3-8:*

# %%
plot_functions("sigmoid", "step_function")

# %%
step_function(0.0), sigmoid(0.0), sigmoid(Matrix([[-1.0, 1.0, 2.0]]))

# %% [markdown]
# ReLU 関数 (3.2.7) は、入力が 0 より大きければそのまま、0 以下なら 0 を出力します:
#
# *ReLU passes positive inputs and gives 0 otherwise:*

# %%
plot_functions("relu", xmin=-6, xmax=6)

# %% [markdown]
# ## 3.3 多次元配列の計算 (Multi-dimensional arrays)
#
# purenn の `Matrix` は numpy の配列の代わりです。いつも 2 次元で、`A.shape` は (行, 列) です。ノートブックでは表として表示されます。
#
# *purenn's `Matrix` stands in for numpy's arrays: always 2-D. A notebook shows it as a table.*

# %%
A = Matrix([[1, 2], [3, 4]])
B = Matrix([[5, 6], [7, 8]])
A

# %% [markdown]
# 行列の積 `A @ B` (本の `np.dot(A, B)`)。一つひとつの要素は「積の和」です。`explain` がそれを書き出します:
#
# *The product `A @ B` (the book's `np.dot(A, B)`); every element is a sum of products:*

# %%
explain(A, B)

# %% [markdown]
# 形が合わないとき (左の列の数 ≠ 右の行の数) は、両方の形を示すエラーになります:
#
# *When the shapes do not fit, the error names both:*

# %%
try:
    Matrix([[1, 2, 3]]) @ A
except ShapeError as e:
    print("ShapeError:", e)

# %% [markdown]
# ## 3.4 3 層ニューラルネットワークの実装 (The 3-layer network)
#
# 本の `init_network()` の重みです。`W1` は (2, 3): 入力 2 つから、第 1 層のニューロン 3 つへ。
#
# *The book's weights. `W1` is (2, 3): from 2 inputs to the 3 neurons of layer 1.*

# %%
network = init_network()
network["W1"]

# %% [markdown]
# ### 3.4.1 記号の確認 (Notation)
#
# 本の $w_{12}^{(1)}$ は「第 1 層の重みで、前の層の 2 番目のニューロン ($x_2$) から、次の層の 1 番目のニューロン ($a_1^{(1)}$) へ」の重みです。
# 添字は「次の層の番号、前の層の番号」の順です。`x @ W1` の形では、行が前の層 (入力)、列が次の層なので、**`W1[1, 0]`** (0 から数える) です:
#
# *The book's $w_{12}^{(1)}$ goes from the 2nd neuron of the previous layer ($x_2$) to the 1st neuron of the next ($a_1^{(1)}$): next index first. With `x @ W1`, rows are the previous layer and columns the next, so it is `W1[1, 0]` (counting from 0):*

# %%
W1 = network["W1"]
w12 = W1[1, 0]          # x2 -> a1 の重み (the weight from x2 to a1)
w12

# %% [markdown]
# $a_1^{(1)} = w_{11}^{(1)} x_1 + w_{12}^{(1)} x_2 + b_1^{(1)}$ を、入力 $x = (1.0, 0.5)$ で手計算すると $1.0 \times 0.1 + 0.5 \times 0.2 + 0.1 = 0.3$。
# `explain` が全部の層を同じように計算します。最後の値は `forward` が返す値そのものです:
#
# *By hand, $a_1^{(1)} = 1.0×0.1 + 0.5×0.2 + 0.1 = 0.3$; `explain` does every layer so, and ends at the very value `forward` returns:*

# %%
x = Matrix([1.0, 0.5])            # 平らなリストは (1, 2) の行 (a flat list is a (1, 2) row)
a1 = x @ W1 + network["b1"]
print("a1[0] =", x[0, 0], "×", W1[0, 0], "+", x[0, 1], "×", W1[1, 0], "+", network["b1"][0, 0],
      "=", a1[0, 0])
explain(network, x)

# %%
y = forward(network, [1.0, 0.5])
print(y)                          # 本の出力: [0.31682708 0.69627909]
y

# %% [markdown]
# ## 3.5 出力層の設計 (The output layer)
#
# 分類では、出力層にソフトマックス関数 $y_k = \dfrac{\exp(a_k)}{\sum_i \exp(a_i)}$ を使います。出力は 0 から 1 の間で、合計は 1 です (確率として読めます)。
#
# *For classification the output layer is softmax: outputs between 0 and 1 that sum to 1.*

# %%
y = softmax([0.3, 2.9, 4.0])      # 本の例 (the book's example)
print(y, sum(y))
plot_softmax([0.3, 2.9, 4.0])

# %% [markdown]
# ### 練習 3: 自分の softmax を書く (Exercise 3: write your own softmax)
#
# 本の式をそのまま書いた `my_softmax` です。正しそうに見えますが…。
# 「どの行も合計が 1」という性質 (プロパティ) を、hypothesis にいろいろな行列で試してもらいます。反例 (falsifying example) が見つかると、いちばん簡単な形まで縮めて見せてくれます。
#
# *`my_softmax`, the formula as written. Looks right... Hypothesis tries the law "every row sums to 1" on many matrices and shows the simplest counterexample it finds.*

# %%
import math

from hypothesis import Phase, given, settings
from purenn.testing import assert_allclose, counterexample, matrices

# derandomize: the same examples every run; no "explain" phase: just the counterexample
SETTINGS = settings(max_examples=100, deadline=None, database=None, derandomize=True,
                    phases=[Phase.explicit, Phase.generate, Phase.shrink])


def my_softmax(a):
    """a: (N, M) の Matrix。行ごとに exp(a_k) / Σ exp(a_i) (row by row)."""
    rows = []
    for row in a.tolist():
        e = [math.exp(v) for v in row]
        s = sum(e)
        rows.append([v / s for v in e])
    return Matrix(rows)


def check(softmax_function):
    """softmax_function の各行の合計が 1 か、hypothesis で調べる (do rows sum to 1?)"""
    @SETTINGS
    @given(matrices(kind="float", min_value=-1000, max_value=1000))
    def test_rows_sum_to_one(a):
        y = softmax_function(a)
        assert_allclose(y.sum(axis=1), Matrix.ones(a.shape[0], 1))

    found = counterexample(test_rows_sum_to_one)
    if found:
        print("反例が見つかった (hypothesis found a counterexample):\n" + found)
    else:
        print("合格: 反例は見つからなかった (passed: no counterexample found)")


check(my_softmax)

# %% [markdown]
# `math.exp(710)` は大きすぎて表せず、`OverflowError` になります (numpy なら `inf` と `nan`)。本の 3.5.2 節の工夫: 最大値を引いてから exp を取ります。
# $\exp(a_k - C) / \sum_i \exp(a_i - C)$ は、どんな $C$ でも同じ値です。直した版は合格します:
#
# *`math.exp(710)` overflows. The book's fix (3.5.2): subtract the maximum first; the value does not change. The fixed version passes:*

# %%
def my_softmax_fixed(a):
    rows = []
    for row in a.tolist():
        c = max(row)                          # 最大値を引く (subtract the maximum)
        e = [math.exp(v - c) for v in row]
        s = sum(e)
        rows.append([v / s for v in e])
    return Matrix(rows)


check(my_softmax_fixed)
check(softmax)                                # purenn の softmax も (purenn's own, too)

# %% [markdown]
# ## 3.6 手書き数字認識 (Handwritten digit recognition)
#
# MNIST のテスト画像 10,000 枚は purenn の中に入っています。ダウンロードはいりません。`kind="test"` がテスト用のデータです。
# 画像は 28×28 ピクセルで、`flatten=True` (既定) では 784 個の数の行になります。
#
# *The 10,000 MNIST test images ship inside purenn: no download. Each is 28×28 pixels, a row of 784 numbers.*

# %%
from purenn.datasets import load_mnist

x_test, t_test = load_mnist(kind="test", normalize=True, flatten=True, one_hot_label=False)
print(x_test.shape, t_test[:10])
plot_digit(x_test[0], label=t_test[0])

# %% [markdown]
# 学習済みの重みは、本の `sample_weight.pkl` と同じ 784-50-100-10 のシグモイドのネットワークを purenn 自身が学習したものです (purenn に入っています)。
# 本の `sample_weight.pkl` を持っていれば、`purenn.pickles.load_book_weights("sample_weight.pkl")` で同じように使えます (10,000 枚で正解率 0.9352)。
#
# *The trained weights: the book's 784-50-100-10 sigmoid network, trained by purenn itself (it ships inside). With the book's own `sample_weight.pkl`, use `purenn.pickles.load_book_weights` (accuracy 0.9352 on all 10,000).*

# %%
from purenn.recognize import BUNDLED_WEIGHTS
from purenn.weights import load_params

network, meta = load_params(BUNDLED_WEIGHTS)
{name: w.shape for name, w in network.items()}

# %% [markdown]
# 本の `predict` と、バッチ処理のループ (3.6.3) です。`np.dot(x, W1)` は `x @ W1`、`np.argmax(y, axis=1)` は `y.argmax(axis=1)` (リストを返します)。
# 純粋な Python なので、最初の `N` 枚にしています。`N = 10000` にすると全部です (少し時間がかかります)。
#
# *The book's `predict` and its batch loop. Pure Python is slow, so the first `N` images; set `N = 10000` for all of them.*

# %%
def predict(network, x):
    W1, W2, W3 = network["W1"], network["W2"], network["W3"]
    b1, b2, b3 = network["b1"], network["b2"], network["b3"]
    a1 = x @ W1 + b1              # (100, 784) @ (784, 50) + (1, 50) -> (100, 50)
    z1 = sigmoid(a1)
    a2 = z1 @ W2 + b2             # (100, 50) @ (50, 100) -> (100, 100)
    z2 = sigmoid(a2)
    a3 = z2 @ W3 + b3             # (100, 100) @ (100, 10) -> (100, 10)
    y = softmax(a3)
    return y


N = 1000
x, t = x_test[0:N], t_test[0:N]

batch_size = 100
accuracy_cnt = 0
for i in range(0, len(x), batch_size):
    x_batch = x[i:i + batch_size]
    y_batch = predict(network, x_batch)
    p = y_batch.argmax(axis=1)
    accuracy_cnt += sum(1 for a, b in zip(p, t[i:i + batch_size]) if a == b)

print("Accuracy:" + str(float(accuracy_cnt) / len(x)))

# %% [markdown]
# 間違えた画像を 1 枚見てみましょう。ネットワークの答えと正解のラベル、それに 10 個の出力 (確率) です:
#
# *One image the network got wrong: its answer, the true label, and its ten probabilities:*

# %%
from purenn.plot import plot_bars

y_all = predict(network, x)
guesses = y_all.argmax(axis=1)
wrong = [i for i in range(len(x)) if guesses[i] != t[i]]
i = wrong[0]
print("画像 %d: 答え %d、正解 %d (image %d: answered %d, label %d)" % (i, guesses[i], t[i], i, guesses[i], t[i]))
plot_digit(x[i], label=t[i])

# %%
plot_bars(list(y_all[i:i + 1].tolist()[0]), labels=[str(k) for k in range(10)],
          title="image %d: the network's probabilities" % i)
