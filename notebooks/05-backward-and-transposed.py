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
# # 05 · The backward pass and transposed convolution
#
# Lesson 01 showed that the "convolution" of deep learning is correlation and said the difference does not
# matter for learning. Here is where the flipped kernel comes back: when a network learns, the gradient of a
# correlation with respect to its input is a true convolution, and that operation has a name of its own, the
# **transposed convolution**. Decoders, segmentation networks and generators use it to make images larger.
#
# **You will**
# 1. write a convolution as one matrix $C$ and see why no library multiplies by it;
# 2. work out the backward pass by hand, $\partial L/\partial x = C^\top\,\partial L/\partial y$, and check it
#    against autograd;
# 3. compute a transposed convolution three ways and get the same numbers as PyTorch;
# 4. see why `output_padding` exists;
# 5. count the kernel copies that overlap on each output cell (the checkerboard), and compare two other ways of
#    upsampling;
# 6. train a tiny convolutional autoencoder on the digits, and explore a transposed convolution live.
#
# Every number below is computed by the cell above it and, where PyTorch can say, checked against it by an
# `assert`.

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
import itertools

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from cnn_lessons import data, exercises, explorers, ops
from cnn_lessons.arithmetic import conv_output_size, conv_transpose_output_size

torch.manual_seed(0)
torch.set_printoptions(precision=2, sci_mode=False)
torch.set_num_threads(1)  # every tensor here is tiny: a second thread only adds waiting, and on a busy machine a lot
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

