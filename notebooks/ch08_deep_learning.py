# %% [markdown]
# # 第8章 ディープラーニング (Chapter 8: deep learning)
#
# 層を深くした CNN (本の DeepConvNet) の形、層を深くする理由、データ拡張、間違えた画像、そして重みのビット数を減らしても認識精度が落ちないこと (8.3.4) を見ます。
#
# *The deeper CNN of the book (DeepConvNet) and its shapes, why depth helps, data augmentation, the digits a network gets wrong, and how few bits the weights need (8.3.4).*

# %%
from IPython.display import SVG

from purenn import Matrix
from purenn.convnet import (SHIPPED, DeepConvNet, ImageGrid, PRECISIONS, activations, load_network,
                            precision_accuracy)
from purenn.convolution import Convolution, conv_output_size
from purenn.datasets import load_mnist
from purenn.layers import Affine

x_test, t_test = load_mnist(kind="test", normalize=True)

# %% [markdown]
# ## 8.1.1 よりディープなネットワークへ (A deeper network)
#
# 本の DeepConvNet: 3×3 の小さなフィルターの畳み込み層を 6 つ (フィルター 16, 16, 32, 32, 64, 64 枚)、2 つごとにプーリング、最後に全結合層 2 つとドロップアウト。重みの初期値は He の初期値です。
# 次のセルはランダムな重みのネットワークを作り、テスト画像 1 枚を通して、各層の後の形を表示します。4 つ目の畳み込み層だけパディングが 2 なので、14×14 が 16×16 になります。
#
# *Six 3×3 convolutions (16, 16, 32, 32, 64, 64 filters), a pooling after every two, two affine layers with dropout; He's initial weights. One test image through a freshly made network, the shape after each layer: the fourth convolution pads by 2, so 14×14 becomes 16×16.*

# %%
deep = DeepConvNet(seed=0)
print("input          1x28x28")
for name, values, shape in activations(deep, x_test[0:1]):
    print("%-14s %s" % (name, "x".join(str(v) for v in shape)))

# %%
{key: value.shape for key, value in deep.params.items()}

# %% [markdown]
# 1 枚の画像あたりの掛け算と足し算 (積和) の回数を、層の形から数えます。畳み込み層は FN×C×FH×FW×OH×OW 回、全結合層は W の要素数だけです。DeepConvNet のパラメータは 7 章の SimpleConvNet の 3 分の 1 ほどですが (小さなフィルターを重ね、全結合層が小さいため)、計算は約 10 倍です。
#
# *Multiply-adds per image, counted from the layers' shapes (a convolution: FN·C·FH·FW·OH·OW; an affine layer: the size of W). DeepConvNet has about a third of the SimpleConvNet's parameters (small stacked filters, a small affine layer) but does about ten times its work.*

# %%
def multiply_adds(net):
    layers = net.layers if isinstance(net.layers, list) else list(net.layers.values())
    total = 0
    for layer in layers:
        if isinstance(layer, Convolution):
            FN, C, FH, FW = layer.filter_shape
            _, OH, OW = layer.output_shape
            total += FN * C * FH * FW * OH * OW
        elif isinstance(layer, Affine):
            rows, cols = layer.params[layer.w_key].shape
            total += rows * cols
    return total


simple = load_network(SHIPPED)
for name, net in (("SimpleConvNet", simple), ("DeepConvNet", deep)):
    count = sum(p.shape[0] * p.shape[1] for p in net.params.values())
    print("%-13s パラメータ (parameters) %9d   積和/画像 (multiply-adds an image) %10d"
          % (name, count, multiply_adds(net)))

# %% [markdown]
# 本の学習済みの重み `deep_convnet_params.pkl` (本の GitHub リポジトリ) を持っていれば、numpy なしで読めます: `load_network("deep_convnet_params.pkl")`。テスト画像 10,000 枚で本と同じ 9,935 枚 (2016 年のファイル) または 9,797 枚 (2022 年からのファイル) が正解になります。
# ただし CPython では 10,000 枚に 30 分ほどかかるので、この先は purenn に入っている 7 章の SimpleConvNet (10,000 枚で 9,884 枚正解) を使います。
#
# *With the book's `deep_convnet_params.pkl`, `load_network` reads it without numpy (9,935 or 9,797 of 10,000 right, as the book's code: the 2016 and the 2022 file). On CPython all 10,000 take half an hour, so from here on the notebook uses chapter 7's shipped SimpleConvNet (9,884 right).*

