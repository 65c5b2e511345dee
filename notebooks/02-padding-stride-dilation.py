# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 02 · Padding, stride and dilation
#
# Lesson 01 slid a kernel over every position where it fits. Three settings of every convolution layer change
# *where* the windows are:
#
# - **padding** adds a border (of zeros, or of copied values) so that windows can sit over the edges;
# - **stride** moves the window by more than one position at a time;
# - **dilation** spreads the kernel's taps apart, so one kernel sees a wider region with the same weights.
#
# Together with the kernel size they decide the output size, the memory a layer needs, and how far each output
# can see. This lesson derives the output-size formula, checks it (and the 15 relationships of Dumoulin &
# Visin's *A guide to convolution arithmetic for deep learning*, arXiv:1603.07285) against PyTorch, and lets you
# move every setting with sliders.

# %%
# %matplotlib inline
import itertools
import warnings

import matplotlib.pyplot as plt
import torch
import torch.nn as nn
import torch.nn.functional as F
from IPython.display import display

from cnn_lessons import data, exercises, figures, widgets
from cnn_lessons.arithmetic import (
    conv_output_size,
    conv_parameter_count,
    conv_transpose_output_size,
    effective_kernel_size,
    pool_output_size,
    receptive_field,
    same_padding,
)

torch.manual_seed(0)
torch.set_printoptions(precision=2, sci_mode=False)
# torch remarks that padding="same" with an even kernel copies the input; a performance note, not an error
warnings.filterwarnings("ignore", message="Using padding='same' with even kernel lengths")


def torch_size(size, kernel, **settings):
    # the output length PyTorch's conv1d gives, or None when it refuses the configuration
    try:
        return F.conv1d(torch.zeros(1, 1, size), torch.zeros(1, 1, kernel), **settings).shape[-1]
    except RuntimeError:
        return None


# %% [markdown]
# ## 1. The output-size formula, step by step
#
# Take an input of length $i$, a kernel of $k$ taps, zero padding $p$ on both sides, stride $s$ and
# dilation $d$.
#
# 1. **Dilation** puts $d - 1$ gaps between neighbouring taps, so the kernel covers
#    $k_{\text{eff}} = d(k - 1) + 1$ positions.
# 2. **Padding** makes the input $i + 2p$ long.
# 3. A window of $k_{\text{eff}}$ positions fits at the first $i + 2p - k_{\text{eff}} + 1$ start positions.
# 4. **Stride** keeps every $s$-th of those start positions, counting from the first:
#    $\left\lfloor (i + 2p - k_{\text{eff}}) / s \right\rfloor + 1$ of them.
#
# $$o = \left\lfloor \frac{i + 2p - d(k - 1) - 1}{s} \right\rfloor + 1$$
#
# This is `cnn_lessons.arithmetic.conv_output_size`. One example, step by step:

# %%
i, k, p, s, d = 10, 3, 1, 2, 2
k_eff = effective_kernel_size(k, d)
padded = i + 2 * p
starts = padded - k_eff + 1
o = (padded - k_eff) // s + 1
print(f"effective kernel  d(k-1)+1 = {d}*({k}-1)+1 = {k_eff}")
print(f"padded input      i+2p     = {i}+2*{p} = {padded}")
print(f"window starts     {padded}-{k_eff}+1 = {starts}, every {s}-th kept -> floor(({padded}-{k_eff})/{s})+1 = {o}")
assert o == conv_output_size(i, k, s, p, d) == torch_size(i, k, stride=s, padding=p, dilation=d)

# %% [markdown]
# Now the formula against PyTorch for every combination of a grid of settings, including the ones PyTorch
# refuses (a dilated kernel longer than the padded input), where `conv_output_size` must raise too:

# %%
grid = itertools.product(range(1, 13), range(1, 6), range(0, 3), range(1, 4), range(1, 4))  # i, k, p, s, d
checked = refused = 0
for i, k, p, s, d in grid:
    expected = torch_size(i, k, stride=s, padding=p, dilation=d)
    try:
        ours = conv_output_size(i, k, s, p, d)
    except ValueError:
        ours = None
    assert ours == expected, (i, k, p, s, d, ours, expected)
    checked += 1
    refused += expected is None