# %% slideshow={"slide_type": "skip"}
# NBVAL_IGNORE_OUTPUT
# the device depends on the machine running the lesson (a GPU when there is one)
print(f"torch {torch.__version__} on {device}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. A convolution is a matrix
#
# A correlation is linear in its input: every output is a weighted sum of input values. So there is a matrix
# $C$ with $y = C x$ once the input $x$ and the output $y$ are written as flat vectors (row by row). Row $r$ of
# $C$ belongs to output cell $r$ and holds the kernel's weights in the columns of the input cells under that
# window; everything else in the row is zero. `ops.conv_matrix(weight, input_size, stride, padding, dilation)`
# builds it for one channel. A 3×3 kernel on a 4×4 input has 2×2 outputs, so $C$ is 4×16:

# %% slideshow={"slide_type": "fragment"}
w = torch.tensor([[1.0, 2, 3], [4, 5, 6], [7, 8, 9]])
x = torch.arange(16.0).view(4, 4)
C = ops.conv_matrix(w, (4, 4))
print(C.int())
assert torch.equal(C @ x.flatten(), F.conv2d(x[None, None], w[None, None]).flatten())
assert int((C != 0).sum()) == 36 and set(C[C != 0].tolist()) == set(w.flatten().tolist())  # 9 weights, 36 places

# %% [markdown] slideshow={"slide_type": "subslide"}
# Each row is the same nine weights, moved one column to the right from one output to the next and one row of
# the input (four columns) down from the first output row to the second: $C$ is **banded**, and its weights are
# **tied** (nine numbers fill all 36 non-zero entries). The same holds with stride, padding and dilation; a
# padded window has no column for the taps that land on padding, since those multiply zeros:

# %% slideshow={"slide_type": "fragment"}
for stride, padding, dilation in [(1, 0, 1), (2, 0, 1), (1, 1, 1), (2, 1, 1), (1, 2, 2), ((2, 1), (1, 0), (1, 2))]:
    x = torch.randn(7, 6)
    C = ops.conv_matrix(w, x.shape, stride, padding, dilation)
    y = F.conv2d(x[None, None], w[None, None], stride=stride, padding=padding, dilation=dilation)
    assert torch.allclose(C @ x.flatten(), y.flatten(), atol=1e-4)
    print(f"stride {stride!s:6} padding {padding!s:6} dilation {dilation!s:6}: C is {tuple(C.shape)}, "
          f"output {tuple(y.shape[-2:])}")

# %% slideshow={"slide_type": "fragment"}
fig, axes = plt.subplots(1, 2, figsize=(11, 2.6), gridspec_kw={"width_ratios": [16, 36]})
cases = [(4, 1, "4×4 input, stride 1"), (6, 2, "6×6 input, stride 2, padding 1")]
for ax, (size, stride, title) in zip(axes, cases, strict=True):
    C = ops.conv_matrix(w, size, stride=stride, padding=0 if stride == 1 else 1)
    ax.imshow(C, cmap="Blues", vmin=-1, vmax=9)
    ax.set_title(f"C for a 3×3 kernel, {title}: {C.shape[0]}×{C.shape[1]}", fontsize=10)
    ax.set_xlabel("input cell (row by row)")
    ax.set_ylabel("output cell")
plt.tight_layout()
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Why no library multiplies by it.** Almost all of $C$ is zero. For one 28×28 channel and a 3×3 kernel, count
# them; then for a 224×224 image, where $C$ would be far too large to build, count them with the same
# arithmetic (one row per output, $h\cdot w$ columns, at most $k^2$ non-zeros per row):

# %% slideshow={"slide_type": "fragment"}
C = ops.conv_matrix(torch.randn(3, 3), 28)
nonzero = int((C != 0).sum())
print(f"28×28, 3×3: C is {C.shape[0]}×{C.shape[1]} = {C.numel():,} entries, {nonzero:,} non-zero "
      f"({100 * (1 - nonzero / C.numel()):.2f}% zeros)")
assert nonzero == 26 * 26 * 9  # nine weights per output, no padding

o = conv_output_size(224, 3, padding=1)
entries = (o * o) * (224 * 224)
print(f"224×224, 3×3, padding 1: C would be {o * o:,}×{224 * 224:,} = {entries:,} entries "
      f"({entries * 4 / 1e9:.0f} GB as float32) for at most {o * o * 9:,} non-zeros")

# %% [markdown] slideshow={"slide_type": "slide"}
# A direct convolution (or im2col, lesson 01) touches only the non-zeros. $C$ is a way to *think*: it turns
# statements about convolutions into statements about matrices, and the next one is about its transpose.
#
# ## 2. The backward pass, by hand
#
# Training needs the gradient of the loss $L$ with respect to everything that produced $y = Cx$. Autograd gets
# $\partial L/\partial y$ (call it $g$, shaped like $y$) from the layer above. For a linear map the chain rule
# is one matrix product:
#
# $$\frac{\partial L}{\partial x} = C^\top g .$$
#
# Column $c$ of $C$ lists, for input cell $c$, every output that read it and with which weight. So
# $C^\top g$ sends each output's gradient back along the weights it was made with: every $g_{ij}$ **stamps a
# copy of the kernel, scaled by $g_{ij}$**, on the input cells its window covered, and overlapping copies add.
# Read from one input cell, those stamps are a sum over the outputs whose windows covered it, each with the
# weight at the opposite offset: a *full* correlation of $g$ with the kernel turned half way round, that is a
# true convolution. **This is where lesson 01's flip appears: the backward pass of a correlation is a
# convolution.** With stride $s$ the outputs sat $s$ cells apart, so $g$ is first stretched with $s - 1$ zeros
# between its values. Check all three against autograd:

# %% slideshow={"slide_type": "fragment"}
torch.manual_seed(1)
x = torch.randn(6, 6, requires_grad=True)
w = torch.randn(3, 3, requires_grad=True)
y = F.conv2d(x[None, None], w[None, None], stride=2)[0, 0]
g = torch.randn_like(y)  # dL/dy: what the layer above sends back
y.backward(g)  # autograd: x.grad and w.grad

C = ops.conv_matrix(w.detach(), 6, stride=2)
by_matrix = (C.T @ g.flatten()).view(6, 6)
full = ops.convolve2d(ops.stretch(g, 2), w.detach(), padding="full")  # true convolution, 'full' padding
by_flipped_kernel = F.pad(full, (0, 1, 0, 1))  # the stride-2 windows never read x's last row and column: zeros
by_transposed = F.conv_transpose2d(g[None, None], w.detach()[None, None], stride=2, output_padding=1)[0, 0]
for name, grad in [("C^T g", by_matrix), ("full convolution of stretched g", by_flipped_kernel),
                   ("F.conv_transpose2d", by_transposed)]:  # fmt: skip
    assert torch.allclose(grad, x.grad, atol=1e-5)
    print(f"dL/dx by {name:31s} = autograd's (to 1e-5)")
assert full.shape == (5, 5) and (x.grad[-1] == 0).all() and (x.grad[:, -1] == 0).all()
print(f"the full convolution is {tuple(full.shape)} for a 6×6 input: windows of 3 at stride 2 start at 0 and 2 and "
      "never reach row or column 5, whose gradient is 0 (the output_padding=1 of F.conv_transpose2d)")


# %% [markdown] slideshow={"slide_type": "subslide"}
# The weights get their gradient the same way round: weight $(a, b)$ multiplied input cell
# $(i s + a d,\; j s + b d)$ to make output $(i, j)$, so $\partial L/\partial w_{ab} = \sum_{ij} g_{ij}\,
# x_{is+ad,\,js+bd}$, a correlation of the (padded) input with $g$, where $g$'s values sit $s$ apart and the
# result is read every $d$ cells. In PyTorch's terms: `F.conv2d(x, g, dilation=stride, stride=dilation)`, cut to
# the kernel's size. Both gradients, for several settings, against autograd:

# %% slideshow={"slide_type": "fragment"}
def input_and_weight_gradients(x, w, g, stride, padding, dilation):
    """dL/dx and dL/dw of y = F.conv2d(x, w, stride, padding, dilation), by hand, for one channel."""
    size = x.shape[-1]
    missing = size - conv_transpose_output_size(g.shape[-1], w.shape[-1], stride, padding, 0, dilation)
    grad_x = ops.conv_transpose2d(g[None, None], w[None, None], None, stride, padding, missing, 1, dilation)
    padded = F.pad(x, (padding,) * 4)
    grad_w = F.conv2d(padded[None, None], g[None, None], dilation=stride, stride=dilation)
    return grad_x[0, 0], grad_w[0, 0, : w.shape[0], : w.shape[1]]


torch.manual_seed(2)
checked = 0
for size, k, stride, padding, dilation in itertools.product((7, 8), (2, 3), (1, 2, 3), (0, 1), (1, 2)):
    x, w = torch.randn(size, size, requires_grad=True), torch.randn(k, k, requires_grad=True)
    y = F.conv2d(x[None, None], w[None, None], stride=stride, padding=padding, dilation=dilation)[0, 0]
    g = torch.randn_like(y)
    y.backward(g)
    grad_x, grad_w = input_and_weight_gradients(x.detach(), w.detach(), g, stride, padding, dilation)
    assert torch.allclose(grad_x, x.grad, atol=1e-4) and torch.allclose(grad_w, w.grad, atol=1e-4)
    checked += 1
print(f"dL/dx and dL/dw by hand equal autograd's in all {checked} settings (sizes 7 and 8, kernels 2 and 3, "
      "strides 1-3, paddings 0-1, dilations 1-2)")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Transposed convolution, three ways
#
# The operation that computes $C^\top g$ is the **transposed convolution** (`nn.ConvTranspose2d`). It is not an
# inverse: $C^\top C \ne I$. It only sends values back along the same connections. Used as a layer, its input
# is an image and its kernel is learned; it makes the image larger when its stride is larger than 1. Three
# ways to compute it, each from a different picture:
#
# - **scatter**: each input value stamps a scaled copy of the kernel on the output, $s$ cells apart; overlaps
#   add;
# - **the transposed matrix**: $C^\top x$, with $C$ the matrix of the matching convolution;
# - **a direct convolution** (Dumoulin & Visin, arXiv:1603.07285, section 4): stretch the input ($s - 1$ zeros
#   between values), pad $d(k-1) - p$ zeros on every side, and correlate with the flipped kernel, stride 1.
#
# The scatter, written as it reads:

# %% slideshow={"slide_type": "fragment"}
def transposed_by_scatter(x, kernel, stride=1, padding=0):
    """Each x[i, j] adds x[i, j] * kernel at (i*stride, j*stride) of the output; padding crops every side."""
    (h, w), (kh, kw) = x.shape, kernel.shape
    out = torch.zeros((h - 1) * stride + kh, (w - 1) * stride + kw)
    for i in range(h):
        for j in range(w):
            out[i * stride : i * stride + kh, j * stride : j * stride + kw] += x[i, j] * kernel
    return out[padding : out.shape[0] - padding, padding : out.shape[1] - padding]


x = torch.tensor([[1.0, 2], [3, 4]])
kernel = torch.tensor([[1.0, 10, 100], [0, 0, 0], [-1, -10, -100]])
scattered = transposed_by_scatter(x, kernel, stride=2)
print(scattered)
assert scattered[0, 2] == 1 * 100 + 2 * 1  # two copies overlap in column 2
C = ops.conv_matrix(kernel, scattered.shape, stride=2)  # the convolution that takes 5×5 to 2×2
by_matrix = (C.T @ x.flatten()).view(scattered.shape)
direct = ops.conv_transpose2d_as_direct(x[None, None], kernel[None, None], stride=2)[0, 0]
by_torch = F.conv_transpose2d(x[None, None], kernel[None, None], stride=2)[0, 0]
for name, result in [("C^T x", by_matrix), ("stretch + pad + flipped kernel", direct), ("F.conv_transpose2d", by_torch)]:
    assert torch.equal(result, scattered)
    print(f"scatter == {name}")
print("C^T C is the identity:", torch.allclose(C.T @ C, torch.eye(C.shape[1])), "(a transpose, not an inverse)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The middle column of the output (column 2) is where the two copies of each row overlap: 1·100 + 2·1 = 102 in
# row 0. `ops.conv_transpose2d` is the vectorised scatter: one matrix product makes every scaled kernel copy as a
# column, and `F.fold` adds them up in place (col2im, the reverse of the im2col of lesson 01). It takes what
# `F.conv_transpose2d` takes (batches, channels, groups, bias, stride, padding, `output_padding`, dilation) and
# gives the same numbers:

# %% slideshow={"slide_type": "fragment"}
torch.manual_seed(3)
count = 0
for stride, padding, output_padding, dilation, groups in itertools.product((1, 2, 3), (0, 1, 2), (0, 1), (1, 2), (1, 2)):
    if output_padding >= max(stride, dilation):
        continue  # torch refuses these (below)
    x = torch.randn(2, 4, 5, 6)  # a batch of 2, 4 channels
    weight, bias = torch.randn(4, 3, 3, 2), torch.randn(3 * groups)  # (in, out / groups, kh, kw)
    args = (bias, stride, padding, output_padding, groups, dilation)
    ours, theirs = ops.conv_transpose2d(x, weight, *args), F.conv_transpose2d(x, weight, *args)
    assert ours.shape == theirs.shape and torch.allclose(ours, theirs, atol=1e-5)
    count += 1
print(f"ops.conv_transpose2d == F.conv_transpose2d (to 1e-5) in {count} settings")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. The size formula, and why `output_padding` exists
#
# Each of $i$ input cells starts a copy $s$ cells after the previous one, and the last copy is $d(k-1)+1$ cells
# wide; padding crops $p$ from each side and `output_padding` adds cells at the end:
#
# $$o = (i - 1)\,s - 2p + d(k-1) + 1 + \text{output\_padding}.$$
#
# A stride-$s$ convolution rounds down, so $s$ neighbouring input sizes give the same output size. Going back,
# the transposed convolution cannot know which one it came from: `output_padding` (from 0 to $s - 1$) says.
# With $k = 3$, $s = 2$, $p = 1$:

# %% slideshow={"slide_type": "fragment"}
print(" n  conv(n)  transposed(conv(n))  output_padding  back")
for n in range(5, 11):
    o = conv_output_size(n, 3, stride=2, padding=1)
    plain = conv_transpose_output_size(o, 3, stride=2, padding=1)
    a = n - plain
    back = nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=a)(torch.zeros(1, 1, o, o)).shape[-1]
    assert back == n == conv_transpose_output_size(o, 3, stride=2, padding=1, output_padding=a)
    print(f"{n:2d}  {o:7d}  {plain:19d}  {a:14d}  {back:4d}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# 7 and 8 both become 4, 9 and 10 both become 5. Larger `output_padding` than that is refused: PyTorch says
# only that it must be smaller than stride or dilation; `ops.conv_transpose2d` says why:

# %% slideshow={"slide_type": "fragment"}
try:
    ops.conv_transpose2d(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 3, 3), stride=2, padding=1, output_padding=2)
except ValueError as error:
    print(error)
try:
    F.conv_transpose2d(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 3, 3), stride=2, padding=1, output_padding=2)