# %% [markdown]
# ### 図 8-3 認識を誤った画像の例 (Figure 8-3: digits the network gets wrong)
#
# 本の図 8-3 は DeepConvNet が間違えた画像です。ここでは SimpleConvNet が間違える画像を探します。最初の `N` 枚を調べます (`long`)。
#
# *Figure 8-3 shows DeepConvNet's mistakes; here the SimpleConvNet's, among the first `N` test images (tagged `long`).*

# %% tags=["long"]
N = 300
predicted = simple.predictions(x_test[0:N])
wrong = [(i, t_test[i], p) for i, p in enumerate(predicted) if p != t_test[i]]
print("最初の %d 枚で正解率 %.4f、間違いは %d 枚 (first %d: accuracy %.4f, %d wrong): %s"
      % (N, 1 - len(wrong) / N, len(wrong), N, 1 - len(wrong) / N, len(wrong), wrong))

# %% [markdown]
# `python -m purenn convnet misclassified --max 12` は、テスト画像を最初から順に調べて間違いを探します。同梱の SimpleConvNet の最初の 12 個の間違いは、最初の 1,000 枚の中の次の画像です。それぞれをもう一度分類して、図にします。人でも迷いそうな字が多いことがわかります。
#
# *`python -m purenn convnet misclassified --max 12` searches the test images from the first; the shipped SimpleConvNet's first 12 mistakes are these images among the first 1,000. Classified again here and drawn: many would make a person hesitate too.*

# %%
FIRST_MISTAKES = [62, 247, 445, 582, 619, 684, 813, 877, 882, 947, 956, 965]
predicted = simple.predictions(x_test[FIRST_MISTAKES])
rows = x_test[FIRST_MISTAKES].tolist()
grid = ImageGrid([[row[r * 28:(r + 1) * 28] for r in range(28)] for row in rows],
                 titles=["#%d: %d, seen %d" % (i, t_test[i], p)
                         for i, p in zip(FIRST_MISTAKES, predicted)],
                 columns=6, title="misclassified test digits (image: label, seen as)",
                 scale="shared")
SVG(grid.to_svg(pixel=4))

# %%
still_wrong = sum(1 for i, p in zip(FIRST_MISTAKES, predicted) if p != t_test[i])
print("%d 枚中 %d 枚を間違えた (%d of %d misclassified)"
      % (len(FIRST_MISTAKES), still_wrong, still_wrong, len(FIRST_MISTAKES)))
assert still_wrong == len(FIRST_MISTAKES)

# %% [markdown]
# ## 8.1.2 さらに認識精度を高めるには: データ拡張 (Higher accuracy: data augmentation)
#
# 訓練画像を少し動かしたり回したりして、人工的に枚数を増やす方法です。畳み込みとプーリングは位置のずれに強いので、1 - 2 ピクセル動かした画像もほとんど同じように認識されます。テスト画像 4 枚を上下左右に 2 ピクセル動かして、SimpleConvNet に分類させてみます。
#
# *Augmentation makes more training images by shifting or rotating them a little. Convolution and pooling are robust to small shifts: four test images moved 2 pixels each way, classified by the SimpleConvNet.*

# %%
def shift(image, dx, dy, side=28):
    """The image (a row of side*side pixels) moved dx to the right and dy down, zeros coming in."""
    pixels = list(image)
    out = [0.0] * (side * side)
    for y in range(side):
        for x in range(side):
            sx, sy = x - dx, y - dy
            if 0 <= sx < side and 0 <= sy < side:
                out[y * side + x] = pixels[sy * side + sx]
    return out


moves = [(0, 0), (2, 0), (-2, 0), (0, 2), (0, -2)]
cases = [(i, dx, dy) for i in range(4) for dx, dy in moves]
originals = x_test[0:4].tolist()
rows = [shift(originals[i], dx, dy) for i, dx, dy in cases]
predicted = simple.predictions(Matrix(rows))
right = sum(1 for (i, dx, dy), p in zip(cases, predicted) if p == t_test[i])
print("ずらした画像 %d 枚中 %d 枚正解 (%d of %d shifted images right)"
      % (len(rows), right, right, len(rows)))
grid = ImageGrid([[row[r * 28:(r + 1) * 28] for r in range(28)] for row in rows],
                 titles=["%d (%+d,%+d): %d" % (t_test[i], dx, dy, p)
                         for (i, dx, dy), p in zip(cases, predicted)],
                 columns=5, title="label (shift right, down): predicted", scale="shared")
SVG(grid.to_svg(pixel=4))

