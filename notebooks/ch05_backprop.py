# %% [markdown]
# # 第5章 誤差逆伝播法 (Chapter 5: backpropagation)
#
# 計算グラフを右から左へたどり、局所的な微分を掛けていくと、すべての勾配が一度に求まります (連鎖律)。
# 本のりんごとみかんの例から、レイヤの実装、そして数値微分との比較 (勾配確認) まで。
#
# *Walk the computational graph from right to left, multiplying local derivatives (the chain rule), and every gradient comes out at once.*

# %%
from purenn import Matrix, TwoLayerNet
from purenn.layers import Affine, AddLayer, MulLayer, Relu, Sigmoid, SoftmaxWithLoss

# %% [markdown]
# ## 5.4 単純なレイヤの実装 (Simple layers)
#
# りんご 2 個 (1 個 100 円)、消費税 10%。`forward` で支払う金額を、`backward` で各入力についての微分を求めます。
#
# *2 apples at 100 yen, 10 % tax: `forward` gives the price, `backward` the derivative with respect to each input.*

# %%
apple, apple_num, tax = 100, 2, 1.1

mul_apple_layer = MulLayer()
mul_tax_layer = MulLayer()

apple_price = mul_apple_layer.forward(apple, apple_num)
price = mul_tax_layer.forward(apple_price, tax)
print(price)                       # 本の出力: 220.00000000000003

dprice = 1
dapple_price, dtax = mul_tax_layer.backward(dprice)
dapple, dapple_num = mul_apple_layer.backward(dapple_price)
print(dapple, dapple_num, dtax)    # 2.2 110.00000000000001 200

# %% [markdown]
# `220.00000000000003` の最後の 3 は、`1.1` が 2 進数でぴったり表せないための丸め誤差です (本の出力も同じです)。
#
# りんごとみかん (5.4.2): 足し算のノード `AddLayer` は、上流の微分をそのまま両方に流します。
#
# *The trailing 3 is rounding: 1.1 has no exact binary form (the book prints the same). Apples and oranges: the add node passes the derivative on to both inputs.*

# %%
orange, orange_num = 150, 3
mul_apple, mul_orange, add_fruit, mul_tax = MulLayer(), MulLayer(), AddLayer(), MulLayer()

all_price = add_fruit.forward(mul_apple.forward(apple, apple_num),
                              mul_orange.forward(orange, orange_num))
price = mul_tax.forward(all_price, tax)

dall_price, dtax = mul_tax.backward(1)
dapple_price, dorange_price = add_fruit.backward(dall_price)
dorange, dorange_num = mul_orange.backward(dorange_price)
dapple, dapple_num = mul_apple.backward(dapple_price)
print(price)
print(dapple_num, dapple, dorange, dorange_num, dtax)

# %% [markdown]
# ### 練習 5: 自分の乗算レイヤ (Exercise 5: your own multiplication layer)
#
# `MyMulLayer` の `backward` には間違いがあります。$\partial(xy)/\partial x = y$ なので、x 側には `dout * y` を返すはずです。
# 「backward は数値微分と同じ」という性質を hypothesis で調べると、どの入力で間違うかを見せてくれます。
#
# *`MyMulLayer.backward` has a bug: d(xy)/dx = y, so the x side should get `dout * y`. Hypothesis checks "backward equals the numerical derivative" and shows where it breaks.*

# %%
from hypothesis import Phase, given, settings
from purenn import numerical_diff
from purenn.testing import assert_allclose, counterexample, elements

# derandomize: the same examples every run; no "explain" phase: just the counterexample
SETTINGS = settings(max_examples=100, deadline=None, database=None, derandomize=True,
                    phases=[Phase.explicit, Phase.generate, Phase.shrink])


class MyMulLayer:
    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, dout):
        dx = dout * self.x               # ← 間違い (the bug): dout * self.y が正しい
        dy = dout * self.x
        return dx, dy


def check(layer_class):
    """backward の dx, dy が数値微分と合うか (do dx, dy agree with numerical derivatives?)"""
    @SETTINGS
    @given(elements("float", -100, 100), elements("float", -100, 100))
    def test_backward_matches_numerical_diff(x, y):
        layer = layer_class()
        layer.forward(x, y)
        dx, dy = layer.backward(1.0)
        assert_allclose(dx, numerical_diff(lambda v: layer_class().forward(v, y), x),
                        rel_tol=1e-6, abs_tol=1e-6)
        assert_allclose(dy, numerical_diff(lambda v: layer_class().forward(x, v), y),
                        rel_tol=1e-6, abs_tol=1e-6)

    found = counterexample(test_backward_matches_numerical_diff)
    if found:
        print("反例が見つかった (hypothesis found a counterexample):\n" + found)
    else:
        print("合格: 反例は見つからなかった (passed: no counterexample found)")


