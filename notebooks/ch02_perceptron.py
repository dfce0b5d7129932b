# %% [markdown]
# # 第2章 パーセプトロン (Chapter 2: the perceptron)
#
# 本の第2章を purenn で動かしながらたどります。numpy は使いません。purenn は Python の標準ライブラリだけでできています。
# セルは上から順に実行してください (メニューの Run → Run All Cells でも同じです)。
#
# *We follow chapter 2 of the book with purenn, pure Python without numpy. Run the cells from top to bottom.*

# %%
from purenn import AND, NAND, OR, XOR, Perceptron, truth_table
from purenn.explain import explain

# %% [markdown]
# ## 2.1 パーセプトロンとは (What is a perceptron)
#
# 入力 $x_1, x_2$ に重み $w_1, w_2$ を掛けて足し、バイアス $b$ を加えます。合計が 0 より大きければ 1、そうでなければ 0 を出力します。
#
# $$y = \begin{cases} 0 & (b + w_1 x_1 + w_2 x_2 \le 0) \\ 1 & (b + w_1 x_1 + w_2 x_2 > 0) \end{cases}$$
#
# 本の 2.1 節のしきい値 $\theta$ は、バイアス $b = -\theta$ のことです。
#
# *Inputs times weights, plus the bias: 1 when the sum is above 0, else 0. The book's threshold θ is the bias b = -θ.*

# %%
p = Perceptron((0.5, 0.5), -0.7)    # 重み (w1, w2) とバイアス b: 本の AND と同じ値
p(1, 1), p(1, 0), p(0, 1), p(0, 0)

# %% [markdown]
# ## 2.3 パーセプトロンの実装 (Implementing the gates)
#
# AND、NAND、OR は、重みとバイアスの値が違うだけで、同じ形のパーセプトロンです。真理値表を見てみましょう。
#
# *AND, NAND and OR are the same perceptron with other weights and bias. Their truth tables:*

# %%
for name, gate in [("AND", AND), ("NAND", NAND), ("OR", OR)]:
    print(name, "weights", gate.weights, "bias", gate.bias)
    print(truth_table(gate))

# %% [markdown]
# `explain` は「手計算」を書き出します。重み付きの和と、それが 0 より大きいかどうか:
#
# *`explain` writes the hand calculation: the weighted sum and its comparison with 0.*

# %%
explain(AND, (1, 1))

# %%
explain(NAND, (1, 1))

# %% [markdown]
# ### 練習 1: OR ゲートの重みを探す (Exercise 1: find weights for OR)
#
# 自分の重みとバイアスを書いて、OR になるか確かめましょう。下の `my_or` の数字を変えてみてください。
#
# hypothesis (プロパティベーステストのライブラリ) の `find` に頼むと、OR になる重みを探して、いちばん簡単な例まで縮めて (shrink) 見せてくれます。
#
# *Write your own weights and bias and check that they make OR. Hypothesis's `find` searches for weights that do, and shrinks them to the simplest example it can.*

# %%
from hypothesis import find, settings, strategies as st

CORNERS = [(0, 0), (1, 0), (0, 1), (1, 1)]


def computes(gate, target):
    """gate が 4 つの入力すべてで target と同じ答えを出すか (same answer on all four inputs?)"""
    return all(gate(x1, x2) == target(x1, x2) for x1, x2 in CORNERS)


my_or = Perceptron((0.5, 0.5), -0.2)     # ← ここを変えてみる (change these numbers)
print("my_or は OR か:", computes(my_or, OR))

weight = st.floats(-10, 10)
FIND = settings(database=None, derandomize=True, max_examples=300)
w1, w2, b = find(st.tuples(weight, weight, weight),
                 lambda wb: computes(Perceptron(wb[:2], wb[2]), OR), settings=FIND)
print("hypothesis が見つけた OR の重みとバイアス:", (w1, w2), b)

# %% [markdown]
# ## 2.4 パーセプトロンの限界 (The limits of one perceptron)
#
# XOR (排他的論理和) は、(1, 0) と (0, 1) で 1、(0, 0) と (1, 1) で 0 です。1 つのパーセプトロンは平面を 1 本の直線で分けるだけなので、XOR は作れません (線形分離できない)。
#
# hypothesis にも探してもらいましょう。どんな重みを試しても見つかりません。
#
# *XOR is 1 at (1, 0) and (0, 1) only. One perceptron splits the plane with one straight line, so it cannot compute XOR. Hypothesis searches and finds nothing.*

# %%
from hypothesis.errors import NoSuchExample

try:
    find(st.tuples(weight, weight, weight),
         lambda wb: computes(Perceptron(wb[:2], wb[2]), XOR), settings=FIND)
except NoSuchExample:
    print("XOR になる重みは見つからなかった (no single perceptron computes XOR)")

# %% [markdown]
# ## 2.5 多層パーセプトロン (The multi-layer perceptron)
#
# 層を重ねれば XOR も作れます。NAND と OR の出力を AND に入れると XOR です: `XOR(x1, x2) = AND(NAND(x1, x2), OR(x1, x2))`。
#
# *Two layers can: XOR(x1, x2) = AND(NAND(x1, x2), OR(x1, x2)).*

# %%
print(truth_table(XOR))

# %%
explain(XOR, (0, 1))

# %% [markdown]
# ### 練習 2: 自分の XOR (Exercise 2: your own XOR)
#
# `my_xor` を NAND、OR、AND の組み合わせで書き直してみましょう。今は AND の一層だけなので、間違っています。下のセルが、どの入力で間違うかを見せます。
#
# *Rewrite `my_xor` with NAND, OR and AND. As it stands (AND alone) it is wrong; the cell below shows where.*

# %%
def my_xor(x1, x2):
    return AND(x1, x2)            # ← 2 層に直す (make it two layers)


wrong = [(x1, x2) for x1, x2 in CORNERS if my_xor(x1, x2) != XOR(x1, x2)]
print("間違う入力 (wrong at):", wrong if wrong else "なし (none): 正解!")

# %% [markdown]
# 次の章では、パーセプトロンの「0 か 1」を滑らかな関数 (活性化関数) に替えて、ニューラルネットワークにします。
#
# *Next chapter: replace the perceptron's 0-or-1 step by a smooth activation function, and get a neural network.*
