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
# # 03 · Building and training a CNN
#
# Lessons 01 and 02 took one convolution apart. A network stacks many of them, each with many input and many
# output channels, and learns their kernels from data. This lesson first asks why images get convolutions rather
# than dense layers at all, then builds a small convolutional network piece by piece, counts every parameter,
# follows one training step from the logits to the updated weights, trains a network on handwritten digits, and
# then looks inside it: its filters, its feature maps, its mistakes, and how it copes when the digits move.
#
# **You will**
# 0. count what a dense layer costs on a photo, and turn it into a convolution in two steps, locality and weight
#    sharing, each a constraint on its weight matrix;
# 1. see how channels combine: one kernel per (output, input) pair, 1×1 convolutions, groups and depthwise
#    convolutions, and the parameter count of each, checked against `torchinfo`;
# 2. build a configurable CNN whose shapes are computed, not hand-written, and trace an input through it;
# 3. run a forward pass, a cross-entropy loss, a backward pass and one optimizer step by hand;
# 4. check how PyTorch initialises the weights;
# 5. train a CNN on scikit-learn's digits and compare it with a support vector machine;
# 6. look at what it learned (filters, feature maps, mistakes, confusion matrix);
# 7. measure translation equivariance: CNNs with a pooled and with a flattened head against an MLP, on shifted
#    digits.
#
# Every number below is printed by a code cell, and every formula is checked against PyTorch by an `assert`.

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
import math
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
import torchinfo
from IPython.display import display
from sklearn.metrics import confusion_matrix
from sklearn.svm import SVC
from torch import nn

from cnn_lessons import arithmetic, data, drawing, exercises, explorers, features, figures, models, ops, train

torch.manual_seed(0)
torch.set_printoptions(precision=3, sci_mode=False)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

