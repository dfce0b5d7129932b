# %% [markdown]
# # 第3章 ニューラルネットワーク (Neural networks)

# %%
from purenn import init_network, forward
forward(init_network(), [1.0, 0.5])