# %% [markdown]
# ## 8.1.3 層を深くすることのモチベーション (Why deeper)
#
# 3×3 の畳み込みを 2 回重ねると、出力の 1 つの数は入力の 5×5 の範囲から決まります。5×5 の畳み込み 1 回と同じ範囲 (受容野) を、25 個ではなく 2×9 = 18 個の重みで見ることができ、その間に ReLU が入るので表現力も増えます。3 回なら 7×7 (49 個) を 27 個で。
#
# *Two stacked 3×3 convolutions see a 5×5 region of the input, as one 5×5 convolution does, with 18 weights instead of 25, and a ReLU in between adds expressiveness; three see 7×7 with 27 instead of 49.*

# %%
for layers in (1, 2, 3):
    size = 1 + 2 * layers                         # the input region that makes one output
    out = size
    for _ in range(layers):
        out = conv_output_size(out, 3)            # each 3x3 convolution: size - 2
    print("3x3 を %d 回: %dx%d の入力 -> %dx%d の出力, 重み %2d 個 (one %dx%d filter: %2d)"
          % (layers, size, size, out, out, 9 * layers, size, size, size * size))

# %% [markdown]
# ## 8.3.4 演算精度のビット削減 (Fewer bits)
#
# 本の `half_float_network.py` は重みとテスト画像を 16 ビットの浮動小数点数 (float16) に変えても認識精度が変わらないことを示します。純粋な Python に float16 の計算はありませんが、`struct` で float16 と float32 の値に丸めることはできます (`purenn.precision.rounded_matrix`)。
#
# *The book's `half_float_network.py`: weights and images as float16 lose nothing. Pure Python has no float16 arithmetic, but `struct` rounds to float16 and float32 values (`purenn.precision.rounded_matrix`).*

# %%
from purenn.precision import rounded_matrix

w = simple.params["W3"][0:1, 0:4]                 # four weights of the last layer
for precision in ("float64", "float32", "float16"):
    print("%-8s %s" % (precision, rounded_matrix(w, precision).tolist()[0]))

# %% [markdown]
# 重み (float32 と float16 では画像も) をそれぞれの精度で保存したときの、最初の `N` 枚の認識精度です (計算は float64)。int8 は 8 ビットの整数で、フィルターごと・列ごとに 1 つの倍率を持ちます (`purenn.precision`)。
# 次のセルは時間がかかります (`long`): CPython で 1 つの精度に数秒、ブラウザではその数倍です。コマンドラインでは `python -m purenn convnet half-float` です。
#
# *Accuracy on the first `N` images with the weights (at float32 and float16 the images too) stored at each precision, arithmetic in float64; int8 keeps one scale per filter or column. The next cell is slow (tagged `long`): seconds a precision on CPython, several times that in a browser. On the command line: `python -m purenn convnet half-float`.*

# %% tags=["long"]
N = 100
for precision in PRECISIONS:
    accuracy = precision_accuracy(simple, x_test[0:N], t_test[:N], precision)
    print("%-8s accuracy %.2f (first %d test images)" % (precision, accuracy, N))

# %% [markdown]
# 100 枚では 1 枚が 0.01 です。int8 で 1 枚多く正解したのは、丸めでたまたま 1 枚 (画像 62) の答えが変わったためで、ネットワークが良くなったわけではありません。10,000 枚全部での表は `python -m purenn convnet half-float --images 10000` で作れます。
#
# *On 100 images one image is 0.01: where int8 scores one more, rounding happened to flip one answer (image 62); the network is no better. The table over all 10,000: `python -m purenn convnet half-float --images 10000`.*

# %% [markdown]
# ## 8.2 - 8.5 この先へ (What comes next)
#
# 本はこの後、ImageNet の画像認識コンテストと VGG、GoogLeNet、ResNet (8.2)、GPU と分散学習による高速化 (8.3)、物体検出やセグメンテーション、画像キャプション生成、画風変換、強化学習 (8.4 - 8.5) を紹介します。
# どれも、ここまでの部品 (畳み込み、プーリング、ReLU、Batch Normalization、ドロップアウト、誤差逆伝播法、Adam) の組み合わせでできています。purenn はその部品を、数式と形が見える純粋な Python で持っています。
#
# *The book goes on to ImageNet, VGG, GoogLeNet and ResNet, GPUs and distributed training, detection, segmentation, captioning, style transfer and reinforcement learning: all built from the parts met so far, which purenn holds in plain Python with the formulas and shapes in view.*
