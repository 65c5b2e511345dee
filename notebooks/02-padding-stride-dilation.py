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

# %% [markdown] slideshow={"slide_type": "slide"}
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

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
import itertools
import warnings

import matplotlib.pyplot as plt
import torch
import torch.nn as nn
import torch.nn.functional as F
from IPython.display import display

from cnn_lessons import data, exercises, explorers, figures, ops, relationships
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
# torch remarks that padding="same" with an even kernel and an odd dilation (an odd total padding d(k-1), split
# unevenly) pads a copy of the input first; a performance note, not an error
warnings.filterwarnings("ignore", message="Using padding='same' with even kernel lengths")


def torch_size(size, kernel, **settings):
    # the output length PyTorch's conv1d gives, or None when it refuses the configuration
    try:
        return F.conv1d(torch.zeros(1, 1, size), torch.zeros(1, 1, kernel), **settings).shape[-1]
    except RuntimeError:
        return None


# %% [markdown] slideshow={"slide_type": "slide"}
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

# %% slideshow={"slide_type": "fragment"}
i, k, p, s, d = 10, 3, 1, 2, 2
k_eff = effective_kernel_size(k, d)
padded = i + 2 * p
starts = padded - k_eff + 1
o = (padded - k_eff) // s + 1
print(f"effective kernel  d(k-1)+1 = {d}*({k}-1)+1 = {k_eff}")
print(f"padded input      i+2p     = {i}+2*{p} = {padded}")
print(f"window starts     {padded}-{k_eff}+1 = {starts}, every {s}-th kept -> floor(({padded}-{k_eff})/{s})+1 = {o}")
assert o == conv_output_size(i, k, s, p, d) == torch_size(i, k, stride=s, padding=p, dilation=d)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Now the formula against PyTorch for every combination of a grid of settings, including the ones PyTorch
# refuses (a dilated kernel longer than the padded input), where `conv_output_size` must raise too:

# %% slideshow={"slide_type": "fragment"}
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

# %% [markdown] slideshow={"slide_type": "slide"}
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

# %% slideshow={"slide_type": "fragment"}
# drawn by cnn_lessons.figures, as assets/figures/02-padding-{valid,same,full}.png
display(figures.draw("02-padding-valid"))
display(figures.draw("02-padding-same"))
display(figures.draw("02-padding-full"))

# %% [markdown] slideshow={"slide_type": "subslide"}
# "Same" must add $k_{\text{eff}} - 1$ zeros in total. When that total is odd, it cannot be split evenly:
# PyTorch puts the smaller half on the left, `total // 2`, and the rest on the right. Every even kernel with
# dilation 1 pads asymmetrically:

