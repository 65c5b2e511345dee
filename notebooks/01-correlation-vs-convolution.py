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
# # 01 · Correlation vs convolution
#
# Every layer called `Conv2d` slides a small grid of weights, the **kernel**, over its input and adds up
# products. There are two ways to slide it: as it is (**cross-correlation**) or flipped first (**convolution**).
# Mathematics and signal processing mean the second; deep-learning libraries compute the first and call it
# convolution. This lesson makes the difference visible, computes it, and shows why, for a network that
# *learns* its kernels, it does not matter.
#
# **You will**
# 1. write both definitions in 1-D and 2-D and see them disagree on an asymmetric kernel;
# 2. check that `torch.nn.functional.conv1d` / `conv2d` compute correlation;
# 3. implement 2-D correlation with loops, then as one matrix product (im2col), and time both against PyTorch;
# 4. check which algebraic laws each operation obeys;
# 5. step through a convolution one output at a time, and try classic kernels on a real photo.
#
# Every number below is computed by the cell above it; every formula is checked against PyTorch (and NumPy)
# by an `assert`, so if this notebook runs, what it says is true.

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
import statistics
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from IPython.display import display

from cnn_lessons import data, drawing, exercises, explorers, figures, ops

torch.manual_seed(0)
torch.set_printoptions(precision=2, sci_mode=False)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