# %% slideshow={"slide_type": "skip"}
# NBVAL_IGNORE_OUTPUT
# the device depends on the machine running the lesson (a GPU when there is one)
print(f"torch {torch.__version__} on {device}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 0. Why convolutions? From a dense layer to a convolution
#
# ### 0.1 A dense layer on a photo
# The most general layer is the **dense** (fully connected) layer, `nn.Linear`: every output has its own
# weight for every input, plus a bias, so a layer from $n$ inputs to $m$ outputs has $(n + 1)\,m$ parameters.
# It knows nothing about images: to it a photo is one long vector of numbers. What does it cost on one?
#
# A 224×224 RGB photo holds $3 \cdot 224 \cdot 224$ values. Compare a dense layer to as many outputs as inputs
# with a 3×3 convolution from 3 to 3 channels (padding 1), which gives exactly as many values. The convolution is
# built for real. The dense layer is not: its count comes from the formula (`arithmetic.dense_parameter_count`),
# checked here against small `nn.Linear` layers that are built, and the count below shows why.

# %% slideshow={"slide_type": "fragment"}
torch.manual_seed(0)


def n_params(module):
    return sum(p.numel() for p in module.parameters())


for n_in, n_out in [(12, 12), (48, 20), (3 * 8 * 8, 3 * 8 * 8)]:  # small dense layers, built
    assert arithmetic.dense_parameter_count(n_in, n_out) == (n_in + 1) * n_out == n_params(nn.Linear(n_in, n_out))

photo = torch.zeros(1, 3, 224, 224)
n = photo.numel()
conv3 = nn.Conv2d(3, 3, kernel_size=3, padding=1)
with torch.no_grad():
    assert conv3(photo).shape == photo.shape  # as many outputs as the dense layer: n
dense_count = arithmetic.dense_parameter_count(n, n)
conv_count = arithmetic.conv_parameter_count(3, 3, 3)
assert conv_count == n_params(conv3) == (3 * 3 * 3 + 1) * 3


def in_memory(count):  # float32: 4 bytes each; GB = 10^9 bytes, GiB = 2^30 bytes
    size = 4 * count
    return f"{size:,} bytes = {size / 1e9:.1f} GB = {size / 2**30:.1f} GiB"


print(f"the photo: 3 x 224 x 224 = {n:,} values, {4 * n:,} bytes as float32")
print(f"dense, {n:,} -> {n:,}: ({n:,} + 1) x {n:,} = {dense_count:,} parameters")
print(f"  as float32: {in_memory(dense_count)}")
print(f"3x3 convolution, 3 -> 3 channels: (3 x 3 x 3 + 1) x 3 = {conv_count} parameters, {4 * conv_count} bytes")
assert dense_count % conv_count == 0
print(f"the dense layer has {dense_count // conv_count:,} times as many parameters")

# %% [markdown] slideshow={"slide_type": "subslide"}
# That memory is for the weights alone (GB counts $10^9$ bytes, GiB $2^{30}$: one amount in two units). The gap
# comes from two differences. Each output of the convolution reads a 3×3 neighbourhood (in every input channel),
# not the whole photo: **locality**. And all the outputs of a channel read their neighbourhoods through the same
# weights and add the same bias: **weight sharing**. The next cells impose them on a dense layer one at
# a time, on an image small enough to look at its weight matrix.
#
# ### 0.2 Locality: a banded matrix
# One channel of 6×6 pixels, flattened row by row, is a vector of 36 values; a dense layer to one output per
# pixel multiplies it by a 36×36 weight matrix $W$, whose entry $W_{rc}$ is the weight with which output pixel
# $r$ reads input pixel $c$ (biases aside in this section). Locality keeps, in each row, only the weights of the
# 3×3 neighbourhood of that output's own pixel and fixes the rest at 0. In row-by-row order a pixel's neighbours
# are itself and the pixels just before and after it, and the same three one image row up and down (6 places
# away): the non-zeros lie in three narrow bands along the diagonal, a **banded** matrix. At the border, the
# part of the window that hangs over the edge has no pixel to read.

# %% slideshow={"slide_type": "fragment"}
size = 6
dense = nn.Linear(size * size, size * size).weight.detach()  # dense[r, c]: output pixel r reads input pixel c
row, col = torch.arange(size * size) // size, torch.arange(size * size) % size  # flat index -> (row, column)
near = ((row[:, None] - row[None, :]).abs() <= 1) & ((col[:, None] - col[None, :]).abs() <= 1)
local = dense * near  # locality: each output keeps the weights of its 3x3 neighbourhood, 0 elsewhere

centre = 2 * size + 2  # output pixel (2, 2), away from the border
print("output pixel (2, 2) reads input pixels", [(int(row[c]), int(col[c])) for c in near[centre].nonzero().flatten()])
inside = int(F.unfold(torch.ones(1, 1, size, size), 3, padding=1).sum())  # torch: window cells on the image
assert int(local.count_nonzero()) == int(near.sum()) == inside
pixels = size * size
print(f"free weights: dense {dense.numel():,} = {pixels} x {pixels}; local {inside} = {pixels} outputs x 9 "
      f"- {pixels * 9 - inside} window cells that fall off the image")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### 0.3 Weight sharing: a tied matrix
# Weight sharing gives every output the *same* nine weights: the weight with which output $(i, j)$ reads input
# $(i + a, j + b)$ depends only on the offset $(a, b)$, not on where the output is. Take output (2, 2)'s nine
# weights as the kernel and copy them into every row: along each diagonal of the bands one number repeats (with
# gaps where a window hangs over the left or right edge), a **tied** matrix. It is exactly the matrix of
# `F.conv2d` with that kernel and padding 1. To build that matrix from `F.conv2d` alone, feed it the 36 **unit
# impulses** (an image that is 1 at one pixel and 0 elsewhere): the response to pixel $c$ is column $c$.
# `ops.conv_matrix` (lesson 05) builds it too. On the photo of section 0.1 the same two steps take the weights
# (biases aside, 3 channels in and out) from the dense layer's count to that of a *locally connected* layer,
# whose every output has its own weights for its 3×3×3 window, and then to the convolution's.

# %% slideshow={"slide_type": "fragment"}
kernel = local[centre].view(size, size)[1:4, 1:4]  # output (2, 2)'s weights: its window, rows and columns 1-3
shared = torch.zeros(size * size, size * size)
for r in range(size * size):
    for c in near[r].nonzero().flatten():  # the same weight for the same offset, wherever the output is
        shared[r, c] = kernel[row[c] - row[r] + 1, col[c] - col[r] + 1]

impulses = torch.eye(size * size).view(size * size, 1, size, size)  # 36 images, each with a single 1
by_impulses = F.conv2d(impulses, kernel[None, None], padding=1).view(size * size, size * size).T
assert torch.allclose(shared, by_impulses, atol=1e-7) and torch.equal(shared, ops.conv_matrix(kernel, size, padding=1))
x = torch.randn(size, size)
assert torch.allclose(shared @ x.flatten(), F.conv2d(x[None, None], kernel[None, None], padding=1).flatten(), atol=1e-6)
free = int(shared[near].unique().numel())
assert int(shared.count_nonzero()) == inside and free == 9
print(f"free weights: dense {dense.numel():,}, local {inside}, shared {free} "
      f"(the kernel's, repeated over the {inside} non-zeros)")

photo_local = 3 * int(F.unfold(torch.ones(1, 3, 224, 224), 3, padding=1).sum())  # window cells x 3 outputs
assert photo_local == 3 * 3 * (3 * 224 - 2) ** 2
print(f"on the photo, weights only: dense {n * n:,}, local {photo_local:,}, shared {conv3.weight.numel()}")
display(figures.dense_local_shared(dense, local, shared))

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### 0.4 What the constraints buy, and what they cost
# They buy far fewer parameters (counted above), and a kernel learned once is used at every position. They also
# buy **translation equivariance**: shift the input, and the output shifts with it. On the matrices it holds
# exactly, up to float rounding, for an input with zeros around its content, shifted one pixel right and one down
# (`data.shift_images`, zeros coming in): the shared matrix passes, the dense and the local one, whose weights
# change from position to position, do not.

# %% slideshow={"slide_type": "fragment"}
def apply(matrix, image):
    return (matrix @ image.flatten()).view(size, size)


framed_input = torch.zeros(size, size)
framed_input[1:4, 1:4] = torch.randn(3, 3)  # content in rows and columns 1-3, zeros around it
gaps = {}
for name, matrix in {"dense": dense, "local": local, "shared": shared}.items():
    shift_first = apply(matrix, data.shift_images(framed_input, 1, 1))
    gaps[name] = (shift_first - data.shift_images(apply(matrix, framed_input), 1, 1)).abs().max()
    print(f"{name:>6}: shift then apply vs apply then shift, largest difference {gaps[name]:.2f}")
assert gaps["shared"] < 1e-6 and min(gaps["dense"], gaps["local"]) > 0.1

# %% [markdown] slideshow={"slide_type": "subslide"}
# The borders break it. With content up to the edge, the shift pushes the last column out and brings zeros in:
# the output's first column (where the zeros came in) and its last (whose window held the column pushed out)
# differ; the four between them still agree. A circular shift (`torch.roll`, what leaves on the right comes back
# on the left) with circular padding has no border, and there equivariance holds at every pixel:

# %% slideshow={"slide_type": "fragment"}
full_input = torch.randn(size, size)
gap = (apply(shared, data.shift_images(full_input, 1, 0)) - data.shift_images(apply(shared, full_input), 1, 0)).abs()
differ = gap.amax(dim=0).gt(1e-6).nonzero().flatten().tolist()
print("shifted one pixel right: output columns that differ", differ)
assert differ == [0, size - 1]


def circular_conv(image):
    return F.conv2d(F.pad(image[None, None], (1, 1, 1, 1), mode="circular"), kernel[None, None])[0, 0]


rolled = circular_conv(torch.roll(full_input, (1, 1), (0, 1))) - torch.roll(circular_conv(full_input), (1, 1), (0, 1))
print(f"circular: largest difference {rolled.abs().max():.2f} over all {size * size} pixels")
assert rolled.abs().max() < 1e-6

# %% [markdown] slideshow={"slide_type": "subslide"}
# What they cost: away from the borders, a convolution treats every position alike. It cannot, for example,
# weight the top-left pixel one way and the centre pixel another: each output reads its own pixel with the
# kernel's centre weight, one number on the whole diagonal of the tied matrix, where a dense layer has 36. Nor
# can an output read anything outside its window: the top-left output never sees the bottom-right pixel. Where
# position matters, it has to come from elsewhere: from the borders, where the zero padding makes outputs differ
# (above), or from a layer that shares nothing, such as the dense head of section 2.

# %% slideshow={"slide_type": "fragment"}
for name, matrix in {"dense": dense, "local": local, "shared": shared}.items():
    print(f"{name:>6}: {matrix.diagonal().unique().numel():>2} different weights on the diagonal; "
          f"top-left output reads the bottom-right pixel: {bool(matrix[0, -1] != 0)}")
assert shared.diagonal().unique().numel() == 1 and dense.diagonal().unique().numel() == size * size
assert dense[0, -1] != 0 and local[0, -1] == 0 == shared[0, -1]

# %% [markdown] slideshow={"slide_type": "subslide"}
# Equivariance is a property of one convolution on a whole image. Whether a trained network keeps it, and what a
# network needs to be *invariant* to shifts, is measured in section 7: CNNs against an MLP on shifted digits.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Channels
#
# ### 1.1 One kernel per (output, input) pair
# A colour image has three channels; the feature maps inside a network have dozens. A convolution layer from
# $C_{in}$ to $C_{out}$ channels holds a separate $k_h \times k_w$ kernel for every pair of an output channel
# $o$ and an input channel $i$. Output channel $o$ correlates each input channel with its own kernel and adds
# the results, plus one bias:
#
# $$y_o \;=\; b_o + \sum_{i=0}^{C_{in}-1} x_i \star W_{o,i}.$$
#
# So the weight tensor has shape $(C_{out}, C_{in}, k_h, k_w)$. Let us rebuild an `nn.Conv2d` output from
# single-channel correlations (`ops.correlate2d`, lesson 01), one pair at a time:

# %% slideshow={"slide_type": "fragment"}
torch.manual_seed(0)
conv = nn.Conv2d(in_channels=3, out_channels=4, kernel_size=3)
x = torch.randn(1, 3, 6, 6)
weight, bias = conv.weight.detach(), conv.bias.detach()
print("weight:", tuple(weight.shape), "  bias:", tuple(bias.shape))
print("kernels:", weight.shape[0] * weight.shape[1], "of 3x3, one per (output, input) pair")

by_pairs = torch.stack(
    [sum(ops.correlate2d(x[0, i], weight[o, i]) for i in range(3)) + bias[o] for o in range(4)]
)
with torch.no_grad():
    y = conv(x)
assert torch.allclose(by_pairs, y[0], atol=1e-5)
print("output:", tuple(y.shape), "= (batch, out_channels, 6 - 3 + 1, 6 - 3 + 1)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### 1.2 1×1 convolutions
# With $k = 1$ a kernel is a single number per (output, input) pair, so a 1×1 convolution mixes the channels
# of each pixel and never looks at its neighbours: at every pixel it applies the same linear map, a
# $C_{out} \times C_{in}$ matrix plus a bias. It is exactly an `nn.Linear` applied to each pixel's vector of
# channels. Lin, Chen and Yan used 1×1 convolutions this way in "Network in Network" (arXiv 1312.4400, 2013);
# Inception and ResNet use them to shrink or grow the number of channels cheaply (lesson 04).

# %% slideshow={"slide_type": "fragment"}
pointwise = nn.Conv2d(8, 4, kernel_size=1)
x = torch.randn(2, 8, 5, 5)
W = pointwise.weight.detach().view(4, 8)  # (out, in, 1, 1) -> (out, in): one matrix
b = pointwise.bias.detach()

linear = nn.Linear(8, 4)
with torch.no_grad():
    linear.weight.copy_(W)
    linear.bias.copy_(b)
    y = pointwise(x)
    per_pixel = torch.einsum("oi,nihw->nohw", W, x) + b.view(1, 4, 1, 1)  # W @ (the 8 channels of a pixel) + b
    as_linear = linear(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)  # channels last, Linear, channels back
assert torch.allclose(y, per_pixel, atol=1e-6) and torch.allclose(y, as_linear, atol=1e-6)
print("weight:", tuple(pointwise.weight.shape), "| parameters:", sum(p.numel() for p in pointwise.parameters()),
      "= 8 * 4 + 4, the same as nn.Linear(8, 4):", sum(p.numel() for p in linear.parameters()))

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### 1.3 Groups and depthwise convolutions
# `groups=g` splits the input channels and the output channels into $g$ groups, and each output group only
# sees its own input group: the layer is $g$ independent convolutions side by side, each from $C_{in}/g$ to
# $C_{out}/g$ channels. Each kernel then spans $C_{in}/g$ channels, so the weight shape is
# $(C_{out}, C_{in}/g, k_h, k_w)$. (The original AlexNet used two groups in three of its layers, to split them
# across two GPUs; Krizhevsky, Sutskever and Hinton, NIPS 2012. Lesson 04's `models.alexnet` is the single-GPU
# variant of Krizhevsky's "One weird trick for parallelizing convolutional neural networks", arXiv:1404.5997,
# without groups, as torchvision builds it.)

# %% slideshow={"slide_type": "fragment"}
grouped = nn.Conv2d(8, 16, kernel_size=3, padding=1, groups=4)
x = torch.randn(1, 8, 6, 6)
print("weight:", tuple(grouped.weight.shape), "= (16 outputs, 8 / 4 = 2 inputs each, 3, 3)")

with torch.no_grad():
    y = grouped(x)
    # group g: input channels 2g, 2g+1 -> output channels 4g .. 4g+3, a separate small convolution
    pieces = [
        F.conv2d(x[:, 2 * g : 2 * g + 2], grouped.weight[4 * g : 4 * g + 4], grouped.bias[4 * g : 4 * g + 4], padding=1)
        for g in range(4)
    ]
    assert torch.allclose(torch.cat(pieces, dim=1), y, atol=1e-6)

    nudged = x.clone()
    nudged[:, 0] += 1.0  # change input channel 0 (group 0) only
    changed = (grouped(nudged) - y).abs().amax(dim=(0, 2, 3)) > 0
print("output channels that react to input channel 0:", changed.nonzero().flatten().tolist())
assert changed.nonzero().flatten().tolist() == [0, 1, 2, 3]

# %% [markdown] slideshow={"slide_type": "subslide"}
# With as many groups as input channels (`groups=in_channels`), each channel is filtered by its own kernel(s)
# and nothing is mixed: a **depthwise** convolution. Followed by a 1×1 (**pointwise**) convolution that does
# the mixing, it makes a **depthwise separable** convolution, the building block of MobileNet (Howard et al.,
# arXiv 1704.04861, 2017) and Xception (Chollet, CVPR 2017). It maps the same input shape to the same output
# shape as a full convolution, with far fewer parameters:

# %% slideshow={"slide_type": "fragment"}
depthwise = nn.Conv2d(8, 8, kernel_size=3, padding=1, groups=8)
x = torch.randn(8, 7, 7)
with torch.no_grad():
    y = depthwise(x[None])[0]
# each channel correlated with its own 3x3 kernel, nothing summed across channels
alone = torch.stack([ops.correlate2d(x[c], depthwise.weight[c, 0].detach(), padding=1) + depthwise.bias[c].detach() for c in range(8)])
assert torch.allclose(alone, y, atol=1e-5)
print("depthwise weight:", tuple(depthwise.weight.shape))

separable = nn.Sequential(depthwise, nn.Conv2d(8, 16, kernel_size=1))
full = nn.Conv2d(8, 16, kernel_size=3, padding=1)
print(f"8 -> 16 channels, 3x3: full convolution {n_params(full):,} parameters, "
      f"depthwise + pointwise {n_params(separable[0])} + {n_params(separable[1])} = {n_params(separable)}")
assert separable(x[None]).shape == full(x[None]).shape == (1, 16, 7, 7)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Fewer parameters means fewer functions: a separable convolution is a full convolution whose kernels are
# restricted. Written as one 3×3 convolution, its kernel from input channel $i$ to output channel $o$ is the
# pointwise weight times the depthwise kernel, $w[o, i] = p[o, i]\, d[i]$: all 16 kernels that read channel $i$
# are multiples of one 3×3 pattern. A full convolution can give each of them its own pattern:

# %% slideshow={"slide_type": "fragment"}
with torch.no_grad():
    spatial = depthwise.weight[:, 0]  # (8, 3, 3): one pattern per input channel
    mixing = separable[1].weight[:, :, 0, 0]  # (16, 8)
    combined = mixing[:, :, None, None] * spatial[None]  # (16, 8, 3, 3)
    combined_bias = mixing @ depthwise.bias + separable[1].bias
    assert torch.allclose(F.conv2d(x[None], combined, combined_bias, padding=1), separable(x[None]), atol=1e-5)
    ranks_separable = [int(torch.linalg.matrix_rank(combined[:, i].reshape(16, 9))) for i in range(8)]
    ranks_full = [int(torch.linalg.matrix_rank(full.weight[:, i].reshape(16, 9))) for i in range(8)]
print("rank of the 16 kernels reading each input channel (as a 16x9 matrix):")
print("  separable:", ranks_separable, "| full:", ranks_full)
assert set(ranks_separable) == {1} and set(ranks_full) == {9}

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### 1.4 Counting parameters
# Putting it together: every output channel has $\frac{C_{in}}{g} \cdot k_h \cdot k_w$ weights and one bias,
# so a convolution layer has
#
# $$\text{parameters} \;=\; \left(\frac{C_{in}}{g}\, k_h\, k_w + 1\right) C_{out}.$$
#
# Note what is missing: the image size. The same kernels slide over every position (weight sharing), so a
# layer has as many parameters on an 8×8 digit as on a photo; its computation, one multiply-add per weight
# and output position, does grow with the image (printed below the table). The formula, `arithmetic.conv_parameter_count`, PyTorch's
# own count and `torchinfo.summary` agree on a range of layers:

# %% slideshow={"slide_type": "fragment"}
layers = [  # (in, out, kernel, groups)
    (3, 8, 3, 1),
    (8, 16, 3, 1),
    (8, 4, 1, 1),
    (8, 16, 3, 4),
    (8, 8, 3, 8),
    (3, 64, 7, 1),
    (64, 128, (3, 5), 2),
]
print(f"{'in':>4} {'out':>4} {'kernel':>7} {'groups':>6} | {'formula':>8} {'arithmetic':>10} {'torch':>8} {'torchinfo':>9}")
for c_in, c_out, k, g in layers:
    kh, kw = (k, k) if isinstance(k, int) else k
    layer = nn.Conv2d(c_in, c_out, k, groups=g)
    formula = (c_in // g * kh * kw + 1) * c_out
    counted = arithmetic.conv_parameter_count(c_in, c_out, k, groups=g)
    summary = torchinfo.summary(layer, input_size=(1, c_in, 16, 16), verbose=0, device="cpu")
    assert formula == counted == n_params(layer) == summary.total_params
    print(f"{c_in:>4} {c_out:>4} {f'{kh}x{kw}':>7} {g:>6} | {formula:>8,} {counted:>10,} {n_params(layer):>8,} {summary.total_params:>9,}")

layer = nn.Conv2d(3, 8, kernel_size=3, padding=1)
for size in (8, 224):
    macs = arithmetic.multiply_adds(layer, (3, size, size))
    assert macs == 3 * 3 * 3 * 8 * size * size  # weights per output channel x channels x positions
    print(f"3 -> 8 channels, 3x3, on {size}x{size}: {n_params(layer)} parameters, {macs:,} multiply-adds")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. A small CNN whose shapes are computed
#
# A typical small CNN is a few **conv blocks** (convolution, nonlinearity, pooling) that turn the image into a
# stack of feature maps, then `nn.Flatten` and a few linear layers (the **head**) that turn those into one
# score (**logit**) per class. The one number people get wrong is the head's input size: it depends on the
# image size, the padding and every pooling layer. `models.SimpleCNN` computes it with the functions of lesson
# 02 (`arithmetic.conv_output_size`, `arithmetic.pool_output_size`) instead of asking you to write it down.
#
# The reference configuration: 3×32×32 input, conv channels (8, 16), 3×3 kernels with `"same"` padding, ReLU,
# 2×2 max-pooling after each block, one hidden layer of 32, and 10 classes.

# %% slideshow={"slide_type": "fragment"}
model = models.SimpleCNN(
    in_channels=3, conv_channels=(8, 16), kernel_size=3, padding="same", pool=2, hidden=(32,), num_classes=10,
    input_size=32,
)

# %% [markdown] slideshow={"slide_type": "subslide"}
# `shape_trace()` lists every layer's output shape, worked out by arithmetic before any tensor flows,
# `shape_table()` adds each layer's parameter count by formula, and `figures.simple_cnn` draws the network
# with those shapes (`print(model)` and `torchinfo.summary(model, ...)` list the same layers, without the
# shapes or with them measured by a forward pass):

# %% slideshow={"slide_type": "fragment"}
print(model.shape_table())
display(figures.simple_cnn(model))

# %% [markdown] slideshow={"slide_type": "subslide"}
# The two convolutions follow the formula of section 1.4; a linear layer from $n$ to $m$ features has
# $(n + 1)\,m$ parameters. Added up, and checked against PyTorch and `torchinfo`:

# %% slideshow={"slide_type": "fragment"}
flat = model.flatten_size  # 16 channels x 8 x 8, from the trace
by_formula = {
    "block1.conv": arithmetic.conv_parameter_count(3, 8, 3),
    "block2.conv": arithmetic.conv_parameter_count(8, 16, 3),
    "classifier.fc1": (flat + 1) * 32,
    "classifier.out": (32 + 1) * 10,
}
by_torch = {name: n_params(m) for name, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))}
summary = torchinfo.summary(model, input_size=(1, 3, 32, 32), verbose=0, device="cpu")  # (it would move a model to a GPU)
total = sum(by_formula.values())
print(" + ".join(f"{count:,}" for count in by_formula.values()), "=", f"{total:,}")
assert by_formula == by_torch
assert list(by_formula.values()) == [224, 1168, 32800, 330]
assert total == 34_522 == n_params(model) == summary.total_params
share = by_formula["classifier.fc1"] / total
print(f"the first linear layer holds {share:.0%} of the parameters: it sees all {flat:,} flattened features")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The trace is a promise about shapes; a forward pass keeps it. Hooks record every layer's real output shape
# for a batch of two images, and each one equals the trace:

# %% slideshow={"slide_type": "fragment"}
seen = {}


def record(name):
    def hook(module, args, output):  # a forward hook that returns nothing leaves the output alone
        seen[name] = tuple(output.shape)

    return hook


leaves = [(name, m) for name, m in model.named_modules() if name and not list(m.children())]
handles = [m.register_forward_hook(record(name)) for name, m in leaves]
with torch.no_grad():
    logits = model(torch.randn(2, 3, 32, 32))
for handle in handles:
    handle.remove()

trace = model.shape_trace()
for name, shape in trace[1:]:
    assert seen[name] == (2, *shape), (name, seen[name], shape)
print(f"all {len(trace) - 1} layer shapes agree with a forward pass; logits: {tuple(logits.shape)}")
print(" -> ".join("x".join(map(str, shape)) for name, shape in trace if not name.endswith(".act")))

# %% [markdown] slideshow={"slide_type": "subslide"}
# Because the sizes are computed, other configurations need no arithmetic by hand. A 4×4 kernel on a 30×30
# image: with `"same"` padding an even kernel needs 3 zeros in total per axis, which PyTorch splits as 1
# before and 2 after (lesson 02), and the pools round 15 down to 7:

# %% slideshow={"slide_type": "fragment"}
even = models.SimpleCNN(kernel_size=4, input_size=30)
with warnings.catch_warnings():
    # PyTorch notes that an even kernel with padding="same" makes it pad a copy of the input: a speed remark
    warnings.filterwarnings("ignore", "Using padding='same' with even kernel lengths")
    with torch.no_grad():
        out = even(torch.randn(2, 3, 30, 30))
print("'same' padding of a 4-tap kernel (before, after):", arithmetic.same_padding(4))
print(even.shape_table())
assert out.shape == (2, 10) and even.flatten_size == 16 * 7 * 7

# %% [markdown] slideshow={"slide_type": "subslide"}
# And a configuration that cannot work (four 2×2 pools on an 8×8 image would need a 1×1 map to be halved) is
# refused when the model is built, with a message that names the layer, the sizes and what would fit, rather
# than a shape error deep inside the first forward pass:

# %% slideshow={"slide_type": "fragment"}
try:
    models.SimpleCNN(in_channels=1, input_size=8, conv_channels=(8, 16, 32, 64))
except ValueError as error:
    print("ValueError:", error)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. One training step, by hand
#
# Training repeats four steps: the **forward pass** computes the logits, the **loss** measures how wrong they
# are, the **backward pass** computes the gradient of the loss with respect to every parameter, and the
# **optimizer step** moves each parameter a little against its gradient.
#
# ### 3.1 Forward pass and cross-entropy
# The network outputs logits, not probabilities. The softmax turns a row of logits $z$ into probabilities
# $p_c = e^{z_c} / \sum_j e^{z_j}$, and the cross-entropy of an example with label $y$ is $-\log p_y$, averaged
# over the batch. `F.cross_entropy` takes the logits and does both (in a numerically safe way), so a model
# must **not** end with a softmax of its own. Here is a batch of four random images, and the loss computed
# three ways:

# %% slideshow={"slide_type": "fragment"}
torch.manual_seed(0)
model = models.SimpleCNN().to(device)
images = torch.randn(4, 3, 32, 32).to(device)  # drawn on the CPU: the same batch on every device
labels = torch.tensor([3, 0, 7, 7]).to(device)

logits = model(images)
loss = F.cross_entropy(logits, labels)
rows = torch.arange(len(labels), device=device)
by_log_softmax = -F.log_softmax(logits, dim=1)[rows, labels].mean()
by_hand = (torch.logsumexp(logits, dim=1) - logits[rows, labels]).mean()  # -log p_y = log sum_j e^z_j - z_y
assert torch.allclose(loss, by_log_softmax) and torch.allclose(loss, by_hand)
print("logits:", tuple(logits.shape), "| loss:", round(loss.item(), 3), "| ln 10 =", round(math.log(10), 3))

# %% [markdown] slideshow={"slide_type": "subslide"}
# Before training, the logits are small and nearly equal, so each class gets a probability near 1/10 and the
# loss is close to $\ln 10$: a network that knows nothing should be exactly this unsure.
#
# ### 3.2 Backward pass
# `loss.backward()` fills `.grad` of every parameter with $\partial\,\text{loss} / \partial\,\text{parameter}$.
# A gradient has one entry per parameter entry, so it has the parameter's shape:

# %% slideshow={"slide_type": "fragment"}
model.zero_grad()
loss.backward()
for name, p in model.named_parameters():
    assert p.grad is not None and p.grad.shape == p.shape
    print(f"{name:24s} parameter {str(tuple(p.shape)):16s} gradient {tuple(p.grad.shape)}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### 3.3 Optimizer step
# Plain stochastic gradient descent (SGD) changes each parameter $w$ to $w - \eta\,\partial L/\partial w$,
# with learning rate $\eta$. After `optimizer.step()` every weight has moved by exactly $-\eta$ times its
# gradient (PyTorch computes it as `w.add(grad, alpha=-lr)`), and the loss on the same batch went down:

# %% slideshow={"slide_type": "fragment"}
lr = 0.1
optimizer = torch.optim.SGD(model.parameters(), lr=lr)
before = {name: p.detach().clone() for name, p in model.named_parameters()}
optimizer.step()
for name, p in model.named_parameters():
    assert torch.equal(p.detach(), before[name].add(p.grad, alpha=-lr))  # bit for bit
    assert torch.allclose(p.detach() - before[name], -lr * p.grad, atol=1e-7)
changed = sum(int((p.detach() != before[name]).sum()) for name, p in model.named_parameters())
zero_gradients = sum(int((p.grad == 0).sum()) for p in model.parameters())
print(f"{changed:,} of {n_params(model):,} parameters changed; the other {zero_gradients:,} had a gradient of 0")
assert changed + zero_gradients == n_params(model)

with torch.no_grad():
    after = F.cross_entropy(model(images), labels)
print(f"loss on the same batch: {loss.item():.3f} before the step, {after.item():.3f} after")
assert after < loss

# %% [markdown] slideshow={"slide_type": "slide"}
# The parameters that did not move had a gradient of exactly 0: for example, the weights into a hidden unit
# whose ReLU was off for all four images. In practice, `fit` repeats these steps over mini-batches for several
# epochs, with the Adam-style optimizer AdamW instead of plain SGD.
#
# ## 4. How PyTorch initialises the weights
#
# Before the first step, every weight has a random starting value. `nn.Conv2d` and `nn.Linear` call
# `kaiming_uniform_(weight, a=math.sqrt(5))`. The function is named after He et al.'s initialisation ("Delving
# deep into rectifiers", arXiv 1502.01852, 2015), but with $a = \sqrt 5$ it is not theirs: it draws from $U(-\text{bound}, \text{bound})$ with
# $\text{bound} = \text{gain}\cdot\sqrt{3 / \text{fan\_in}}$, where $\text{fan\_in} = \frac{C_{in}}{g} k_h k_w$
# (inputs per output) and, for the leaky-ReLU gain with $a = \sqrt 5$,
# $\text{gain} = \sqrt{2 / (1 + a^2)} = \sqrt{1/3}$. The two square roots of 3 cancel:
# $\text{bound} = 1/\sqrt{\text{fan\_in}}$. The bias is drawn from $U(-1/\sqrt{\text{fan\_in}}, 1/\sqrt{\text{fan\_in}})$,
# so it does not start at zero. A uniform distribution on $[-B, B]$ has variance $B^2/3$, so the weights have
# variance $1/(3\,\text{fan\_in})$: a sixth of the $2/\text{fan\_in}$ that He et al. derive for ReLU networks.
# [Lesson 06](06-training-well.ipynb), section 1, shows what that scale does to a deep stack.

# %% slideshow={"slide_type": "fragment"}
a = math.sqrt(5)
gain = nn.init.calculate_gain("leaky_relu", a)
assert math.isclose(gain, math.sqrt(2 / (1 + a**2))) and math.isclose(gain, math.sqrt(1 / 3))
for fan_in in (27, 72, 1024, 2304):
    assert math.isclose(gain * math.sqrt(3 / fan_in), 1 / math.sqrt(fan_in))
print(f"gain = {gain:.6f} = sqrt(1/3); bound = gain * sqrt(3 / fan_in) = 1 / sqrt(fan_in)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# A large layer shows it empirically. A uniform distribution on $[-B, B]$ has standard deviation $B/\sqrt 3$,
# and with a million draws the largest $|w|$ comes within a hair of $B$:

# %% slideshow={"slide_type": "fragment"}
torch.manual_seed(0)
big = nn.Conv2d(256, 512, kernel_size=3)
w, b = big.weight.detach(), big.bias.detach()
fan_in = 256 * 3 * 3
bound = 1 / math.sqrt(fan_in)
print(f"fan_in = {fan_in}, bound = 1/sqrt(fan_in) = {bound:.6f}")
print(f"weights: {w.numel():,} values, max |w| = {w.abs().max():.6f}, std = {w.std():.6f}, bound/sqrt(3) = {bound / math.sqrt(3):.6f}")
print(f"biases:  {b.numel()} values in [{b.min():.6f}, {b.max():.6f}], {int((b != 0).sum())} of them non-zero")
he = 2 / fan_in
print(f"weight variance {w.var():.3e} = 1/(3 fan_in) = {1 / (3 * fan_in):.3e}; He et al.'s 2/fan_in = {he:.3e}, "
      f"{he / w.var():.1f} times larger")
assert abs(w.var() * 3 * fan_in - 1) < 0.01
assert w.abs().max() <= bound and w.abs().max() > 0.999 * bound
assert abs(w.std() / (bound / math.sqrt(3)) - 1) < 0.01
assert b.abs().max() <= bound and b.abs().max() > 0.9 * bound and (b != 0).all()

torch.manual_seed(0)  # the same draws, made by hand: uniform on (-bound, bound), weights first, then biases
by_hand_w = torch.empty(512, 256, 3, 3).uniform_(-bound, bound)
by_hand_b = torch.empty(512).uniform_(-bound, bound)
assert torch.allclose(w, by_hand_w) and torch.allclose(b, by_hand_b)
print("torch's initial weights and biases = uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn by hand")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Training on handwritten digits
#
# scikit-learn ships a set of handwritten digits (`load_digits`, no download): small 8×8 grayscale images, each
# pixel counting how much ink fell in a 4×4 block of the original scan. `data.load_digits_split` scales them
# to [0, 1] and splits them once and for all, stratified, into a training and a test set:

# %% slideshow={"slide_type": "fragment"}
split = data.load_digits_split()
print("train:", tuple(split.train_images.shape), "| test:", tuple(split.test_images.shape))
print("total:", len(split.train_labels) + len(split.test_labels), "images; values in",
      [split.train_images.min().item(), split.train_images.max().item()])
print("test images per digit:", torch.bincount(split.test_labels).tolist())

fig, axes = plt.subplots(1, 10, figsize=(10, 1.35))
for digit, ax in enumerate(axes):
    index = int((split.train_labels == digit).nonzero()[0])
    ax.imshow(split.train_images[index, 0], cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(str(digit))
    ax.set_axis_off()
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The network for them is a `SimpleCNN` sized for 8×8 inputs (`train.DIGITS_CNN`): two 3×3 conv blocks with
# 32 and 64 channels, one 2×2 pool (pooling twice would leave only 2×2), and a hidden layer of 128.
# `train.train_digits_cnn` trains it with `train.DIGITS_TRAINING`: AdamW with a one-cycle learning-rate
# schedule, a little label smoothing and weight decay, and each epoch every training digit shifted at random
# by up to one pixel (augmentation). Its recipe and shapes:

# %% slideshow={"slide_type": "fragment"}
print("DIGITS_CNN:", train.DIGITS_CNN)
print("DIGITS_TRAINING:", train.DIGITS_TRAINING)
print(train.digits_cnn().shape_table())

# %% [markdown] slideshow={"slide_type": "subslide"}
# Training takes a few seconds (the bar below shows each epoch's loss and accuracies; its timings vary, so this
# cell's output is not compared when the notebook runs as a test). Training is seeded, and on the CPU it repeats
# exactly, so the results printed after it are the same on every run.

# %% slideshow={"slide_type": "fragment"}
# NBVAL_IGNORE_OUTPUT
# the progress bar is a widget whose timings differ from run to run
start = time.perf_counter()
digits_model, history = train.train_digits_cnn(progress=True, device=device)
print(f"trained in {time.perf_counter() - start:.1f} s on {device}")

# %% slideshow={"slide_type": "fragment"}
accuracy = history.test_accuracy[-1]
n_test = len(split.test_labels)
print(f"{history.epochs} epochs; test accuracy {accuracy:.4f} ({round(accuracy * n_test)} of {n_test} test digits)")
assert accuracy == train.evaluate(digits_model, *split.test)
assert accuracy >= 0.993

# %% slideshow={"slide_type": "fragment"}
fig = train.plot_history(history)
display(fig)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The test accuracy climbs in a few epochs and then settles while the loss keeps falling, towards a floor that
# is not zero: with label smoothing $\varepsilon$ the target gives the right class $1 - \varepsilon +
# \varepsilon/C$ and every other class $\varepsilon/C$, and no prediction can do better than the entropy of that
# target (computed below). The training accuracy is measured on shifted batches with the weights of the moment, so
# it can sit below the test accuracy.
#
# Is a CNN needed at all? A classical baseline on the same split: a support vector machine with an RBF kernel
# (scikit-learn's `SVC` with its defaults) on the 64 pixel values.

# %% slideshow={"slide_type": "fragment"}
epsilon, classes = train.DIGITS_TRAINING["label_smoothing"], 10
target = torch.full((classes,), epsilon / classes)
target[0] += 1 - epsilon
floor = -(target * target.log()).sum().item()  # the cross-entropy of the target with itself: its entropy
print(f"label smoothing {epsilon}: loss floor {floor:.4f}; last epoch's training loss {history.train_loss[-1]:.2f}")
assert floor < history.train_loss[-1]
assert math.isclose(F.cross_entropy(torch.log(target)[None], torch.tensor([0]), label_smoothing=epsilon).item(), floor,
                    rel_tol=1e-5)

# %% slideshow={"slide_type": "fragment"}
svc = SVC().fit(split.train_images.flatten(1).numpy(), split.train_labels.numpy())
svc_accuracy = svc.score(split.test_images.flatten(1).numpy(), split.test_labels.numpy())
print(f"test accuracy: SVC {svc_accuracy:.4f} | CNN {accuracy:.4f}")
print(f"test digits wrong: SVC {round((1 - svc_accuracy) * n_test)} | CNN {round((1 - accuracy) * n_test)}")

# %% [markdown] slideshow={"slide_type": "slide"}
# On tiny, centred 8×8 digits a classical method is already strong, and the CNN's lead is a handful of
# digits. Its advantages, weight sharing and pooling, matter more as images grow. An RBF-kernel SVC scores a
# digit by its distance, pixel by pixel, to stored training digits, so the same stroke one pixel to the side
# counts as different pixels; an MLP learns one weight per pixel position. A convolution learns a pattern once
# and looks for it everywhere.
#
# ## 6. What the network learned
#
# ### 6.1 First-layer filters
# The first convolution has 32 kernels of 3×3, one per output channel (one input channel). The digits' pixels
# are larger where there is ink, so a red (positive) weight raises the channel's response to ink under it and a
# blue (negative) weight lowers it:

# %% slideshow={"slide_type": "fragment"}
# section 6 reads digits_model and split, trained and loaded in section 5
filters = digits_model.block1.conv.weight.detach().cpu()[:, 0]  # (32, 3, 3)
limit = filters.abs().max().item()
fig, axes = plt.subplots(4, 8, figsize=(8, 4.4))
for channel, ax in enumerate(axes.flat):
    ax.imshow(filters[channel], cmap=drawing.DIVERGING, vmin=-limit, vmax=limit)
    ax.set_title(f"channel {channel}", fontsize=8)
    ax.set_axis_off()
fig.suptitle(f"block1.conv: {tuple(filters.shape)} kernels, one colour scale (|w| up to {limit:.2f})", fontsize=10)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### 6.2 Feature maps
# Each filter, slid over a digit, gives a feature map: where in the image its pattern occurs.
# `features.feature_maps` runs the network once on an image and keeps the output of every layer that makes
# feature maps. For the first test digit, all 32 maps after the first ReLU:

# %% slideshow={"slide_type": "fragment"}
maps = features.feature_maps(digits_model, split.test_images[0])
print({name: tuple(m.shape) for name, m in maps.items()})
with torch.no_grad():  # the same as running the layers by hand
    by_layers = digits_model.block1.act(digits_model.block1.conv(split.test_images[:1].to(device)))[0].cpu()
assert torch.allclose(maps["block1.act"], by_layers, atol=1e-6)

fig, axes = plt.subplots(3, 11, figsize=(11, 3.3))
axes[0, 0].imshow(split.test_images[0, 0], cmap="gray_r", vmin=0, vmax=1)
axes[0, 0].set_title(f"input ({int(split.test_labels[0])})", fontsize=8)
for channel, ax in enumerate(axes.flat[1:]):
    ax.imshow(maps["block1.act"][channel], cmap="magma")
    ax.set_title(str(channel), fontsize=8)
for ax in axes.flat:
    ax.set_axis_off()
fig.suptitle("block1.act: the 32 feature maps after the first ReLU (each on its own scale, dark = 0)", fontsize=10)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The explorer shows any layer for any test digit, every channel at once. Move **image** to change the digit
# and **layer** to go deeper (`conv` is the raw correlation, signed; `act` after the ReLU; `pool` after the
# max-pool): the grid on the right shows all the layer's channels, row by row, on one colour scale for the
# whole layer, so a pale tile is a channel that barely responds to this digit. **channel** picks the map shown
# large in the middle, on its own scale, and outlined in the grid; its range follows the layer. Red is
# positive, blue negative, white 0.

# %% slideshow={"slide_type": "fragment"}
explorers.FeatureMapExplorer(digits_model, split.test_images, split.test_labels)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### 6.3 Mistakes
# The test digits the network gets wrong, and the correct answers it was least sure of (the smallest
# probability given to the predicted class):

# %% slideshow={"slide_type": "fragment"}
with torch.no_grad():
    probabilities = F.softmax(digits_model(split.test_images.to(device)), dim=1).cpu()
predicted = train.predict(digits_model, split.test_images)
assert torch.equal(predicted, probabilities.argmax(dim=1))
wrong = (predicted != split.test_labels).nonzero().flatten()
right = (predicted == split.test_labels).nonzero().flatten()
unsure = right[probabilities[right].max(dim=1).values.argsort()[:6]]
print(f"misclassified: {len(wrong)} of {n_test}, test indices {wrong.tolist()}")

shown = [(int(i), True) for i in wrong] + [(int(i), False) for i in unsure]
fig, axes = plt.subplots(1, len(shown), figsize=(1.35 * len(shown), 1.8))
for ax, (index, is_wrong) in zip(np.atleast_1d(axes), shown, strict=True):
    ax.imshow(split.test_images[index, 0], cmap="gray_r", vmin=0, vmax=1)
    p = probabilities[index].max().item()
    ax.set_title(f"#{index}\ntrue {int(split.test_labels[index])}, said {int(predicted[index])}\np = {p:.2f}",
                 fontsize=8, color="#c0392b" if is_wrong else "#222222")
    ax.set_axis_off()
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### 6.4 Confusion matrix
# Row $t$, column $p$ counts the test digits of class $t$ predicted as $p$; the diagonal holds the correct
# ones. Computed twice, by scikit-learn and by counting pairs with `torch.bincount`:

# %% slideshow={"slide_type": "fragment"}
matrix = confusion_matrix(split.test_labels.numpy(), predicted.numpy(), labels=list(range(10)))
pairs = torch.bincount(split.test_labels * 10 + predicted, minlength=100).view(10, 10)
assert (matrix == pairs.numpy()).all()
assert matrix.trace() == int((predicted == split.test_labels).sum()) and matrix.sum() == n_test
print(matrix)

fig, ax = plt.subplots(figsize=(4.6, 4.2))
ax.imshow(matrix, cmap="Blues", norm=plt.matplotlib.colors.PowerNorm(0.4))
for t in range(10):
    for p in range(10):
        if matrix[t, p]:
            ax.text(p, t, matrix[t, p], ha="center", va="center", fontsize=8,
                    color="white" if matrix[t, p] > matrix.max() / 2 else "#222222")
ax.set(xticks=range(10), yticks=range(10), xlabel="predicted", ylabel="true", title="confusion matrix (test digits)")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. Translation equivariance
#
# A convolution applies the same kernel at every position, so moving the input moves the output by the same
# amount: convolution is **equivariant** to translation. (Goodfellow, Bengio and Courville discuss it in *Deep
# Learning*, MIT Press 2016, §9.2.) Near the borders it breaks: pixels pushed out of the image are gone, zeros
# come in from the other side, and the zero padding meets different pixels. Away from the borders it holds
# exactly. A 5×5 convolution on the lesson-01 photo, shifted 3 pixels right and 2 up, either before or after:

# %% slideshow={"slide_type": "fragment"}
photo = data.load_photo("china.jpg", size=64)[None, None]  # (1, 1, 64, 64)
torch.manual_seed(0)
conv5 = nn.Conv2d(1, 4, kernel_size=5, padding="same")
dx, dy = 3, -2
with torch.no_grad():
    shift_then_conv = conv5(data.shift_images(photo, dx, dy))
    conv_then_shift = data.shift_images(conv5(photo), dx, dy)
margin = 5 // 2 + max(abs(dx), abs(dy))  # the kernel's reach plus the shift
inner = (..., slice(margin, -margin), slice(margin, -margin))
difference = (shift_then_conv - conv_then_shift).abs()
print(f"largest difference: {difference[inner].max():.1e} at least {margin} pixels from the border, "
      f"{difference.max():.2f} anywhere")
assert torch.allclose(shift_then_conv[inner], conv_then_shift[inner], atol=1e-6)

# %% [markdown] slideshow={"slide_type": "subslide"}
# A ReLU acts pixel by pixel, so it keeps the equivariance. A 2×2 max-pool with stride 2 keeps it only for
# shifts by a multiple of 2: a shift by 2 pixels before the pool is a shift by 1 after it, but a shift by 1
# changes which pixels share a window. (Azulay and Weiss measure how such subsampling makes real CNNs sensitive
# to one-pixel shifts: *JMLR* 20, 2019, arXiv 1805.12177.)

# %% slideshow={"slide_type": "fragment"}
pool = nn.MaxPool2d(2)
with torch.no_grad():
    features_map = torch.relu(conv5(photo))
    assert torch.equal(torch.relu(conv_then_shift), data.shift_images(features_map, dx, dy))  # ReLU: pixel by pixel
    inner_pooled = (..., slice(2, -2), slice(2, -2))
    even = (pool(data.shift_images(features_map, 2, 0)) - data.shift_images(pool(features_map), 1, 0)).abs()
    odd = min(
        (pool(data.shift_images(features_map, 1, 0)) - data.shift_images(pool(features_map), s, 0)).abs()[inner_pooled].max()
        for s in (0, 1)
    )
print(f"shift by 2, then pool == pool, then shift by 1: largest difference {even[inner_pooled].max():.1e}")
print(f"shift by 1, then pool vs pool, then shift by 0 or 1: largest difference {odd:.2f}")
assert even[inner_pooled].max() == 0 and odd > 0.1


# %% [markdown] slideshow={"slide_type": "subslide"}
# Equivariance of the feature maps turns into **invariance** of the prediction if the network forgets *where*
# a feature was: global average pooling (Lin, Chen and Yan, "Network in Network", 2013) averages each channel's
# map into one number, wherever its activity lies. A flattened head, or an MLP on raw pixels, instead gives
# every position its own weights, and an MLP never shares anything between positions.
#
# The experiment separates the two causes. Three networks are trained briefly on the **unshifted** training
# digits (no augmentation): a CNN whose conv blocks end in global average pooling (`global_pool="avg"`,
# straight into the 10 logits), the *same* conv blocks with a flattened head (a linear layer with weights for
# every position: only the head differs), and an MLP on the 64 pixels (`conv_channels=()`, one hidden layer of
# 128). Then they are tested on the test digits shifted by 1 and 2 pixels, sideways (right and left, averaged)
# and vertically (down and up, averaged) as separate rows, because the two differ: the digits fill the full
# height of their 8×8 frame but rarely its full width, so a vertical shift pushes ink out of the frame and a
# sideways one hardly any (the table reports how much). The digits CNN of section 5 is listed for comparison; it
# has a flattened head but saw random one-pixel shifts during training.

# %% slideshow={"slide_type": "fragment"}
# uses split and digits_model from section 5
MOVES = {
    "none": [(0, 0)],
    "sideways 1": [(1, 0), (-1, 0)],
    "sideways 2": [(2, 0), (-2, 0)],
    "vertical 1": [(0, 1), (0, -1)],
    "vertical 2": [(0, 2), (0, -2)],
}


def shifted_accuracy(model, moves):
    # mean test accuracy over the shifted copies of the test digits
    return np.mean([train.evaluate(model, data.shift_images(split.test_images, dx, dy), split.test_labels) for dx, dy in moves])


def ink_lost(moves):
    ink = split.test_images.sum()
    return np.mean([1 - (data.shift_images(split.test_images, dx, dy).sum() / ink).item() for dx, dy in moves])


conv_blocks = dict(in_channels=1, input_size=8, conv_channels=(32, 64), pool=(2, None), hidden=())
torch.manual_seed(0)
gap_cnn = models.SimpleCNN(**conv_blocks, global_pool="avg")
torch.manual_seed(0)
flat_cnn = models.SimpleCNN(**conv_blocks)
torch.manual_seed(0)
mlp = models.SimpleCNN(in_channels=1, input_size=8, conv_channels=(), hidden=(128,))
for net in (gap_cnn, flat_cnn, mlp):
    train.fit(net, split.train, epochs=15, lr=2e-2, weight_decay=1e-4, device=device, progress=False)
print(f"parameters: CNN + GAP {n_params(gap_cnn):,} | CNN + flatten {n_params(flat_cnn):,} | MLP {n_params(mlp):,}")

networks = {"CNN + GAP": gap_cnn, "CNN + flatten": flat_cnn, "MLP": mlp, "digits CNN (shifts)": digits_model}
table = {row: (ink_lost(moves), *(shifted_accuracy(net, moves) for net in networks.values())) for row, moves in MOVES.items()}
print(f"{'shift':>10} {'ink lost':>9} | " + " ".join(f"{name:>13}" for name in networks))
for row, (lost, *accuracies) in table.items():
    print(f"{row:>10} {lost:>9.1%} | " + " ".join(f"{f'≈{accuracy:.1%}':>13}" for accuracy in accuracies))

lost, gap_acc, flat_acc, mlp_acc, digits_acc = ({row: values[column] for row, values in table.items()} for column in range(5))
assert max(gap_acc["none"], flat_acc["none"], mlp_acc["none"]) - min(gap_acc["none"], flat_acc["none"], mlp_acc["none"]) < 0.03
assert lost["sideways 1"] < 0.01 and lost["vertical 1"] > 0.1       # sideways, almost no ink leaves the frame
assert mlp_acc["sideways 1"] < 0.6 * mlp_acc["none"]                 # one pixel: the MLP loses about half
assert flat_acc["sideways 1"] > mlp_acc["sideways 1"] + 0.1          # shared conv weights help...
assert gap_acc["sideways 1"] > flat_acc["sideways 1"] + 0.05         # ...and a position-free head helps more
assert gap_acc["sideways 1"] < gap_acc["none"] - 0.05                # even with no ink lost, GAP loses some
assert gap_acc["vertical 1"] < gap_acc["sideways 1"] and flat_acc["vertical 1"] < flat_acc["sideways 1"]
assert min(digits_acc["sideways 1"], digits_acc["vertical 1"]) > 0.97 and digits_acc["vertical 2"] < 0.8


# %% [markdown] slideshow={"slide_type": "slide"}
# Unshifted, the three networks are about equally good. A sideways shift of one pixel pushes almost no ink out
# of the frame, yet all three lose accuracy, so leaving ink behind is not the main cause. The MLP loses about
# half: the weights it learned for each pixel now see a neighbouring pixel's ink. The CNN with a flattened head
# loses less: its convolutions find the same strokes one pixel over (equivariance), but its head still reads
# them at fixed positions. The CNN with global average pooling loses least, because its head no longer asks
# where a feature is; what it still loses sideways comes from its 2×2 pool, equivariant only to even shifts
# (shown above), and from the zero padding, which treats strokes near the border differently. Vertical shifts do
# push ink out of the frame, and both CNNs lose more there than sideways. The digits CNN was *taught* one-pixel
# shifts by augmentation and handles them, but not two. Shared weights give equivariance for free; invariance
# needs a design choice (global pooling) or examples of the shifts.
#
# Why the ≈ signs? Each accuracy in the table is a count of digits on the right side of a decision boundary,
# and many shifted digits lie very close to one. Computers round the sums of a training run in slightly different
# ways (a different order of additions, with or without fused multiply-adds, depending on the processor), so
# on another machine a handful of digits can land on the other side and the numbers move by a few tenths of a
# percent. The pattern the `assert` lines check does not move. (When these lessons are tested, the figures
# marked ≈ are the only ones not compared digit for digit; every other number must come out exactly as stored.)
#
# ## Exercises
# Each exercise has a cell to fill in (the lesson shows it solved; the student copy leaves it to you) and a
# cell that checks your answer on many cases and tells you what is off.
#
# **Exercise 1 (easy).** Write `dense_vs_conv(height, width, in_channels, out_channels, kernel_size)`: the pair
# `(dense, conv)` of parameter counts, biases included, of two layers on an `in_channels`×`height`×`width`
# image: the convolution `nn.Conv2d(in_channels, out_channels, kernel_size, padding="same")`, and the dense layer
# `nn.Linear` from the flattened image to as many values as that convolution gives. No PyTorch: use the
# formulas of section 0.1 (and 1.4).

# %% nbgrader={"grade": false, "grade_id": "dense_vs_conv", "locked": false, "schema_version": 3, "solution": true, "task": false} slideshow={"slide_type": "notes"} tags=["solution"]
def dense_vs_conv(height, width, in_channels, out_channels, kernel_size):
    ### BEGIN SOLUTION
    inputs = in_channels * height * width
    outputs = out_channels * height * width  # padding "same": each output channel keeps the image's size
    dense = (inputs + 1) * outputs
    conv = (in_channels * kernel_size * kernel_size + 1) * out_channels
    return dense, conv
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_dense_vs_conv", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false} slideshow={"slide_type": "fragment"} tags=["exercise"]
exercises.check_dense_vs_conv(dense_vs_conv)


# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 2 (easy).** Write `parameters(in_channels, out_channels, kernel_size, bias, groups)`: the number of
# learnable values of `nn.Conv2d(in_channels, out_channels, kernel_size, bias=bias, groups=groups)` for a square
# `kernel_size`. No PyTorch: use the formula of section 1.4.

# %% nbgrader={"grade": false, "grade_id": "parameters", "locked": false, "schema_version": 3, "solution": true, "task": false} slideshow={"slide_type": "notes"} tags=["solution"]
def parameters(in_channels, out_channels, kernel_size, bias, groups):
    ### BEGIN SOLUTION
    weights = in_channels // groups * kernel_size * kernel_size * out_channels
    return weights + (out_channels if bias else 0)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_conv_parameter_count", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false} slideshow={"slide_type": "fragment"} tags=["exercise"]
exercises.check_conv_parameter_count(parameters)


# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 3 (medium).** Write `flatten_size(size, conv_channels, kernel_size, padding, pool)`: the number of
# features that reach the first linear layer of a CNN whose square `size`×`size` input goes through one block
# per entry of `conv_channels`, each a `kernel_size` convolution (stride 1, `padding` zeros on every side) with
# that many output channels followed, unless `pool` is `None`, by a `pool`×`pool` max-pool. Use the output-size
# formulas of lesson 02; `SimpleCNN.flatten_size` is the answer to compare with, so do not call it.

# %% nbgrader={"grade": false, "grade_id": "flatten_size", "locked": false, "schema_version": 3, "solution": true, "task": false} slideshow={"slide_type": "notes"} tags=["solution"]
def flatten_size(size, conv_channels, kernel_size, padding, pool):
    ### BEGIN SOLUTION
    for _ in conv_channels:
        size = size + 2 * padding - kernel_size + 1  # convolution, stride 1
        if pool is not None:
            size = size // pool  # max-pool, window = stride = pool, rounding down
    return conv_channels[-1] * size * size
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_flatten_size", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false} slideshow={"slide_type": "fragment"} tags=["exercise"]
exercises.check_flatten_size(flatten_size)


# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 4 (harder).** Write `cross_entropy(logits, labels)` without `F.cross_entropy`, `log_softmax` or
# `logsumexp`: the mean over the batch of $-\log p_{y}$, where $p$ is the softmax of a row of `logits` (shape
# `(N, C)`) and $y$ its label. It must also work for logits like 1000, where `exp` overflows: subtracting the
# same number from every logit of a row does not change its softmax.

# %% nbgrader={"grade": false, "grade_id": "cross_entropy", "locked": false, "schema_version": 3, "solution": true, "task": false} slideshow={"slide_type": "notes"} tags=["solution"]
def cross_entropy(logits, labels):
    ### BEGIN SOLUTION
    top = logits.max(dim=1, keepdim=True).values  # take each row's largest logit out before exp
    log_sum_exp = top[:, 0] + (logits - top).exp().sum(dim=1).log()
    picked = logits[torch.arange(len(labels)), labels]
    return (log_sum_exp - picked).mean()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_cross_entropy", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false} slideshow={"slide_type": "fragment"} tags=["exercise"]
exercises.check_cross_entropy(cross_entropy)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - A dense layer gives every output its own weight for every input: on a 224×224 RGB photo, to as many outputs as
#   inputs, over 22 billion parameters against 84 for a 3×3 convolution (section 0.1). A convolution is a dense layer with two constraints on its weight matrix: locality (each
#   output reads a small window: a banded matrix) and weight sharing (the same kernel everywhere: a tied matrix).
#   They buy far fewer parameters and translation equivariance; they cost the freedom to treat one position
#   differently from another.
# - A convolution layer holds one $k_h \times k_w$ kernel per (output, input) channel pair: weight shape
#   $(C_{out}, C_{in}/g, k_h, k_w)$, and $(C_{in}/g \cdot k_h k_w + 1)\,C_{out}$ parameters, whatever the image
#   size. 1×1 convolutions mix channels pixel by pixel; groups split the channels; depthwise convolutions
#   filter each channel alone.
# - A CNN's shapes follow from the arithmetic of lesson 02; computing them (`SimpleCNN.shape_trace`) beats
#   writing them down, and lets a bad configuration be explained before it runs.
# - Training: logits, cross-entropy on the logits, `backward()` for a gradient of each parameter's shape, and an
#   optimizer step ($w \leftarrow w - \eta\,\nabla w$ for SGD). PyTorch starts from
#   $U(-1/\sqrt{\text{fan\_in}}, 1/\sqrt{\text{fan\_in}})$ for weights and biases.
# - On the digits, the small CNN reaches the test accuracy printed in section 5, next to an SVC baseline.
# - Convolutions are equivariant to shifts; global average pooling turns that into (near) invariance, which a
#   flattened head only partly keeps and an MLP lacks.
#
# Next: **04 · Classic architectures**, the blocks that made CNNs deep.
