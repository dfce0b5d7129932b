# %% [markdown]
# # 第6章 学習に関するテクニック (Chapter 6: techniques for training)
#
# 重みの更新方法 (最適化手法)、重みの初期値、Batch Normalization、そして実際に手書き数字を学習させます。
#
# *Optimisers, initial weights, batch normalization, and a real training run on handwritten digits.*

# %%
from purenn import SGD, AdaGrad, Adam, Matrix, Momentum, MultiLayerNet, Trainer, sigmoid
from purenn.plot import LinePlot, plot_bars, plot_lines

# %% [markdown]
# ## 6.1 パラメータの更新 (Updating the parameters)
#
# 本の 6.1.7 節の比較: $f(x, y) = \dfrac{x^2}{20} + y^2$ を (-7, 2) から 30 歩。横に長い谷なので、SGD はジグザグに進みます。
# 学習率は本の図 6-8 と同じです。どの最適化手法も `update(params, grads)` で `params` の値を新しい行列に置き換えます。
#
# *The book's comparison: $x^2/20 + y^2$ from (-7, 2), 30 steps, the learning rates of figure 6-8. SGD zigzags down the long valley.*

# %%
def f(x, y):
    return x * x / 20.0 + y * y


def df(x, y):
    return x / 10.0, 2.0 * y


optimizers = {"SGD": SGD(lr=0.95), "Momentum": Momentum(lr=0.1),
              "AdaGrad": AdaGrad(lr=1.5), "Adam": Adam(lr=0.3)}
paths = {}
for name, optimizer in optimizers.items():
    params = {"x": Matrix([[-7.0]]), "y": Matrix([[2.0]])}
    path = [(-7.0, 2.0)]
    for step in range(30):
        gx, gy = df(params["x"][0, 0], params["y"][0, 0])
        optimizer.update(params, {"x": Matrix([[gx]]), "y": Matrix([[gy]])})
        path.append((params["x"][0, 0], params["y"][0, 0]))
    paths[name] = path
    print("%-8s 30 歩後 (after 30 steps): (%.4f, %.4f)" % (name, path[-1][0], path[-1][1]))

LinePlot([(name, [p[0] for p in path], [p[1] for p in path]) for name, path in paths.items()],
         title="x²/20 + y² from (-7, 2)", xlabel="x", ylabel="y")

# %% [markdown]
# ### 練習 6: 自分の SGD (Exercise 6: your own SGD)
#
# 本の `SGD.update` は `params[key] -= self.lr * grads[key]` です。purenn の行列は変更できませんが、この書き方は `params[key] = params[key] - ...` と同じ意味なので、そのまま動きます。
# 下の `MySGD` には符号の間違いがあります。「十分小さい学習率で 1 歩進むと f は小さくなる」という性質を hypothesis で調べます。
#
# *The book's `params[key] -= self.lr * grads[key]` works as it is: for a dict entry it means `params[key] = params[key] - ...`. `MySGD` has a sign bug; hypothesis checks that one small step makes f smaller.*

# %%
from hypothesis import Phase, assume, given, settings
from purenn.testing import counterexample, elements

# derandomize: the same examples every run; no "explain" phase: just the counterexample
SETTINGS = settings(max_examples=100, deadline=None, database=None, derandomize=True,
                    phases=[Phase.explicit, Phase.generate, Phase.shrink])


class MySGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params.keys():
            params[key] += self.lr * grads[key]      # ← 符号の間違い (the sign is wrong)


def check(optimizer_class):
    """1 歩で f(x, y) が小さくなるか (does one step make f smaller?)"""
    @SETTINGS
    @given(elements("float", -10, 10), elements("float", -10, 10))
    def test_one_step_goes_downhill(x, y):
        assume(f(x, y) > 1e-6)                       # 最小値 (0, 0) の上では動けない
        params = {"x": Matrix([[x]]), "y": Matrix([[y]])}
        gx, gy = df(x, y)
        optimizer_class(lr=0.01).update(params, {"x": Matrix([[gx]]), "y": Matrix([[gy]])})
        assert f(params["x"][0, 0], params["y"][0, 0]) < f(x, y)

    found = counterexample(test_one_step_goes_downhill)
    if found:
        print("反例が見つかった (hypothesis found a counterexample):\n" + found)
    else:
        print("合格: 反例は見つからなかった (passed: no counterexample found)")