print(f"{checked} configurations agree with torch ({refused} of them refused by both)")

# %% [markdown]
# ## 2. Padding
#
# ### 2.1 valid, same, full
# Three amounts of padding have names:
#
# | name | padding (stride 1) | output size |
# | --- | --- | --- |
# | valid | none | $i - k_{\text{eff}} + 1$ |
# | same | $k_{\text{eff}} - 1$ in total | $i$ |
# | full | $k_{\text{eff}} - 1$ on each side | $i + k_{\text{eff}} - 1$ |

# %% [markdown]
# The three on a 5×5 input with a 3×3 kernel: grey cells are padding, and the outlined cells are the taps
# read by the output cell marked in orange. *Valid* keeps all 9 taps of output (0, 0) on the image and
# shrinks the output to 3×3; *same* adds one ring of zeros, so 5 of those 9 taps read padding and the output
# stays 5×5; *full* adds two rings, output (0, 0) touches the image only at cell 11, and the output grows
# to 7×7.

# %%
# drawn by cnn_lessons.figures, as assets/figures/02-padding-{valid,same,full}.png
display(figures.draw("02-padding-valid"))
display(figures.draw("02-padding-same"))
display(figures.draw("02-padding-full"))

# %% [markdown]
# "Same" must add $k_{\text{eff}} - 1$ zeros in total. When that total is odd, it cannot be split evenly:
# PyTorch puts the smaller half on the left, `total // 2`, and the rest on the right. Every even kernel with
# dilation 1 pads asymmetrically:

# %%
x = torch.arange(1.0, 8.0)  # 7 values
print(" k  d  total  left  right   output size")
for k, d in [(1, 1), (2, 1), (3, 1), (4, 1), (5, 1), (2, 2), (3, 2), (4, 3)]:
    left, right = same_padding(k, d)
    w = torch.randn(k)
    by_torch = F.conv1d(x.view(1, 1, -1), w.view(1, 1, -1), padding="same", dilation=d)
    by_hand = F.conv1d(F.pad(x.view(1, 1, -1), (left, right)), w.view(1, 1, -1), dilation=d)
    assert torch.allclose(by_torch, by_hand)  # the same numbers, not only the same size
    print(f"{k:2d} {d:2d} {left + right:5d} {left:5d} {right:6d} {by_torch.shape[-1]:9d}")

# %% [markdown]
# **Why PyTorch refuses `padding="same"` with stride 2.** With stride $s$ the output has about $i / s$
# positions, so it cannot have the input's size whatever the padding. Other libraries (TensorFlow's `SAME`)
# redefine "same" as $\lceil i / s \rceil$ outputs, but then the padding depends on the input size, not only on
# the layer; PyTorch's layers fix their padding when they are built, so it raises instead. So does
# `conv_output_size`:

# %%
try:
    F.conv1d(torch.zeros(1, 1, 8), torch.zeros(1, 1, 3), stride=2, padding="same")
except RuntimeError as error:
    print("torch:      ", error)
try:
    conv_output_size(8, 3, stride=2, padding="same")
except ValueError as error:
    print("cnn_lessons:", error)

# %% [markdown]
# ### 2.2 What goes in the border: `padding_mode`
# Zeros are not the only choice. `nn.Conv2d(padding_mode=...)` can also fill the border by **reflecting** the
# input at its edge (without repeating the edge value), **replicating** the edge value, or wrapping around
# (**circular**, as if the input were periodic). On a 1-D example:

# %%
row = torch.tensor([[[1.0, 2, 3, 4]]])
modes = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}
for name, mode in modes.items():
    print(f"{name:10s}", F.pad(row, (2, 2), mode=mode).flatten().int().tolist())

