# %% [markdown]
# # 第4章 ニューラルネットワークの学習 (Chapter 4: learning from data)
#
# 「学習」とは、損失関数の値が小さくなるように重みを少しずつ変えることです。損失関数、数値微分、勾配、勾配降下法を順に計算します。
#
# *Learning means changing the weights, a little at a time, so that a loss gets smaller: losses, numerical derivatives, gradients, gradient descent.*

# %%
from purenn import Matrix, TwoLayerNet, gradient_descent, numerical_diff, numerical_gradient
from purenn.losses import cross_entropy_error, sum_squared_error
from purenn.plot import LinePlot, plot_lines

# %% [markdown]
# ## 4.2 損失関数 (Loss functions)
#
# 本の例: 正解は「2」(one-hot 表現 `t`)。`y` はネットワークの出力 (ソフトマックスの確率) です。
# 2 乗和誤差 $E = \frac{1}{2}\sum_k (y_k - t_k)^2$ と、交差エントロピー誤差 $E = -\sum_k t_k \log y_k$:
#
# *The book's example: the answer is "2" (one-hot `t`); `y` is the network's output. Sum of squared errors and cross-entropy:*

# %%
t = [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
y = [0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]      # 「2」の確率が最も高い
print(sum_squared_error(y, t), cross_entropy_error(y, t))

y = [0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0]      # 「7」の確率が最も高い
print(sum_squared_error(y, t), cross_entropy_error(y, t))

# %% [markdown]
# 答えが外れると、どちらの損失も大きくなります。交差エントロピーは $-\log y_k$ なので、正解の確率 $y_k$ が 0 に近いほど急に大きくなります:
#
# *A wrong answer makes both losses larger. Cross-entropy, $-\log y_k$, grows fast as the right class's probability nears 0:*

# %%
import math

ps = [i / 100 for i in range(1, 101)]
plot_lines({"-log(y)": [-math.log(p) for p in ps]}, x=ps, xlabel="y (正解の確率)",
           title="cross-entropy of one answer")

# %% [markdown]
# ## 4.3 数値微分 (Numerical differentiation)
#
# 微分 (傾き) を、小さな $h$ での差で近似します。本と同じ中心差分 $\dfrac{f(x+h) - f(x-h)}{2h}$、$h = 10^{-4}$ です。
# 本の例 $f(x) = 0.01x^2 + 0.1x$ の、$x = 5$ と $x = 10$ での傾き (真の値は 0.2 と 0.3):
#
# *The slope, approximated by a difference with a small h: the book's central difference with h = 1e-4. At 5 and 10 the true slopes are 0.2 and 0.3:*

# %%
def function_1(x):
    return 0.01 * x ** 2 + 0.1 * x


print(numerical_diff(function_1, 5), numerical_diff(function_1, 10))

# %% [markdown]
# 本の図 4-7: $x = 5$ での接線です。
#
# *The book's figure 4-7: the tangent at x = 5.*

# %%
xs = [i / 10 for i in range(0, 201)]
slope = numerical_diff(function_1, 5)
tangent = [slope * (x - 5) + function_1(5) for x in xs]
plot_lines({"f(x)": [function_1(x) for x in xs], "tangent at 5": tangent}, x=xs, xlabel="x")

# %% [markdown]
# ### 練習 4: 自分の数値微分 (Exercise 4: your own numerical derivative)
#
# 本の 4.3.1 節の「悪い例」をそのまま書いた `my_diff` です。$h = 10^{-50}$ はとても小さく見えますが…。
# 2 次関数 $f(x) = ax^2 + bx$ の傾きは $2ax + b$ です。この性質を hypothesis に確かめてもらいましょう。
#
# *`my_diff` is the book's "bad example" of 4.3.1. For $f(x) = ax^2 + bx$ the slope is $2ax + b$; hypothesis checks that law:*

# %%
from hypothesis import Phase, given, settings
from purenn.testing import assert_allclose, counterexample, elements

# derandomize: the same examples every run; no "explain" phase: just the counterexample
SETTINGS = settings(max_examples=100, deadline=None, database=None, derandomize=True,
                    phases=[Phase.explicit, Phase.generate, Phase.shrink])


def my_diff(f, x):
    h = 1e-50                              # 悪い例: 小さすぎる h (too small)
    return (f(x + h) - f(x)) / h


def check(diff):
    """diff が 2 次関数の傾きを (誤差 1e-6 以内で) 出すか (does diff get the slope of ax² + bx?)"""
    @SETTINGS
    @given(elements("float", -10, 10), elements("float", -10, 10), elements("float", -10, 10))
    def test_slope_of_a_quadratic(a, b, x):
        def f(v):
            return a * v * v + b * v
        assert_allclose(diff(f, x), 2 * a * x + b, rel_tol=1e-6, abs_tol=1e-6)

    found = counterexample(test_slope_of_a_quadratic)
    if found:
        print("反例が見つかった (hypothesis found a counterexample):\n" + found)
    else:
        print("合格: 反例は見つからなかった (passed: no counterexample found)")


check(my_diff)

# %% [markdown]
# `x + 1e-50` は、浮動小数点数では `x` と同じ数になってしまいます (丸め誤差)。だから差は 0 です。$h = 10^{-4}$ の中心差分なら合格します:
#
# *In floating point `x + 1e-50` is `x` again (rounding), so the difference is 0. The central difference with h = 1e-4 passes:*

# %%
print(5 + 1e-50 == 5)
check(numerical_diff)

# %% [markdown]
# ## 4.4 勾配 (The gradient)
#
# すべての変数の偏微分をまとめたものが勾配です。$f(x_0, x_1) = x_0^2 + x_1^2$ の、点 (3, 4) での勾配は (6, 8):
#
# *All partial derivatives together: the gradient. For $x_0^2 + x_1^2$ at (3, 4) it is (6, 8):*

# %%
def function_2(x):
    return x[0, 0] ** 2 + x[0, 1] ** 2


numerical_gradient(function_2, Matrix([3.0, 4.0]))

# %% [markdown]
# ### 4.4.1 勾配法 (Gradient descent)
#
# 勾配の逆向きに少しずつ進みます: $x \leftarrow x - \eta \nabla f(x)$。$\eta$ (`lr`) は学習率です。
# (-3, 4) から 100 歩。学習率が大きすぎると発散し、小さすぎるとほとんど動きません:
#
# *Step against the gradient, $x ← x - η ∇f(x)$, 100 times from (-3, 4). Too large a learning rate diverges, too small hardly moves:*

# %%
for lr in (0.1, 10.0, 1e-10):
    print("lr =", lr, "->", gradient_descent(function_2, [-3.0, 4.0], lr=lr, step_num=100))

# %% [markdown]
# 本の図 4-10: 勾配法で (0, 0) に近づいていく道筋です。
#
# *The book's figure 4-10: the path towards (0, 0).*

# %%
history = []
gradient_descent(function_2, [-3.0, 4.0], lr=0.1, step_num=20, history=history)
LinePlot([("lr = 0.1", [p[0, 0] for p in history], [p[0, 1] for p in history])],
         title="gradient descent from (-3, 4)", xlabel="x0", ylabel="x1")

# %% [markdown]
# ## 4.4.2 ニューラルネットワークに対する勾配 (The gradient of a network)
#
# ネットワークの重み `W` も、損失関数の変数です。`TwoLayerNet` (本の 4.5 節) の損失と、その重みについての数値微分の勾配です。
# 数値微分は、重み 1 つにつき損失を 2 回計算するので遅い方法です。次の章の誤差逆伝播法は、同じ勾配をずっと速く求めます。
#
# *The weights are variables of the loss too. The numerical gradient needs two loss evaluations per weight: slow. Backpropagation (next chapter) gets the same gradient much faster.*

# %%
net = TwoLayerNet(input_size=4, hidden_size=5, output_size=3, seed=0)
x = Matrix([[0.1, 0.9, 0.3, 0.5], [0.8, 0.2, 0.6, 0.0]])
t = [2, 0]
print("loss:", net.loss(x, t))
grads = net.numerical_gradient(x, t)
{name: g.shape for name, g in grads.items()}

# %%
grads["W2"]