check(MyMulLayer)
check(MulLayer)                          # purenn の MulLayer は合格 (purenn's passes)

# %% [markdown]
# ## 5.5 活性化関数レイヤの実装 (Activation layers)
#
# ReLU レイヤは、forward で 0 以下だった場所 (`mask`) では、backward で勾配を止めます:
#
# *The ReLU layer stops the gradient where the forward input was <= 0:*

# %%
relu = Relu()
x = Matrix([[1.0, -0.5], [-2.0, 3.0]])
print(relu.forward(x))
print(relu.backward(Matrix([[10.0, 10.0], [10.0, 10.0]])))

# %% [markdown]
# Sigmoid レイヤの backward は $\dfrac{\partial L}{\partial y} y(1 - y)$ です。出力 $y$ だけで計算できます:
#
# *The sigmoid layer's backward is dout · y(1 − y): the output alone is enough.*

# %%
sig = Sigmoid()
y = sig.forward(Matrix([[0.0, 2.0]]))
print(y, sig.backward(Matrix([[1.0, 1.0]])))

# %% [markdown]
# ## 5.6 Affine / Softmax レイヤの実装 (Affine and Softmax-with-Loss layers)
#
# Affine レイヤは $Y = X \cdot W + B$。backward の形に注目してください: $\dfrac{\partial L}{\partial X} = \dfrac{\partial L}{\partial Y} W^T$ は X と同じ形、$\dfrac{\partial L}{\partial W} = X^T \dfrac{\partial L}{\partial Y}$ は W と同じ形です。
#
# purenn の `Matrix` は変更できない (immutable) ので、重みは辞書 `params` に入れ、レイヤはその名前で読みます: `Affine(params, "W1", "b1")`。
#
# *Affine: Y = X·W + B; each gradient has the shape of what it is the gradient of. A `Matrix` is immutable, so the weights live in a dict and the layer reads them by name.*

# %%
params = {"W1": Matrix([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]]), "b1": Matrix([[0.1, 0.2, 0.3]])}
affine = Affine(params, "W1", "b1")
X = Matrix([[1.0, 0.5], [0.0, 1.0]])                  # (2, 2): 2 個のデータ (a batch of 2)
Y = affine.forward(X)
dX = affine.backward(Matrix.ones(2, 3))
dW, db = affine.grads["W1"], affine.grads["b1"]     # 本の affine.dW, affine.db
print("Y", Y.shape, "dX", dX.shape, "dW", dW.shape, "db", db.shape)
dW

# %% [markdown]
# Softmax-with-Loss レイヤの backward は、きれいな $(y - t) / N$ になります:
#
# *The Softmax-with-Loss layer's backward is the neat (y − t) / N:*

# %%
last = SoftmaxWithLoss()
loss = last.forward(Matrix([[0.3, 2.9, 4.0]]), [2])
print("loss", loss)
last.backward()

# %% [markdown]
# ## 5.7 誤差逆伝播法の実装 (Backpropagation in a network): 勾配確認 (gradient check)
#
# 2 層のネットワークで、誤差逆伝播法の勾配 (`gradient`) と数値微分の勾配 (`numerical_gradient`) を比べます。差はとても小さいはずです:
#
# *On a two-layer network, compare backprop's gradient with the numerical one: the differences should be tiny.*

# %%
net = TwoLayerNet(input_size=4, hidden_size=5, output_size=3, seed=0)
x = Matrix([[0.1, 0.9, 0.3, 0.5], [0.8, 0.2, 0.6, 0.1]])
t = [2, 0]
grad_backprop = net.gradient(x, t)
grad_numerical = net.numerical_gradient(x, t)
for key in ("W1", "b1", "W2", "b2"):
    diff = max(abs(v) for row in (grad_backprop[key] - grad_numerical[key]).tolist() for v in row)
    print(key, "max |backprop - numerical| =", "%.1e" % diff)
    assert diff < 1e-7