assert F.pad(row, (2, 2), mode="reflect").flatten().tolist() == [3, 2, 1, 2, 3, 4, 3, 2]
assert F.pad(row, (2, 2), mode="replicate").flatten().tolist() == [1, 1, 1, 2, 3, 4, 4, 4]
assert F.pad(row, (2, 2), mode="circular").flatten().tolist() == [3, 4, 1, 2, 3, 4, 1, 2]
for name in modes:  # nn.Conv2d's padding_mode is F.pad with that mode, then a valid convolution
    layer = nn.Conv1d(1, 1, 3, padding=2, padding_mode=name, bias=False)
    padded_row = F.pad(row, (2, 2), mode=modes[name])
    assert torch.allclose(layer(row), F.conv1d(padded_row, layer.weight))

# %% [markdown]
# On a real photo the difference is at the border. Here a 96×96 crop of scikit-learn's sample photo is padded
# by 24 pixels on every side; the dashed square marks the original image:

# %%
photo = data.load_photo("china.jpg", size=128)[16:112, 16:112]
pad = 24
fig, axes = plt.subplots(1, 4, figsize=(13, 3.6))
for ax, (name, mode) in zip(axes, modes.items(), strict=True):
    padded_photo = F.pad(photo[None, None], (pad,) * 4, mode=mode)[0, 0]
    assert padded_photo.shape == (96 + 2 * pad, 96 + 2 * pad)
    ax.imshow(padded_photo, cmap="gray", vmin=0, vmax=1)
    ax.add_patch(plt.Rectangle((pad - 0.5, pad - 0.5), 96, 96, fill=False, ls="--", ec="orange", lw=1.5))
    ax.set_title(f"padding_mode='{name}'")
    ax.set_axis_off()
plt.show()

# %% [markdown]
# Zeros darken the border of a bright image; an edge detector then finds a false edge all around. Reflect and
# replicate continue the image smoothly; circular glues the right edge to the left, which suits periodic
# data but not photos. `reflect` needs the padding to be smaller than the input, since it mirrors the input
# without its edge value.
#
# ## 3. Stride is subsampling
# A stride-$s$ convolution computes exactly every $s$-th output of the stride-1 convolution. In 2-D:

# %%
image = torch.randn(1, 1, 11, 9)
weight = torch.randn(1, 1, 3, 3)
strided = F.conv2d(image, weight, stride=2, padding=1)
every_second = F.conv2d(image, weight, padding=1)[..., ::2, ::2]
assert torch.allclose(strided, every_second)
print("stride 2:", tuple(strided.shape[-2:]), "= stride 1", tuple(F.conv2d(image, weight, padding=1).shape[-2:]),
      "keeping every second row and column")

# %% [markdown]
# The figure shows the layer of the *same* figure above (5×5 input, 3×3 kernel, one ring of zeros) with
# stride 2. Output (0, 1), the second cell of the first output row, reads the window whose left column holds
# 12 and 22: two columns to the right of output (0, 0)'s window, which starts on the padding. The windows
# whose left edge would be the column of 11 or of 13, or whose top edge would be the row of 11 or of 31, are
# the stride-1 outputs that `[..., ::2, ::2]` drops, and the 5×5 output of stride 1 becomes 3×3.

# %%
# as assets/figures/02-stride.png
display(figures.draw("02-stride"))


# %% [markdown]
# So a strided convolution computes $s^2$ times fewer outputs than the stride-1 one and discards nothing it has
# computed. There is a catch at the far edge: when $(i + 2p - k_{\text{eff}})$ is not a multiple of $s$, the
# last window stops short and the last rows or columns of the input are **never read**. Backpropagation shows
# which: an input that no window reaches gets zero gradient.

# %%
def unread_positions(i, k, s, p=0, d=1):
    # input positions that no window of the convolution reads, found by backpropagation
    x = torch.ones(1, 1, i, requires_grad=True)
    F.conv1d(x, torch.ones(1, 1, k), stride=s, padding=p, dilation=d).sum().backward()
    return torch.nonzero(x.grad.flatten() == 0).flatten().tolist()