# %% slideshow={"slide_type": "fragment"}
x = torch.arange(1.0, 8.0)  # 7 values
print(" k  d  total  left  right   output size")
for k, d in [(1, 1), (2, 1), (3, 1), (4, 1), (5, 1), (2, 2), (3, 2), (4, 3)]:
    left, right = same_padding(k, d)
    w = torch.randn(k)
    by_torch = F.conv1d(x.view(1, 1, -1), w.view(1, 1, -1), padding="same", dilation=d)
    by_hand = F.conv1d(F.pad(x.view(1, 1, -1), (left, right)), w.view(1, 1, -1), dilation=d)
    assert torch.allclose(by_torch, by_hand)  # the same numbers, not only the same size
    print(f"{k:2d} {d:2d} {left + right:5d} {left:5d} {right:6d} {by_torch.shape[-1]:9d}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Why PyTorch refuses `padding="same"` with stride 2.** With stride $s$ the output has about $i / s$
# positions, so it cannot have the input's size whatever the padding. Other libraries (TensorFlow's `SAME`)
# redefine "same" as $\lceil i / s \rceil$ outputs, but then the padding depends on the input size, not only on
# the layer; PyTorch's layers fix their padding when they are built, so it raises instead. So does
# `conv_output_size`:

# %% slideshow={"slide_type": "fragment"}
try:
    F.conv1d(torch.zeros(1, 1, 8), torch.zeros(1, 1, 3), stride=2, padding="same")
except RuntimeError as error:
    print("torch:      ", error)
try:
    conv_output_size(8, 3, stride=2, padding="same")
except ValueError as error:
    print("cnn_lessons:", error)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### 2.2 What goes in the border: `padding_mode`
# Zeros are not the only choice. `nn.Conv2d(padding_mode=...)` can also fill the border by **reflecting** the
# input at its edge (without repeating the edge value), **replicating** the edge value, or wrapping around
# (**circular**, as if the input were periodic). On a 1-D example:

# %% slideshow={"slide_type": "fragment"}
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

# %% [markdown] slideshow={"slide_type": "subslide"}
# On a real photo the difference is at the border. Here a 96×96 crop of scikit-learn's sample photo is padded
# by 24 pixels on every side; the dashed square marks the original image:

# %% slideshow={"slide_type": "fragment"}
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

# %% [markdown] slideshow={"slide_type": "slide"}
# Zeros darken the border of a bright image; an edge detector then finds a false edge all around. Reflect and
# replicate continue the image smoothly; circular glues the right edge to the left, which suits periodic
# data but not photos. `reflect` needs the padding to be smaller than the input, since it mirrors the input
# without its edge value.
#
# ## 3. Stride is subsampling
# A stride-$s$ convolution computes exactly every $s$-th output of the stride-1 convolution. In 2-D:

# %% slideshow={"slide_type": "fragment"}
image = torch.randn(1, 1, 11, 9)
weight = torch.randn(1, 1, 3, 3)
strided = F.conv2d(image, weight, stride=2, padding=1)
every_second = F.conv2d(image, weight, padding=1)[..., ::2, ::2]
assert torch.allclose(strided, every_second)
print("stride 2:", tuple(strided.shape[-2:]), "= stride 1", tuple(F.conv2d(image, weight, padding=1).shape[-2:]),
      "keeping every second row and column")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The figure shows the layer of the *same* figure above (5×5 input, 3×3 kernel, one ring of zeros) with
# stride 2. Output (0, 1), the second cell of the first output row, reads the window whose left column holds
# 12 and 22: two columns to the right of output (0, 0)'s window, which starts on the padding. The windows
# whose left edge would be the column of 11 or of 13, or whose top edge would be the row of 11 or of 31, are
# the stride-1 outputs that `[..., ::2, ::2]` drops, and the 5×5 output of stride 1 becomes 3×3.

# %% slideshow={"slide_type": "fragment"}
# as assets/figures/02-stride.png
display(figures.draw("02-stride"))


# %% slideshow={"slide_type": "fragment"}
full, kept = F.conv2d(image, weight, padding=1).shape[-2:], strided.shape[-2:]
ratio = (full[0] * full[1]) / (kept[0] * kept[1])
print(f"{full[0]}x{full[1]} = {full[0] * full[1]} outputs at stride 1, {kept[0]}x{kept[1]} = {kept[0] * kept[1]} at "
      f"stride 2: {ratio:.1f} times fewer, not 2^2 = 4")
assert kept == tuple((n - 1) // 2 + 1 for n in full)  # stride 2 keeps positions 0, 2, 4, ...: ceil(n / 2) of n

# %% [markdown] slideshow={"slide_type": "subslide"}
# So a strided convolution computes about $s^2$ times fewer outputs than the stride-1 one (exactly $s^2$ only
# when $s$ divides both output sizes: each axis keeps $\lceil n / s \rceil$ of its $n$ positions) and discards
# nothing it has computed. There is a catch at the far edge: when $(i + 2p - k_{\text{eff}})$ is not a multiple of $s$, the
# last window stops short and the last rows or columns of the input are **never read**. Backpropagation shows
# which: an input that no window reaches gets zero gradient.

# %% slideshow={"slide_type": "fragment"}
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

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Dilation: a wider view for the same weights
# A dilated kernel has the same $k$ weights but spreads them over $d(k - 1) + 1$ positions. Stacking layers
# with growing dilation makes the receptive field (the input positions one output depends on) grow
# exponentially with depth, while the number of weights grows only linearly. Yu & Koltun, *Multi-scale context
# aggregation by dilated convolutions* (arXiv:1511.07122), build networks for dense prediction on this idea.

# %% [markdown]
# One 3×3 kernel with dilation 2 on a 7×7 input: the 9 outlined taps of output (0, 0) are 11, 13, 15, 31,
# …, 55, every second row and column, and this output reads none of the cells in the gaps (12, 21, 22, …).
# The kernel spans 5 cells a side with 9 weights, so only 3 windows fit along each axis: a 3×3 output.

# %% slideshow={"slide_type": "fragment"}
# as assets/figures/02-dilation.png
display(figures.draw("02-dilation"))

# %% slideshow={"slide_type": "fragment"}
stacks = {
    "three 3x3, dilation 1": [(3, 1, 1)] * 3,
    "three 3x3, dilations 1, 2, 4": [(3, 1, 1), (3, 1, 2), (3, 1, 4)],
    "one 15x15": [(15, 1, 1)],
}
print(f"{'stack':32s} receptive field  weights (2-D, one channel)")
for name, layers in stacks.items():
    weights = sum(conv_parameter_count(1, 1, k, bias=False) for k, _, _ in layers)
    print(f"{name:32s} {receptive_field(layers):15d}  {weights:7d}")


def inputs_read(layers, size=64):
    # the input positions output 0 depends on (non-zero gradient through all-ones kernels)
    x = torch.ones(1, 1, size, requires_grad=True)
    y = x
    for k, s, d in layers:
        y = F.conv1d(y, torch.ones(1, 1, k), stride=s, dilation=d)
    y[0, 0, 0].backward()
    return torch.nonzero(x.grad.flatten()).flatten().tolist()


def footprint(layers, size=64):
    # how many input positions lie between the first and the last that output 0 depends on
    read = inputs_read(layers, size)
    return read[-1] - read[0] + 1


for layers in stacks.values():
    assert footprint(layers) == receptive_field(layers)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The dilated stack sees 15 positions (as far as one 15×15 kernel) with 27 weights instead of 225. The price
# is a risk called *gridding* (Wang et al., "Understanding Convolution for Semantic Segmentation", WACV 2018,
# arXiv:1702.08502): a dilated layer on its own reads only every $d$-th input, and so does a stack whose rates
# all share a factor. Which inputs does output 0 read, among those its receptive field spans?

# %% slideshow={"slide_type": "fragment"}
gridding = {
    "one 3x3, dilation 2": [(3, 1, 2)],
    "three 3x3, dilations 2, 2, 2": [(3, 1, 2)] * 3,
    "three 3x3, dilations 1, 2, 4": [(3, 1, 1), (3, 1, 2), (3, 1, 4)],
}
for name, layers in gridding.items():
    read = inputs_read(layers)
    assert footprint(layers) == receptive_field(layers)
    print(f"{name:30s} reads {len(read):2d} of the {receptive_field(layers):2d} inputs it spans: {read}")
assert all(i % 2 == 0 for i in inputs_read(gridding["three 3x3, dilations 2, 2, 2"]))

# %% [markdown] slideshow={"slide_type": "slide"}
# With rates 2, 2, 2 the odd inputs never reach output 0 (and the even ones never reach output 1): two
# interleaved networks that never exchange information. Starting with rate 1, as the 1, 2, 4 stack does, fills
# every gap, which is why dilation rates are mixed in practice.
#
# ## 5. The convolution-arithmetic explorer
# Move the sliders: input size, kernel size, padding (or pick valid / same / full), stride, dilation, padding
# mode, and which output position to inspect. The picture shows the padded input (padding in grey), the kernel
# taps at that position (dilation leaves gaps), the output grid, the formula with your numbers filled in, and
# the PyTorch layer that has this configuration. Impossible combinations are explained in the widget.

# %% slideshow={"slide_type": "fragment"}
explorers.ConvArithmeticExplorer()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. The 15 relationships of convolution arithmetic
# Dumoulin & Visin's *A guide to convolution arithmetic for deep learning* (arXiv:1603.07285) works through the
# output size case by case, from a plain convolution (no padding, stride 1) to strided transposed and dilated
# ones, and numbers the results 1 to 15. Each is the formula of section 1 under one condition, so they make a
# good test: cover the formula column below and predict it from the condition. The guide's notation: input size
# $i$, kernel size $k$, stride $s$, zero padding $p$, dilation $d$, output size $o$; a transposed convolution
# maps $i'$ to $o'$. Inputs and kernels are square, so one axis tells all.
#
# `cnn_lessons.relationships` holds the fifteen as data: the condition, the formula, the configurations to try
# and the PyTorch call that measures the true size. `check_relationship(n)` compares formula and PyTorch on
# every configuration and stops at the first one where they differ. Below each formula, its worked example with
# the numbers filled in (`//` rounds down, as $\lfloor \cdot \rfloor$ does):

# %% slideshow={"slide_type": "fragment"}
checks = [relationships.check_relationship(rel.number) for rel in relationships.RELATIONSHIPS]
print(relationships.relationship_table(checks))
print(f"\n{sum(check.configurations for check in checks)} configurations in all, each as PyTorch computes it")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Read down the families. Padding adds $2p$ positions, so half padding ($p = \lfloor k/2 \rfloor$, odd $k$)
# keeps the size and full padding ($p = k - 1$) grows it by $k - 1$. Stride divides the number of window
# positions and rounds down. Pooling (7) has exactly the size of an unpadded strided convolution (5): it slides
# a window too, and only replaces the weighted sum by a maximum or a mean. Relationship 15 is section 1's
# formula, with the dilated kernel's $k + (k - 1)(d - 1)$ positions in place of $k$ (section 4 draws its example).
#
# Each family's worked example, drawn:

# %% slideshow={"slide_type": "fragment"}
for family in ("no padding", "padding", "stride", "pooling"):
    rel = relationships.relationship(figures.FAMILY_RELATIONSHIP[family])
    print(f"{family}, relationship {rel.number}: {rel.worked()}")
    display(figures.relationship_family(family))

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Transposed convolutions (relationships 8 to 14)
# A transposed convolution runs the size arithmetic backwards: it takes a convolution's output size back to its
# input size. Autograd uses it for a convolution's gradient with respect to its input, and decoders use it to
# upsample. The guide shows that it is a direct convolution in disguise: put $s - 1$ zeros between neighbouring
# input values (stretch), pad $k - 1 - p$ zeros on every side, and correlate with the kernel flipped in both
# axes, stride 1. The table's checks of 8 to 14 compare the values as well as the sizes: on every configuration
# this direct convolution (`ops.conv_transpose2d_as_direct`) computes what `F.conv_transpose2d` computes.
# [Lesson 05](05-backward-and-transposed.ipynb) derives it from the backward pass and draws it in an explorer.
# Here it is on relationship 14's example:

# %% slideshow={"slide_type": "fragment"}
print(ops.stretch(torch.arange(1, 10).view(3, 3), 2))  # stride 2: one zero between neighbours

y = torch.arange(1.0, 10.0).view(1, 1, 3, 3)
weight = torch.randn(1, 2, 3, 3)  # (in, out, kh, kw), PyTorch's layout for transposed convolutions
direct = ops.conv_transpose2d_as_direct(y, weight, stride=2, padding=1, output_padding=1)
by_torch = F.conv_transpose2d(y, weight, stride=2, padding=1, output_padding=1)
assert torch.allclose(direct, by_torch, atol=1e-5)
print("direct convolution == F.conv_transpose2d, output", tuple(by_torch.shape[-2:]),
      "= conv_transpose_output_size:", conv_transpose_output_size(3, 3, stride=2, padding=1, output_padding=1))
for rel in relationships.RELATIONSHIPS[7:14]:
    print(f"relationship {rel.number:2d}, the direct convolution: {rel.direct}")

# %% slideshow={"slide_type": "fragment"}
display(figures.relationship_family("transposed"))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Why `output_padding` exists.** With stride $s$ several input sizes give the same output size: with $k = 3$,
# $s = 2$, $p = 1$, inputs of 5 and 6 both give 3. Going back, the transposed convolution has to be told which
# one to return to. Relationship 14's $a = (i + 2p - k) \bmod s$ counts the positions at the end of the padded
# input that the last window stopped short of (section 3); the guide adds $a$ zeros at the bottom and right of
# the stretched, padded input, and PyTorch calls it `output_padding`. With that $a$, a convolution followed by a
# transposed convolution always returns to $i$:

# %% slideshow={"slide_type": "fragment"}
for i in (5, 6):
    o = conv_output_size(i, 3, stride=2, padding=1)
    a = (i + 2 * 1 - 3) % 2
    back = F.conv_transpose2d(torch.zeros(1, 1, o, o), torch.zeros(1, 1, 3, 3), stride=2, padding=1, output_padding=a)
    print(f"i = {i} -> conv: o = {o} -> transposed conv with a = {a}: {back.shape[-1]}")
print(f"conv, then transposed conv, returns to i in {relationships.check_round_trips()} configurations")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. Pooling: max, average and `ceil_mode`
# Pooling windows follow the same arithmetic with the stride defaulting to the window size. `ceil_mode=True`
# rounds the division up instead of down, so a last, partial window is kept, unless it would start inside the
# right padding. `pool_output_size` follows PyTorch's rule:

# %% slideshow={"slide_type": "fragment"}
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

# %% [markdown] slideshow={"slide_type": "slide"}
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

# %% slideshow={"slide_type": "fragment"}
stems = {
    "VGG: 3x3, 3x3, 2x2 pool /2, 3x3, 3x3": [(3, 1), (3, 1), (2, 2), (3, 1), (3, 1)],
    "ResNet stem: 7x7/2, 3x3 max-pool /2": [(7, 2), (3, 2)],
    "AlexNet: 11x11/4, 3x3/2, 5x5": [(11, 4), (3, 2), (5, 1)],
}
for name, layers in stems.items():
    r = receptive_field(layers)
    assert r == footprint([(k, s, 1) for k, s in layers], size=128)
    print(f"{name:38s} receptive field {r}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The dilated stack of section 4 (3-tap kernels, dilations 1, 2, 4), drawn in 1-D: follow the orange cells
# down from the outlined output of layer 3. In each layer the cells read lie as far apart as the dilation of
# the layer above (4 in layer 2, 2 in layer 1), with white gaps between them; only the undilated layer 1
# closes the gaps, so the output reads every input cell from 1 to 15: r = 15.

# %% slideshow={"slide_type": "fragment"}
# as assets/figures/02-receptive-field-dilated.png
display(figures.draw("02-receptive-field-dilated"))

# %% slideshow={"slide_type": "fragment"}
explorers.ReceptiveFieldExplorer()


# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
# **Exercise 1 (easy).** Write `output_size(size, kernel_size, stride, padding, dilation)`, the output length of
# a convolution as PyTorch computes it (`padding` is an int here).

# %% nbgrader={"grade": false, "grade_id": "output_size", "locked": false, "schema_version": 3, "solution": true, "task": false} slideshow={"slide_type": "notes"} tags=["solution"]
def output_size(size, kernel_size, stride, padding, dilation):
    ### BEGIN SOLUTION
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_output_size", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false} slideshow={"slide_type": "fragment"} tags=["exercise"]
exercises.check_output_size(output_size)


# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 2 (medium).** Write `same_padding(kernel_size, dilation)` returning `(left, right)`: the zeros
# PyTorch adds for `padding="same"` (stride 1), split the way PyTorch splits them.

# %% nbgrader={"grade": false, "grade_id": "my_same_padding", "locked": false, "schema_version": 3, "solution": true, "task": false} slideshow={"slide_type": "notes"} tags=["solution"]
def my_same_padding(kernel_size, dilation):
    ### BEGIN SOLUTION
    total = dilation * (kernel_size - 1)
    return total // 2, total - total // 2
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_same_padding", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false} slideshow={"slide_type": "fragment"} tags=["exercise"]
exercises.check_same_padding(my_same_padding)


# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 3 (harder).** Write `transposed_size(size, kernel_size, stride, padding, output_padding)`, the
# output length of `nn.ConvTranspose1d` (relationship 14, dilation 1).

# %% nbgrader={"grade": false, "grade_id": "transposed_size", "locked": false, "schema_version": 3, "solution": true, "task": false} slideshow={"slide_type": "notes"} tags=["solution"]
def transposed_size(size, kernel_size, stride, padding, output_padding):
    ### BEGIN SOLUTION
    return stride * (size - 1) + output_padding + kernel_size - 2 * padding
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_transposed_output_size", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false} slideshow={"slide_type": "fragment"} tags=["exercise"]
exercises.check_transposed_output_size(transposed_size)


# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 4 (harder).** Write `my_receptive_field(layers)` for a chain of `(kernel_size, stride)` layers,
# first layer first (no dilation), as section 8 derives it, and check it on the stems of section 8.

# %% nbgrader={"grade": false, "grade_id": "my_receptive_field", "locked": false, "schema_version": 3, "solution": true, "task": false} slideshow={"slide_type": "notes"} tags=["solution"]
def my_receptive_field(layers):
    ### BEGIN SOLUTION
    field, jump = 1, 1
    for kernel_size, stride in layers:
        field += (kernel_size - 1) * jump
        jump *= stride
    return field
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_receptive_field", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false} slideshow={"slide_type": "fragment"} tags=["exercise"]
exercises.check_receptive_field(my_receptive_field)

# %% [markdown] slideshow={"slide_type": "slide"}
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