except RuntimeError as error:
    print("torch:", str(error).splitlines()[0])

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Checkerboard artifacts
#
# Stamp copies $s$ cells apart and count how many land on each output cell: that is a transposed convolution of
# an all-ones input with an all-ones kernel (`ops.overlap_counts`). When the kernel size is not a multiple of
# the stride, neighbouring cells get different numbers of copies; in 2-D the counts multiply, and the pattern
# is a checkerboard. Odena, Dumoulin & Olah (Distill, 2016, "Deconvolution and Checkerboard Artifacts") trace
# the grid-like artifacts of image generators to this uneven overlap.

# %% slideshow={"slide_type": "fragment"}
for k, s in [(3, 2), (4, 2), (3, 1), (5, 3), (6, 3)]:
    counts = ops.overlap_counts(6, k, s)
    assert torch.equal(counts, F.conv_transpose1d(torch.ones(1, 1, 6), torch.ones(1, 1, k), stride=s)[0, 0].long())
    even = "even" if len(set(counts[k - 1 : len(counts) - k + 1].tolist())) == 1 else "uneven"
    print(f"k = {k}, s = {s}: {counts.tolist()}  ({even} away from the edges)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Even counts are not enough. With real weights a constant input gives, at each output cell, the sum of the
# kernel taps that land there; with $k = 4$, $s = 2$ one cell gets taps 0 and 2, its neighbour taps 1 and 3, and
# unless those sums agree the output still alternates. Two other ways to make an image twice as large avoid
# stamping copies:
#
# - **resize-convolution** (Odena et al., 2016): repeat each pixel (nearest-neighbour upsampling), then a
#   stride-1 convolution; on a constant input every window sees the same values;
# - **sub-pixel convolution** (Shi et al., CVPR 2016, "Real-Time Single Image and Video Super-Resolution Using an
#   Efficient Sub-Pixel Convolutional Neural Network"): a stride-1 convolution makes $s^2$ channels, and
#   `nn.PixelShuffle(s)` lays them out as the $s \times s$ cells of each output block.
#
# All four, with PyTorch's default random weights, on the same constant 8×8 input; the interior (away from the
# borders) tells how many different values a flat input turns into:

# %% slideshow={"slide_type": "fragment"}
torch.manual_seed(4)
upsamplers = {
    "transposed, k 3, s 2": nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1),
    "transposed, k 4, s 2": nn.ConvTranspose2d(1, 1, 4, stride=2, padding=1),
    "resize + conv 3×3": nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(1, 1, 3, padding=1)),
    "sub-pixel (conv + PixelShuffle)": nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.PixelShuffle(2)),
}
flat = torch.ones(1, 1, 8, 8)
fig, axes = plt.subplots(1, 4, figsize=(13, 3.2))
for ax, (name, layer) in zip(axes, upsamplers.items(), strict=True):
    with torch.no_grad():
        out = layer(flat)[0, 0]
    assert out.shape == (16, 16)
    inner = out[3:-3, 3:-3]
    values = len(torch.unique(inner.round(decimals=4)))
    ax.imshow(out, cmap="gray")
    ax.set_title(f"{name}\ninterior: {values} value{'s' * (values > 1)}", fontsize=9.5)
    ax.set_axis_off()
    print(f"{name:32s} 8×8 -> 16×16, interior values: {values}")