for i, k, s, p in [(7, 3, 2, 0), (6, 3, 2, 0), (6, 3, 2, 1), (10, 3, 3, 0), (224, 7, 2, 3)]:
    remainder = (i + 2 * p - k) % s
    unread = unread_positions(i, k, s, p)
    print(f"i={i:3d} k={k} s={s} p={p}: (i+2p-k) mod s = {remainder}, never read: {unread}")
    assert len(unread) == max(remainder - p, 0)  # the last `remainder` padded positions; padding absorbs some

# %% [markdown]
# ## 4. Dilation: a wider view for the same weights
# A dilated kernel has the same $k$ weights but spreads them over $d(k - 1) + 1$ positions. Stacking layers
# with growing dilation makes the receptive field (the input positions one output depends on) grow
# exponentially with depth, while the number of weights grows only linearly. Yu & Koltun, *Multi-scale context
# aggregation by dilated convolutions* (arXiv:1511.07122), build networks for dense prediction on this idea.

# %% [markdown]
# One 3×3 kernel with dilation 2 on a 7×7 input: the 9 outlined taps of output (0, 0) are 11, 13, 15, 31,
# …, 55, every second row and column, and this output reads none of the cells in the gaps (12, 21, 22, …).
# The kernel spans 5 cells a side with 9 weights, so only 3 windows fit along each axis: a 3×3 output.

# %%
# as assets/figures/02-dilation.png
display(figures.draw("02-dilation"))

# %%
stacks = {
    "three 3x3, dilation 1": [(3, 1, 1)] * 3,
    "three 3x3, dilations 1, 2, 4": [(3, 1, 1), (3, 1, 2), (3, 1, 4)],
    "one 15x15": [(15, 1, 1)],
}
print(f"{'stack':32s} receptive field  weights (2-D, one channel)")
for name, layers in stacks.items():
    weights = sum(conv_parameter_count(1, 1, k, bias=False) for k, _, _ in layers)
    print(f"{name:32s} {receptive_field(layers):15d}  {weights:7d}")


def footprint(layers, size=64):
    # how many input positions output 0 depends on, measured by backpropagation through all-ones kernels
    x = torch.ones(1, 1, size, requires_grad=True)
    y = x
    for k, s, d in layers:
        y = F.conv1d(y, torch.ones(1, 1, k), stride=s, dilation=d)
    y[0, 0, 0].backward()
    touched = torch.nonzero(x.grad.flatten()).flatten()
    return int(touched[-1] - touched[0]) + 1


for layers in stacks.values():
    assert footprint(layers) == receptive_field(layers)

# %% [markdown]
# The dilated stack sees 15 positions (as far as one 15×15 kernel) with 27 weights instead of 225. The price:
# with dilation, neighbouring outputs read interleaved, disjoint sets of inputs ("gridding"), which is why
# dilation rates are usually mixed.
#
# ## 5. The convolution-arithmetic explorer
# Move the sliders: input size, kernel size, padding (or pick valid / same / full), stride, dilation, padding
# mode, and which output position to inspect. The picture shows the padded input (padding in grey), the kernel
# taps at that position (dilation leaves gaps), the output grid, the formula with your numbers filled in, and
# the PyTorch layer that has this configuration. Impossible combinations are explained in the widget.

# %%
widgets.ConvArithmeticExplorer()

# %% [markdown]
# ## 6. The 15 relationships of convolution arithmetic
# Dumoulin & Visin (arXiv:1603.07285) list the input-output relationships of convolutions, pooling and
# transposed convolutions as fifteen numbered cases. Each cell below states one, computes it, and checks it
# against PyTorch over many sizes. In their notation: input size $i$, kernel $k$, stride $s$, zero padding $p$,
# output size $o$; square inputs and kernels, so one axis tells all (the checks use 2-D tensors anyway).

# %%
SIZES = range(1, 16)


def conv2d_size(i, k, s=1, p=0, d=1):
    return F.conv2d(torch.zeros(1, 1, i, i), torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d).shape[-1]


def fits(i, k, p=0, d=1):
    return i + 2 * p >= d * (k - 1) + 1


def check(number, formula, cases):
    # assert `formula(case) == torch's size` for every case; report how many
    count = 0
    for case in cases:
        expected, got = case["torch"](), formula(**case["args"])
        assert got == expected, (number, case["args"], got, expected)
        count += 1
    print(f"Relationship {number:2d}: holds for {count} configurations")