check(MySGD)
check(SGD)

# %% [markdown]
# ## 6.2 重みの初期値 (Initial weights)
#
# 本の 6.2.2 節の実験: 100 個のニューロンの層を 5 つ重ね、シグモイド関数を通した出力 (アクティベーション) の分布を見ます。
# 標準偏差 1 の重みでは 0 と 1 に偏り (勾配消失)、Xavier の初期値 (標準偏差 $1/\sqrt{n}$) では広く分布します。
#
# *The book's experiment: five layers of 100 sigmoid neurons. With weights of standard deviation 1 the activations pile up at 0 and 1 (vanishing gradients); with Xavier's 1/√n they spread out.*

# %%
def activations_of(std, layers=5, size=100, samples=100, seed=0):
    x = Matrix.randn(samples, size, seed=seed)
    out = []
    for i in range(layers):
        W = Matrix.randn(size, size, std=std, seed=seed + 1 + i)
        x = sigmoid(x @ W)
        out.append(x)
    return out


def histogram(m, bins=10):
    counts = [0] * bins
    for row in m.tolist():
        for v in row:
            counts[min(int(v * bins), bins - 1)] += 1
    return counts


labels = ["%.1f-" % (k / 10) for k in range(10)]
last_std1 = activations_of(1.0)[-1]
plot_bars(histogram(last_std1), labels=labels, title="5th layer, std = 1")

# %%
last_xavier = activations_of(1 / 100 ** 0.5)[-1]
plot_bars(histogram(last_xavier), labels=labels, title="5th layer, Xavier (std = 1/√100)")

# %% [markdown]
# ## 6.3 - 6.4 Batch Normalization と正則化 (Batch normalization and regularization)
#
# `MultiLayerNet` は本の `MultiLayerNetExtend` と同じ選択肢を持っています: `use_batchnorm`、`use_dropout`、`weight_decay_lambda`。
# purenn に入っている optdigits (8×8 ピクセルの手書き数字、学習用 3,823 枚、テスト用 1,797 枚) で学習させてみましょう。
#
# 次のセルは時間がかかります (`long`)。CPython で 1 エポック数秒、ブラウザではその数倍です。`EPOCHS` を増やすと正解率が上がります (15 エポックで約 97%)。
#
# *`MultiLayerNet` has the book's options. Train on the bundled optdigits (8×8 digits). The next cell is slow (tagged `long`): a few seconds an epoch on CPython, several times that in a browser. More `EPOCHS`, better accuracy (about 97 % after 15).*

# %% tags=["long"]
from purenn.datasets import load_digits

x_train, t_train = load_digits(kind="train", normalize=True)
x_test, t_test = load_digits(kind="test", normalize=True)

EPOCHS = 2
net = MultiLayerNet(input_size=64, hidden_size_list=[100], output_size=10, activation="relu",
                    use_batchnorm=True, seed=0)
trainer = Trainer(net, x_train, t_train, x_test, t_test, epochs=EPOCHS, mini_batch_size=32,
                  optimizer="adam", optimizer_param={"lr": 0.002}, verbose=False)
history = trainer.train()
for epoch, (train_acc, test_acc) in enumerate(zip(history["train_acc"], history["test_acc"]), 1):
    print("epoch %d: train acc %.4f, test acc %.4f" % (epoch, train_acc, test_acc))

# %%
plot_lines({"train loss": history["train_loss"]}, xlabel="step", title="loss (Adam, batchnorm)")

# %%
print("test accuracy: %.4f" % net.accuracy(x_test, t_test))
assert net.accuracy(x_test, t_test) > 0.85