# %% slideshow={"slide_type": "skip"}
# NBVAL_IGNORE_OUTPUT
# the device depends on the machine running the lesson (a GPU when there is one)
print(f"torch {torch.__version__} on {device}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. One dimension
#
# Take a signal $x$ of length $n$ and a kernel $w$ of length $k$. **Cross-correlation** lays the kernel over
# the signal as it is and adds up the products, one output for each place the kernel fits:
#
# $$(x \star w)[i] \;=\; \sum_{j=0}^{k-1} x[i + j]\, w[j], \qquad i = 0, \dots, n - k.$$
#
# **Convolution** flips the kernel end to end first. Written the same way (the "valid" positions only):
#
# $$(x * w)[i] \;=\; \sum_{j=0}^{k-1} x[i + j]\, w[k - 1 - j].$$
#
# This is the familiar $\sum_m x[m]\, w[t - m]$ of signal processing at output position $t$, restricted to
# the positions where the kernel lies wholly inside the signal (there $t = i + k - 1$; substitute $m = i + j$). The difference is invisible when the kernel reads the same both ways,
# so we take one that does not:

# %% slideshow={"slide_type": "fragment"}
x = torch.tensor([0.0, 1, 3, 2, 0, 0, 4, 1])
w = torch.tensor([1.0, 2, -1])  # asymmetric: flipped it reads [-1, 2, 1]

correlation = ops.correlate1d(x, w)
convolution = ops.convolve1d(x, w)
torch_conv1d = F.conv1d(x.view(1, 1, -1), w.view(1, 1, -1)).flatten()

print("x              ", x.tolist())
print("w              ", w.tolist(), "  flipped:", w.flip(0).tolist())
print("correlation    ", correlation.tolist())
print("convolution    ", convolution.tolist())
print("F.conv1d       ", torch_conv1d.tolist())

# %% [markdown] slideshow={"slide_type": "subslide"}
# The two rows differ, and PyTorch's `conv1d` agrees with the **correlation** row. The output has
# $n - k + 1 = 6$ positions. Let us check both definitions against two independent references: PyTorch, and
# NumPy, whose `np.convolve` is true convolution and `np.correlate` is correlation.

# %% slideshow={"slide_type": "fragment"}
assert torch.equal(torch_conv1d, correlation), "F.conv1d computes correlation"
assert not torch.equal(torch_conv1d, convolution)
assert torch.equal(convolution, F.conv1d(x.view(1, 1, -1), w.flip(0).view(1, 1, -1)).flatten())

assert np.allclose(np.convolve(x.numpy(), w.numpy(), mode="valid"), convolution.numpy())
assert np.allclose(np.correlate(x.numpy(), w.numpy(), mode="valid"), correlation.numpy())
print("output length:", len(correlation), "= n - k + 1 =", len(x) - len(w) + 1)

# %% [markdown] slideshow={"slide_type": "subslide"}
# With a symmetric kernel, flipping changes nothing, so the two operations agree. This is why a blur like
# $[1, 2, 1]$ cannot tell you which one a library computes:

# %% slideshow={"slide_type": "fragment"}
symmetric = torch.tensor([1.0, 2, 1])
print("correlation", ops.correlate1d(x, symmetric).tolist())
print("convolution", ops.convolve1d(x, symmetric).tolist())
assert torch.equal(ops.correlate1d(x, symmetric), ops.convolve1d(x, symmetric))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Two dimensions
#
# In 2-D the kernel is a $k_h \times k_w$ grid. Correlation slides it as it is,
#
# $$(X \star W)[i, j] = \sum_{a=0}^{k_h-1} \sum_{b=0}^{k_w-1} X[i + a,\, j + b]\; W[a, b],$$
#
# and convolution first flips it along **both** axes (a half turn, not a transpose):
# $W[a, b] \to W[k_h - 1 - a,\, k_w - 1 - b]$. The figure shows both outputs, computed by
# `cnn_lessons.ops`, on a small image and an asymmetric kernel.

# %% slideshow={"slide_type": "fragment"}
image = torch.tensor(
    [
        [0.0, 0, 1, 2, 1],
        [0, 1, 3, 1, 0],
        [1, 2, 0, 0, 2],
        [0, 0, 1, 3, 1],
        [2, 1, 0, 1, 0],
    ]
)
kernel = torch.tensor([[1.0, 0, 0], [0, 2, 0], [0, 0, -1]])  # a diagonal that is not symmetric under the flip

print("kernel flipped (as convolution applies it):")
print(kernel.flip(0, 1))
print("correlation:")
print(ops.correlate2d(image, kernel))
print("convolution:")
print(ops.convolve2d(image, kernel))

reference = F.conv2d(image[None, None], kernel[None, None])[0, 0]
assert torch.equal(ops.correlate2d(image, kernel), reference)
assert torch.equal(ops.convolve2d(image, kernel), F.conv2d(image[None, None], kernel.flip(0, 1)[None, None])[0, 0])
assert not torch.equal(ops.convolve2d(image, kernel), reference)

# %% slideshow={"slide_type": "fragment"}
# the grids of cnn_lessons.figures, the same function that draws assets/figures/01-correlation-vs-convolution.png
display(figures.correlation_vs_convolution(image, kernel))


# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. From loops to one matrix product
#
# ### 3.1 The definition as loops
# The definition translates directly into four nested loops: two over output positions, two over the kernel.
# It is slow in Python, but it is the clearest statement of what a convolution layer computes.

# %% slideshow={"slide_type": "fragment"}
def correlate2d_by_loops(image, kernel):
    kh, kw = kernel.shape
    out_h, out_w = image.shape[0] - kh + 1, image.shape[1] - kw + 1
    out = torch.zeros(out_h, out_w)
    for i in range(out_h):
        for j in range(out_w):
            for a in range(kh):
                for b in range(kw):
                    out[i, j] += image[i + a, j + b] * kernel[a, b]
    return out


loops = correlate2d_by_loops(image, kernel)
assert torch.equal(loops, reference)
assert torch.equal(loops, ops.correlate2d_loops(image, kernel))  # the package's version adds stride, padding, dilation
print(loops)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### 3.2 im2col: every window as a column
# Each output is a dot product between the flattened kernel and one flattened window of the input. Lay
# every window out as a column of a matrix (**im2col**, "image to columns"), and all outputs come from one
# matrix product. PyTorch's `F.unfold` builds that matrix. For our 5×5 image and 3×3 kernel there are
# $3 \times 3 = 9$ windows of $9$ values each:

# %% slideshow={"slide_type": "fragment"}
columns = F.unfold(image[None, None], kernel_size=kernel.shape)[0]  # (kh*kw, number of windows)
print("columns:", tuple(columns.shape))
print(columns.int())

# %% slideshow={"slide_type": "fragment"}
im2col = (kernel.flatten() @ columns).view(3, 3)  # one row (the kernel) times the 9 columns
assert torch.equal(im2col, reference)
print(im2col)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The same idea handles batches, many input channels and many kernels at once: each kernel becomes a row
# of $C_{in} k_h k_w$ weights, and one matrix product gives every output channel for every window.
# `cnn_lessons.ops.conv2d` does exactly this (with stride, padding, dilation, groups and bias), and it agrees
# with `F.conv2d` on a batch of random images, here on the lesson's device:

# %% slideshow={"slide_type": "fragment"}
batch = torch.randn(8, 3, 64, 64, device=device)
weights = torch.randn(16, 3, 3, 3, device=device)
bias = torch.randn(16, device=device)

ours = ops.conv2d(batch, weights, bias, padding=1)
theirs = F.conv2d(batch, weights, bias, padding=1)
assert ours.shape == theirs.shape
assert torch.allclose(ours, theirs, atol=1e-4)
print("output shape:", tuple(ours.shape), "| largest difference below 1e-4:", bool((ours - theirs).abs().max() < 1e-4))

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### 3.3 How fast is each?
# The loops compute one multiply-add at a time in Python; im2col hands all of them to one optimised matrix
# product; `F.conv2d` uses a dedicated convolution kernel (oneDNN on CPU, cuDNN on GPU). Timings depend on
# the machine, so this cell's output is not compared when the notebook runs as a test.

# %% slideshow={"slide_type": "fragment"}
# NBVAL_IGNORE_OUTPUT
# timings differ from machine to machine and run to run


def median_time(fn, repeats=7):
    # the median of several runs after a warm-up: one cold run can be off by a factor of ten
    fn()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


small_image, small_kernel = torch.randn(32, 32), torch.randn(3, 3)
t_loops = median_time(lambda: correlate2d_by_loops(small_image, small_kernel), repeats=3)
t_im2col_small = median_time(lambda: ops.correlate2d(small_image, small_kernel))
t_im2col = median_time(lambda: ops.conv2d(batch, weights, bias, padding=1))
t_torch = median_time(lambda: F.conv2d(batch, weights, bias, padding=1))
print(f"one 32x32 image, 3x3 kernel: loops {t_loops * 1e3:8.1f} ms | unfold {t_im2col_small * 1e3:6.3f} ms"
      f" ({t_loops / t_im2col_small:,.0f}x faster)")
print(f"8x3x64x64 batch, 16 kernels: im2col {t_im2col * 1e3:6.2f} ms | F.conv2d {t_torch * 1e3:6.2f} ms"
      f" (im2col takes {t_im2col / t_torch:.1f}x as long)")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Which laws hold?
#
# Convolution is the operation with nice algebra. Using the **full** output (every position where kernel and
# signal overlap at all, `padding="full"`), it is
#
# - **commutative**: $x * w = w * x$, the signal and the kernel play the same role;
# - **associative**: $(x * a) * b = x * (a * b)$, so two filters applied one after the other equal one
#   combined filter.
#
# Correlation is neither: swapping its arguments reverses the output, and chaining two correlations equals
# correlating once with the *convolution* of the two kernels, not with their correlation.

# %% slideshow={"slide_type": "fragment"}
a = torch.tensor([1.0, 2, -1])
b = torch.tensor([0.0, 3, 1, -2])


def conv(u, v):
    return ops.convolve1d(u, v, padding="full")


def corr(u, v):
    return ops.correlate1d(u, v, padding="full")


laws = {
    "convolution commutes       x*a == a*x          ": torch.allclose(conv(x, a), conv(a, x)),
    "convolution associates     (x*a)*b == x*(a*b)  ": torch.allclose(conv(conv(x, a), b), conv(x, conv(a, b))),
    "correlation commutes       x.a == a.x          ": torch.allclose(corr(x, a), corr(a, x)),
    "correlation associates     (x.a).b == x.(a.b)  ": torch.allclose(corr(corr(x, a), b), corr(x, corr(a, b))),
}
for law, holds in laws.items():
    print(law, holds)

assert [*laws.values()] == [True, True, False, False]
assert torch.allclose(corr(a, x), corr(x, a).flip(0))  # swapped arguments: the same numbers, reversed
assert torch.allclose(corr(corr(x, a), b), corr(x, conv(a, b)))  # chained correlations
assert np.allclose(np.convolve(x.numpy(), a.numpy()), conv(x, a).numpy())  # 'full' is NumPy's default mode

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Why the difference does not matter for learned kernels
# Correlating with $w$ is convolving with $w$ flipped: $x \star w = x * \operatorname{flip}(w)$. A network
# learns its kernel from data, so whatever kernel a convolution would need, a correlation layer can learn its
# flipped twin, and the two layers can represent exactly the same functions. Libraries therefore skip the
# flip and keep the name. Skipping it saves nothing worth counting (a flip only reads the kernel in reverse
# order); what it buys is a simpler definition that matches how the windows are stored in memory. Goodfellow, Bengio and Courville make the same remark in
# *Deep Learning* (MIT Press, 2016), §9.1.
#
# We can watch it happen. Make a target by **true convolution** with a known kernel, then fit a correlation
# kernel (what `Conv1d` computes) to it by least squares. The fit finds the flipped kernel:

# %% slideshow={"slide_type": "fragment"}
secret = torch.tensor([3.0, -1, 0.5])
signal = torch.randn(200, dtype=torch.float64)
target = ops.convolve1d(signal, secret.double())

windows = signal.unfold(0, len(secret), 1)  # each row is one window: correlation is windows @ kernel
learned = torch.linalg.lstsq(windows, target[:, None]).solution.flatten()
print("secret convolution kernel:", secret.tolist())
print("learned correlation kernel:", [round(v, 4) for v in learned.tolist()])
assert torch.allclose(learned, secret.flip(0).double(), atol=1e-8)
assert torch.allclose(F.conv1d(signal.view(1, 1, -1), learned.view(1, 1, -1)).flatten(), target)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Step through it
#
# Move the **position** slider to slide the window along the signal (top) and over the image (bottom). The
# highlighted window, the kernel as applied, the element-wise products and their sum are drawn for the current
# output; switch **mode** to see convolution apply the flipped kernel to the same windows. Every number in the
# picture comes from `cnn_lessons.ops` and is checked against PyTorch by the project's tests.

# %% slideshow={"slide_type": "fragment"}
explorers.StepThroughExplorer(x, w, image, kernel)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Classic kernels on a real photo
#
# Before networks learned their kernels, people designed them by hand. Each of these 3×3 kernels
# (`cnn_lessons.ops.CLASSIC_KERNELS`) is written for correlation, the way `F.conv2d` applies it:

# %% slideshow={"slide_type": "fragment"}
for name, k in ops.CLASSIC_KERNELS.items():
    print(f"{name:10s}", [[round(v, 3) for v in row] for row in k.tolist()])

# %% [markdown] slideshow={"slide_type": "subslide"}
# The photo is one of the two that scikit-learn ships (`load_sample_image("china.jpg")`, no download),
# turned to grayscale and shrunk to 128×128. Each panel below is the photo correlated with one kernel,
# `padding="same"` so that the result keeps the photo's size, and each is checked against `F.conv2d`:

# %% slideshow={"slide_type": "fragment"}
photo = data.load_photo("china.jpg", size=128)
filtered = {name: ops.correlate2d(photo, k, padding="same") for name, k in ops.CLASSIC_KERNELS.items()}
for name, k in ops.CLASSIC_KERNELS.items():
    assert torch.allclose(filtered[name], F.conv2d(photo[None, None], k[None, None], padding="same")[0, 0], atol=1e-5)
print("photo:", tuple(photo.shape), f"values in [{photo.min():.2f}, {photo.max():.2f}]")

fig, axes = plt.subplots(1, 1 + len(filtered), figsize=(15, 2.9))
axes[0].imshow(photo, cmap="gray", vmin=0, vmax=1)
axes[0].set_title("photo")
for ax, (name, result) in zip(axes[1:], filtered.items(), strict=True):
    limit = float(result[1:-1, 1:-1].abs().max())  # the border pixels see zero padding: leave them out of the scale
    signed = abs(float(ops.CLASSIC_KERNELS[name].sum())) < 1e-6  # kernels summing to 0 give signed responses
    ax.imshow(result, cmap=drawing.DIVERGING if signed else "gray", vmin=-limit if signed else 0, vmax=limit if signed else 1)
    ax.set_title(name)
for ax in axes:
    ax.set_axis_off()
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Sobel x is antisymmetric left to right, so here the flip shows up as a sign: convolving with it gives
# exactly the negative of correlating with it, and every edge changes polarity (bright-to-dark becomes
# dark-to-bright). Sobel y is antisymmetric top to bottom and flips sign the same way. A blur, sharpen or the
# Laplacian is symmetric under the half turn and gives the same picture either way.

# %% slideshow={"slide_type": "fragment"}
for name in ("sobel x", "sobel y"):
    assert torch.allclose(ops.convolve2d(photo, ops.CLASSIC_KERNELS[name], padding="same"), -filtered[name])
for name, k in ops.CLASSIC_KERNELS.items():
    same = torch.allclose(ops.convolve2d(photo, k, padding="same"), filtered[name], atol=1e-6)
    assert same == (name not in ("sobel x", "sobel y"))
    print(f"{name:10s} convolution == correlation: {same}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Pick a kernel and compare the photo with its filtered version. The result uses a diverging colour map
# centred on zero: edge detectors give negative values (blue) as well as positive ones (red).
#
# Choosing a kernel writes its weights into the 3×3 grid of inputs under the menu; typing into any of them
# switches to **custom** and filters the photo with your weights as you type. The note beside the menu says what
# the kernel does, computed from your weights and the photo: the sum of the weights (a flat area comes out
# multiplied by it, so the sum sets the brightness), and whether the kernel turned half a turn, which is what
# convolution uses, is the same kernel, its negative or a different one, with the largest difference between
# convolution and correlation on the photo. The same computation for one typed kernel, checked against PyTorch:

# %% slideshow={"slide_type": "fragment"}
typed = torch.tensor([[1.0, 2, 0], [0, 1, -1], [0.5, 0, 0]])  # lopsided on purpose
picture = explorers.kernel_picker.kernel_picture(photo, typed)
assert torch.allclose(picture.result, F.conv2d(photo[None, None], typed[None, None], padding="same")[0, 0], atol=1e-5)
turned = torch.rot90(typed, 2)  # half a turn: the kernel convolution applies
assert torch.allclose(picture.convolved, F.conv2d(photo[None, None], turned[None, None], padding="same")[0, 0], atol=1e-5)
assert picture.weight_sum == float(typed.sum()) and picture.symmetry == "neither"
print(picture.brightness)
print(picture.flip)

# %% slideshow={"slide_type": "fragment"}
explorers.KernelPicker(photo)


# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
# Each exercise has a cell to fill in (the lesson shows it solved; the student copy leaves it to you) and a
# cell that checks your answer on many cases and tells you what is off.
#
# **Exercise 1 (easy).** Write 1-D cross-correlation with loops: `out[i] = sum_j signal[i + j] * kernel[j]`
# for every position where the kernel fits (no padding, stride 1). Return a list or a tensor.

# %% nbgrader={"grade": false, "grade_id": "my_correlate1d", "locked": false, "schema_version": 3, "solution": true, "task": false} slideshow={"slide_type": "notes"} tags=["solution"]
def my_correlate1d(signal, kernel):
    ### BEGIN SOLUTION
    n, k = len(signal), len(kernel)
    return [sum(signal[i + j] * kernel[j] for j in range(k)) for i in range(n - k + 1)]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_correlate1d", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false} slideshow={"slide_type": "fragment"} tags=["exercise"]
exercises.check_correlate1d(my_correlate1d)


# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 2 (medium).** Write true 2-D convolution (no padding, stride 1) for a 2-D `image` and `kernel`
# tensor. You may use `F.conv2d`, `ops.correlate2d` or loops: the point is the flip.

# %% nbgrader={"grade": false, "grade_id": "my_convolve2d", "locked": false, "schema_version": 3, "solution": true, "task": false} slideshow={"slide_type": "notes"} tags=["solution"]
def my_convolve2d(image, kernel):
    ### BEGIN SOLUTION
    return ops.correlate2d(image, kernel.flip(0, 1))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_convolve2d", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false} slideshow={"slide_type": "fragment"} tags=["exercise"]
exercises.check_convolve2d(my_convolve2d)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 3 (think first).** `F.conv2d` computes correlation. Which 2×2 kernel must you give it so that it
# computes the *convolution* with $W = \begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}$? Answer with a nested list.

# %% nbgrader={"grade": false, "grade_id": "answer", "locked": false, "schema_version": 3, "solution": true, "task": false} slideshow={"slide_type": "notes"} tags=["solution"]
### BEGIN SOLUTION
answer = [[4, 3], [2, 1]]
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "check_flipped_kernel", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false} slideshow={"slide_type": "fragment"} tags=["exercise"]
exercises.check_flipped_kernel(answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - Correlation slides the kernel as it is; convolution flips it along every axis first. They agree only for
#   kernels that are symmetric under the flip.
# - `torch.nn.functional.conv1d`/`conv2d` (and `nn.Conv2d`) compute **correlation**.
# - A convolution layer is a sum of products over windows: four loops, or one matrix product after im2col.
# - Convolution is commutative and associative; correlation is neither. For learned kernels the choice does
#   not matter, because a correlation layer learns the flipped kernel.
#
# Next: **02 · Padding, stride and dilation**, which change where the windows are.