# %% [markdown]
# **Relationship 1** (no zero padding, unit strides): $o = (i - k) + 1$.

# %%
check(1, lambda i, k: (i - k) + 1,
      [{"args": dict(i=i, k=k), "torch": lambda i=i, k=k: conv2d_size(i, k)} for i in SIZES for k in SIZES if k <= i])

# %% [markdown]
# **Relationship 2** (zero padding $p$, unit strides): $o = (i - k) + 2p + 1$.

# %%
check(2, lambda i, k, p: (i - k) + 2 * p + 1,
      [{"args": dict(i=i, k=k, p=p), "torch": lambda i=i, k=k, p=p: conv2d_size(i, k, p=p)}
       for i in SIZES for k in SIZES for p in range(4) if fits(i, k, p)])

# %% [markdown]
# **Relationship 3** (half padding: odd $k = 2n + 1$, $p = \lfloor k/2 \rfloor = n$, unit strides): $o = i$.

# %%
check(3, lambda i, k: i,
      [{"args": dict(i=i, k=k), "torch": lambda i=i, k=k: conv2d_size(i, k, p=k // 2)}
       for i in SIZES for k in range(1, 16, 2)])

# %% [markdown]
# **Relationship 4** (full padding: $p = k - 1$, unit strides): $o = i + (k - 1)$.

# %%
check(4, lambda i, k: i + (k - 1),
      [{"args": dict(i=i, k=k), "torch": lambda i=i, k=k: conv2d_size(i, k, p=k - 1)} for i in SIZES for k in SIZES])

# %% [markdown]
# **Relationship 5** (no zero padding, stride $s$): $o = \left\lfloor \frac{i - k}{s} \right\rfloor + 1$.

# %%
check(5, lambda i, k, s: (i - k) // s + 1,
      [{"args": dict(i=i, k=k, s=s), "torch": lambda i=i, k=k, s=s: conv2d_size(i, k, s)}
       for i in SIZES for k in SIZES for s in range(1, 5) if k <= i])

# %% [markdown]
# **Relationship 6** (zero padding $p$, stride $s$): $o = \left\lfloor \frac{i + 2p - k}{s} \right\rfloor + 1$.

# %%
check(6, lambda i, k, s, p: (i + 2 * p - k) // s + 1,
      [{"args": dict(i=i, k=k, s=s, p=p), "torch": lambda i=i, k=k, s=s, p=p: conv2d_size(i, k, s, p)}
       for i in SIZES for k in range(1, 8) for s in range(1, 5) for p in range(4) if fits(i, k, p)])


# %% [markdown]
# **Relationship 7** (pooling, no padding): $o = \left\lfloor \frac{i - k}{s} \right\rfloor + 1$, the same
# as a convolution: pooling slides a window too, it only replaces the weighted sum by a max or a mean.

# %%
def pool2d_size(i, k, s, kind):
    pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    return pool(torch.zeros(1, 1, i, i), k, s).shape[-1]


check(7, lambda i, k, s, kind: (i - k) // s + 1,
      [{"args": dict(i=i, k=k, s=s, kind=kind), "torch": lambda i=i, k=k, s=s, kind=kind: pool2d_size(i, k, s, kind)}
       for i in SIZES for k in range(1, 6) for s in range(1, 4) for kind in ("max", "avg") if k <= i])


# %% [markdown]
# ### Transposed convolutions (relationships 8 to 14)
# A transposed convolution goes the other way: it maps a convolution's output size $o$ back to its input size
# $i$ (it is the gradient of the convolution with respect to its input, and what decoders use to upsample).
# The guide's key observation: a transposed convolution **is** a direct convolution, with the kernel flipped,
# of a zero-stretched and zero-padded input. Each relationship names the direct convolution: kernel $k' = k$,
# stride $s' = 1$, padding $p'$, and, for strided ones, an input stretched by $s - 1$ zeros between its
# values. The cells check both the size (against `F.conv_transpose2d`) and the numbers (the direct convolution
# computes exactly what `conv_transpose2d` computes).

# %%
def stretch(y, s):
    # put s - 1 zeros between neighbouring values along both spatial axes
    n, c, h, w = y.shape
    out = torch.zeros(n, c, (h - 1) * s + 1, (w - 1) * s + 1, dtype=y.dtype)
    out[..., ::s, ::s] = y
    return out


def transposed_as_direct(y, weight, s, p, a=0):
    # conv_transpose2d(y, weight, stride=s, padding=p, output_padding=a), written as a direct convolution:
    # stretch by s, pad k - p - 1 on each side (plus a on the bottom/right), correlate with the flipped kernel
    k = weight.shape[-1]
    q = k - p - 1
    padded = F.pad(stretch(y, s), (q, q + a, q, q + a))
    return F.conv2d(padded, weight.flip(-1, -2).transpose(0, 1))


def check_transposed(number, formula, cases):
    # cases: (i', k, s, p, a); checks the size formula and the direct-convolution equivalence
    count = 0
    for i_, k, s, p, a in cases:
        y = torch.randn(1, 2, i_, i_, dtype=torch.float64)
        weight = torch.randn(2, 3, k, k, dtype=torch.float64)
        expected = F.conv_transpose2d(y, weight, stride=s, padding=p, output_padding=a)
        assert formula(i_, k, s, p, a) == expected.shape[-1] == conv_transpose_output_size(i_, k, s, p, a)
        assert torch.allclose(transposed_as_direct(y, weight, s, p, a), expected)
        count += 1
    print(f"Relationship {number:2d}: size and values hold for {count} configurations")


# %% [markdown]
# **Relationship 8** (transpose of no padding, unit strides): $k' = k$, $s' = s = 1$, $p' = k - 1$:
# $o' = i' + (k - 1)$.

# %%
check_transposed(8, lambda i_, k, s, p, a: i_ + (k - 1), [(i_, k, 1, 0, 0) for i_ in range(1, 9) for k in range(1, 6)])

# %% [markdown]
# **Relationship 9** (transpose of zero padding $p$, unit strides): $p' = k - p - 1$:
# $o' = i' + (k - 1) - 2p$.

# %%
check_transposed(9, lambda i_, k, s, p, a: i_ + (k - 1) - 2 * p,
                 [(i_, k, 1, p, 0) for i_ in range(1, 9) for k in range(1, 6) for p in range(k) if i_ + k - 1 - 2 * p >= 1])

# %% [markdown]
# **Relationship 10** (transpose of half padding, odd $k$, $p = \lfloor k/2 \rfloor$): $p' = p$: $o' = i'$.

# %%
check_transposed(10, lambda i_, k, s, p, a: i_, [(i_, k, 1, k // 2, 0) for i_ in range(1, 9) for k in (1, 3, 5, 7)])

# %% [markdown]
# **Relationship 11** (transpose of full padding, $p = k - 1$): $p' = 0$: $o' = i' - (k - 1)$.

# %%
check_transposed(11, lambda i_, k, s, p, a: i_ - (k - 1), [(i_, k, 1, k - 1, 0) for i_ in range(1, 9) for k in range(1, 6) if k <= i_])

# %% [markdown]
# **Relationship 12** (transpose of no padding, stride $s$, when $i - k$ is a multiple of $s$): stretched input,
# $s' = 1$, $p' = k - 1$: $o' = s(i' - 1) + k$.

# %%
check_transposed(12, lambda i_, k, s, p, a: s * (i_ - 1) + k,
                 [(i_, k, s, 0, 0) for i_ in range(1, 7) for k in range(1, 6) for s in range(2, 4)])

# %% [markdown]
# **Relationship 13** (transpose of zero padding $p$, stride $s$, when $i + 2p - k$ is a multiple of $s$):
# $p' = k - p - 1$: $o' = s(i' - 1) + k - 2p$.

# %%
check_transposed(13, lambda i_, k, s, p, a: s * (i_ - 1) + k - 2 * p,
                 [(i_, k, s, p, 0) for i_ in range(1, 7) for k in range(1, 6) for s in range(2, 4) for p in range(k)
                  if s * (i_ - 1) + k - 2 * p >= 1])

# %% [markdown]
# **Relationship 14** (the general case: $a = (i + 2p - k) \bmod s$): with stride, several input sizes give the
# same output size, so the transposed convolution needs to be told which one to produce. The guide adds $a$
# zeros to the bottom and right; PyTorch calls $a$ `output_padding`: $o' = s(i' - 1) + a + k - 2p$.
# Going forward from every input size $i$ and back must give $i$ again:

# %%
round_trips = 0
for i in range(1, 14):
    for k, s, p in itertools.product(range(1, 6), range(2, 4), range(3)):
        if not fits(i, k, p) or p > k - 1:
            continue
        o = conv_output_size(i, k, s, p)
        a = (i + 2 * p - k) % s
        assert s * (o - 1) + a + k - 2 * p == i  # relationship 14 restores the input size
        assert F.conv_transpose2d(torch.zeros(1, 1, o, o), torch.zeros(1, 1, k, k), stride=s, padding=p,
                                  output_padding=a).shape[-1] == i
        round_trips += 1
print(f"conv then transposed conv returns to i for {round_trips} configurations")
check_transposed(14, lambda i_, k, s, p, a: s * (i_ - 1) + a + k - 2 * p,
                 [(i_, k, s, p, a) for i_ in range(1, 6) for k in range(1, 6) for s in range(2, 4) for p in range(k)
                  for a in range(s) if s * (i_ - 1) + a + k - 2 * p >= 1])

# %% [markdown]
# **Relationship 15** (dilated convolution): $o = \left\lfloor \frac{i + 2p - k - (k - 1)(d - 1)}{s} \right\rfloor + 1$,
# the general formula of section 1 written with the effective kernel size $k + (k - 1)(d - 1)$.

# %%
check(15, lambda i, k, s, p, d: (i + 2 * p - k - (k - 1) * (d - 1)) // s + 1,
      [{"args": dict(i=i, k=k, s=s, p=p, d=d), "torch": lambda i=i, k=k, s=s, p=p, d=d: conv2d_size(i, k, s, p, d)}
       for i in SIZES for k in range(1, 6) for s in range(1, 4) for p in range(3) for d in range(1, 4) if fits(i, k, p, d)])

# %% [markdown]
# ## 7. Pooling: max, average and `ceil_mode`
# Pooling windows follow the same arithmetic with the stride defaulting to the window size. `ceil_mode=True`
# rounds the division up instead of down, so a last, partial window is kept, unless it would start inside the
# right padding. `pool_output_size` follows PyTorch's rule:

# %%
x = torch.arange(1.0, 9.0).view(1, 1, 8)  # 8 values, 3-wide windows, stride 2: (8 - 3) / 2 is not whole
for ceil_mode in (False, True):
    maxed = F.max_pool1d(x, 3, 2, ceil_mode=ceil_mode)
    averaged = F.avg_pool1d(x, 3, 2, ceil_mode=ceil_mode)
    assert maxed.shape[-1] == pool_output_size(8, 3, 2, ceil_mode=ceil_mode)
    print(f"ceil_mode={ceil_mode!s:5}: max {maxed.flatten().tolist()}  mean {averaged.flatten().tolist()}")

agree = 0
for i, k, s, p, ceil_mode in itertools.product(range(1, 16), range(1, 6), range(1, 4), range(3), (False, True)):
    if p > k // 2 or i + 2 * p < k:
        continue
    torch_out = F.max_pool2d(torch.zeros(1, 1, i, i), k, s, p, ceil_mode=ceil_mode).shape[-1]
    assert pool_output_size(i, k, s, p, ceil_mode=ceil_mode) == torch_out
    agree += 1
print(f"pool_output_size agrees with max_pool2d in {agree} configurations")

# %% [markdown]
# With `ceil_mode=True` a fourth window starts at the 7th value and runs past the end of the input: it covers
# only the last two values, so its maximum is the larger of them and its mean is taken over those two, not
# over padding.
#
# ## 8. Receptive field of a stack of layers
# One output of a deep network depends on a patch of the input, its **receptive field**. Each layer with kernel
# $k_l$, dilation $d_l$ and stride $s_l$ widens it by $d_l (k_l - 1)$ steps of the layer's input, and one step
# there is $\prod_{m<l} s_m$ input positions:
#
# $$r = 1 + \sum_{l} d_l\,(k_l - 1) \prod_{m < l} s_m$$
#
# Strides early in the network make every later layer widen the field faster. Check it against the gradient
# footprint for the first layers of a few known networks:

# %%
stems = {
    "VGG: five 3x3, 2x2 pool": [(3, 1), (3, 1), (2, 2), (3, 1), (3, 1)],
    "ResNet stem: 7x7/2, 3x3 max-pool /2": [(7, 2), (3, 2)],
    "AlexNet: 11x11/4, 3x3/2, 5x5": [(11, 4), (3, 2), (5, 1)],
}
for name, layers in stems.items():
    r = receptive_field(layers)
    assert r == footprint([(k, s, 1) for k, s in layers], size=128)
    print(f"{name:38s} receptive field {r}")

# %% [markdown]
# The dilated stack of section 4 (3-tap kernels, dilations 1, 2, 4), drawn in 1-D: follow the orange cells
# down from the outlined output of layer 3. In each layer the cells read lie as far apart as the dilation of
# the layer above (4 in layer 2, 2 in layer 1), with white gaps between them; only the undilated layer 1
# closes the gaps, so the output reads every input cell from 1 to 15: r = 15.

# %%
# as assets/figures/02-receptive-field-dilated.png
display(figures.draw("02-receptive-field-dilated"))

# %%
widgets.ReceptiveFieldExplorer()


# %% [markdown]
# ## Exercises
# **Exercise 1 (easy).** Write `output_size(size, kernel_size, stride, padding, dilation)`, the output length of
# a convolution as PyTorch computes it (`padding` is an int here).

# %% tags=["solution"]
def output_size(size, kernel_size, stride, padding, dilation):
    ### BEGIN SOLUTION
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1
    ### END SOLUTION


# %% tags=["exercise"]
exercises.check_output_size(output_size)


# %% [markdown]
# **Exercise 2 (medium).** Write `same_padding(kernel_size, dilation)` returning `(left, right)`: the zeros
# PyTorch adds for `padding="same"` (stride 1), split the way PyTorch splits them.

# %% tags=["solution"]
def my_same_padding(kernel_size, dilation):
    ### BEGIN SOLUTION
    total = dilation * (kernel_size - 1)
    return total // 2, total - total // 2
    ### END SOLUTION


# %% tags=["exercise"]
exercises.check_same_padding(my_same_padding)


# %% [markdown]
# **Exercise 3 (harder).** Write `transposed_size(size, kernel_size, stride, padding, output_padding)`, the
# output length of `nn.ConvTranspose1d` (relationship 14, dilation 1).

# %% tags=["solution"]
def transposed_size(size, kernel_size, stride, padding, output_padding):
    ### BEGIN SOLUTION
    return stride * (size - 1) + output_padding + kernel_size - 2 * padding
    ### END SOLUTION


# %% tags=["exercise"]
exercises.check_transposed_output_size(transposed_size)

# %% [markdown]
# ## Summary
# - $o = \lfloor (i + 2p - d(k-1) - 1)/s \rfloor + 1$: the effective kernel $d(k-1)+1$ must fit in the padded
#   input, and stride keeps every $s$-th start position.
# - `padding="same"` adds $d(k-1)$ in total, the smaller half on the left; it only exists for stride 1.
#   `padding_mode` decides what the border holds.
# - Stride subsamples a stride-1 convolution and may leave the last input rows unread; dilation widens the view
#   at no cost in weights.
# - Transposed convolutions are direct convolutions of a stretched, padded input; `output_padding` picks among
#   the input sizes a strided convolution maps to the same output.
#
# Next: **03 · Building a CNN**, which stacks these layers into a network and trains it.