plt.tight_layout()
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# Both transposed convolutions and the sub-pixel convolution turn the flat input into a repeating 2×2 pattern
# (the sub-pixel one because each of its four channels has its own random kernel: a period-2 pattern until
# training makes them agree); the resize-convolution's interior is flat by construction, which is why Odena et
# al. recommend it. The explorer below shows where the uneven counts of a transposed convolution come from.
#
# ## 6. Used for real: a tiny convolutional autoencoder
#
# An autoencoder squeezes an image through a narrow middle and learns to rebuild it. Strided convolutions take
# the 8×8 digits down to 2×2 with 4 channels (16 numbers for 64 pixels), transposed convolutions bring them back
# up; `output_padding=1` picks 8 (not 7) at the end, as section 4 worked out. Trained for a second or two on the
# training digits:

# %% slideshow={"slide_type": "fragment"}
split = data.load_digits_split()
torch.manual_seed(0)
autoencoder = nn.Sequential(
    nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU(),  # 8×8 -> 4×4
    nn.Conv2d(8, 4, 3, stride=2, padding=1), nn.ReLU(),  # 4×4 -> 2×2: 16 numbers for 64 pixels
    nn.ConvTranspose2d(4, 8, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),  # 2×2 -> 4×4
    nn.ConvTranspose2d(8, 1, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid(),  # 4×4 -> 8×8
)  # fmt: skip
shape = split.train_images[:1].shape
sizes = ["×".join(map(str, shape[1:]))]  # channels × height × width after each (transposed) convolution
for layer in autoencoder[::2]:
    shape = layer(torch.zeros(shape)).shape
    sizes.append("×".join(map(str, shape[1:])))
print(" -> ".join(sizes), f"({sum(p.numel() for p in autoencoder.parameters()):,} parameters)")

optimizer = torch.optim.Adam(autoencoder.parameters(), lr=0.01)
images, test_images = split.train_images, split.test_images
batches = torch.randperm(len(images), generator=torch.Generator().manual_seed(0)).split(128)
for _ in range(20):  # epochs
    for batch in batches:
        loss = F.mse_loss(autoencoder(images[batch]), images[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
with torch.no_grad():
    rebuilt = autoencoder(test_images)
test_error = float(F.mse_loss(rebuilt, test_images))
mean_image_error = float(F.mse_loss(images.mean(0).expand_as(test_images), test_images))
assert test_error < mean_image_error / 2
print(f"test mean squared error: ≈{100 * test_error / mean_image_error:.1f}% of the {mean_image_error:.3f} that "
      "guessing the average training digit for every image gives")

# %% slideshow={"slide_type": "fragment"}
fig, axes = plt.subplots(2, 10, figsize=(11, 2.5))
for j in range(10):
    index = int((split.test_labels == j).nonzero()[0])  # the first test image of each digit
    for row, picture in enumerate((test_images[index, 0], rebuilt[index, 0])):
        axes[row, j].imshow(picture, cmap="gray_r", vmin=0, vmax=1)
        axes[row, j].set_axis_off()
axes[0, 0].set_title("test digits", fontsize=9, loc="left")
axes[1, 0].set_title("rebuilt from 16 numbers (4×2×2)", fontsize=9, loc="left")
plt.tight_layout()
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. The transposed-convolution explorer
#
# Move the sliders. Left: the input, one cell outlined. Middle: the canvas the kernel copies land on, each cell
# numbered and shaded with how many copies overlap there; the orange outlines are the chosen cell's copy (tap by
# tap: dilation spreads them), grey cells are cropped by `padding` and the frame is the output that remains. Right: the same transposed convolution as a
# direct one, the input stretched and padded. Try kernel 3 then 4 with stride 2 (the checkerboard comes and goes),
# stride 1 (no gaps, no checkerboard), and an `output_padding` as large as the stride (refused, and why).

# %% slideshow={"slide_type": "fragment"}
explorers.TransposedExplorer()


# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
# **Exercise 1 (easy).** `nn.Conv2d(k, stride=s, padding=p)` takes an input of size `size` down. Write
# `output_padding(size, kernel_size, stride, padding)`: the `output_padding` with which `nn.ConvTranspose2d` of
# the same kernel, stride and padding brings it back to exactly `size`.

# %% nbgrader={"grade": false, "grade_id": "output_padding", "locked": false, "schema_version": 3, "solution": true, "task": false} slideshow={"slide_type": "notes"} tags=["solution"]
def output_padding(size, kernel_size, stride, padding):
    ### BEGIN SOLUTION
    return (size + 2 * padding - kernel_size) % stride
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_output_padding", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false} slideshow={"slide_type": "fragment"} tags=["exercise"]
exercises.check_output_padding(output_padding)


# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 2 (medium).** `y = F.conv2d(x, kernel, stride=stride)` on a 2-D `x` (no padding) whose size the
# kernel covers exactly. Given `grad_output` ($\partial L/\partial y$, a 2-D tensor), return
# $\partial L/\partial x$, without autograd and without `conv_transpose2d`: stamp, or stretch and convolve.

# %% nbgrader={"grade": false, "grade_id": "input_gradient", "locked": false, "schema_version": 3, "solution": true, "task": false} slideshow={"slide_type": "notes"} tags=["solution"]
def input_gradient(grad_output, kernel, stride):
    ### BEGIN SOLUTION
    (oh, ow), (kh, kw) = grad_output.shape, kernel.shape
    grad = torch.zeros((oh - 1) * stride + kh, (ow - 1) * stride + kw, dtype=grad_output.dtype)
    for i in range(oh):
        for j in range(ow):
            grad[i * stride : i * stride + kh, j * stride : j * stride + kw] += grad_output[i, j] * kernel
    return grad
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_input_gradient", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false} slideshow={"slide_type": "fragment"} tags=["exercise"]
exercises.check_input_gradient(input_gradient)


# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 3 (medium).** Write `overlap_counts(size, kernel_size, stride)`: for `nn.ConvTranspose1d` with that
# kernel size and stride (no padding) on an input of length `size`, how many kernel copies land on each output
# cell, as a list.

# %% nbgrader={"grade": false, "grade_id": "overlap_counts", "locked": false, "schema_version": 3, "solution": true, "task": false} slideshow={"slide_type": "notes"} tags=["solution"]
def overlap_counts(size, kernel_size, stride):
    ### BEGIN SOLUTION
    counts = [0] * ((size - 1) * stride + kernel_size)
    for i in range(size):
        for j in range(kernel_size):
            counts[i * stride + j] += 1
    return counts
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_overlap_counts", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false} slideshow={"slide_type": "fragment"} tags=["exercise"]
exercises.check_overlap_counts(overlap_counts)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
# - A convolution is a banded matrix $C$ with tied weights, almost all zeros: a way to think, not to compute.
# - The backward pass: $\partial L/\partial x = C^\top g$, a full *convolution* (flipped kernel) of the
#   stretched gradient: lesson 01's flip. $\partial L/\partial w$ correlates the input with $g$.
# - A transposed convolution computes $C^\top$: scatter kernel copies, or stretch, pad and convolve with the
#   flipped kernel. $o = (i-1)s - 2p + d(k-1) + 1 + \text{output\_padding}$; `output_padding` picks one of the $s$
#   sizes a strided convolution maps to the same output.
# - Copies overlap unevenly when $k$ is not a multiple of $s$: checkerboards. Resize-then-convolve avoids them on
#   flat input; sub-pixel convolution makes $s^2$ channels and shuffles them into place.
#
# Lesson 02's relationships 8-14 gave the sizes; this lesson gave the values and where they come from.
