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
# # 06 · What makes a CNN train well
#
# Lesson 03 trained its digits network with AdamW, a one-cycle schedule and label smoothing; lesson 04 built
# every block with batch normalisation, and some with dropout. Neither said what these tools do. This lesson
# takes each one apart and measures it, on the same 8×8 digits, with small networks that train in a second.
#
# **You will**
# 1. watch the scale of the activations and the gradients through a 20-layer stack for four initialisations,
#    and check the variance argument behind He's initialisation;
# 2. write batch normalisation from scratch, equal to PyTorch's in training and evaluation mode, and meet the
#    classic bug of evaluating in training mode;
# 3. measure what pooling buys: tolerance to a one-pixel shift;
# 4. check dropout's scaling;
# 5. augment the digits with small shifts and rotations;
# 6. run an honest ablation: the same small CNN plain, with batch norm, augmentation, dropout, and all three,
#    on clean and shifted test digits, with several seeds;
# 7. see why two 3×3 convolutions beat one 5×5, and why a nonlinearity is needed at all;
# 8. measure lesson 03's optimiser settings: SGD, Adam and AdamW, the one-cycle schedule, label smoothing;
# 9. explore the activations layer by layer with sliders.
#
# Every number below is printed by a code cell; every from-scratch piece is checked against PyTorch by an
# `assert`. Where a claim depends on training, it is measured with several seeds, and a difference smaller than
# the seeds' spread is called what it is: no difference we can see.

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
import copy
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
import torchinfo
from torch import nn

from cnn_lessons import arithmetic, data, exercises, explorers, ops, train
from cnn_lessons.explorers import activations

torch.manual_seed(0)
torch.set_printoptions(precision=3, sci_mode=False)
torch.set_num_threads(1)  # this lesson's networks are small: one thread runs them faster than several
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
split = data.load_digits_split()

# %% slideshow={"slide_type": "skip"}
# NBVAL_IGNORE_OUTPUT
# the device depends on the machine running the lesson (a GPU when there is one)
print(f"torch {torch.__version__} on {device}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Initialisation: the scale of a deep stack
#
# ### 1.1 The variance argument
# A convolution's output at one position is a sum of $\text{fan\_in} = C_{in} k_h k_w$ products $w_j x_j$. With
# weights drawn independently with mean 0 and variance $\text{Var}(w)$, independent of the inputs,
#
# $$\text{Var}(z) = \text{fan\_in}\cdot\text{Var}(w)\cdot E[x^2].$$
#
# A ReLU keeps the positive half of a symmetric $z$, so $E[\text{relu}(z)^2] = \text{Var}(z)/2$. Layer after
# layer, the mean square of the activations is multiplied by $\text{fan\_in}\cdot\text{Var}(w)/2$, and their
# typical size (the root mean square) by its square root. He et al. ("Delving deep into rectifiers",
# arXiv 1502.01852, 2015) choose $\text{Var}(w) = 2/\text{fan\_in}$ to make that factor exactly 1. Glorot and
# Bengio (AISTATS 2010) had chosen $1/\text{fan\_in}$ (for equal fan-in and fan-out), which keeps the scale of a
# linear layer but loses a factor $\sqrt{1/2}$ per ReLU layer. PyTorch's default for `nn.Conv2d`
# (lesson 03, section 4) has variance $1/(3\,\text{fan\_in})$: a factor $\sqrt{1/6} \approx 0.41$ per layer.
#
# One wide layer checks the argument: an 8×8 map of 256 channels of ReLU activations through a 3×3 convolution to
# 2048 channels, then a ReLU, for weights of each variance. The ratio of the mean squares after and before is
# the predicted factor, to within the randomness of one draw of weights (about 1% for this many channels):

# %% slideshow={"slide_type": "fragment"}
torch.manual_seed(0)
wide = torch.relu(torch.randn(1, 256, 8, 8))  # ReLU activations: E[x^2] = 1/2
fan_in = 256 * 3 * 3
variances = {
    "std 0.01": 1e-4,
    "torch default, 1/(3 fan_in)": 1 / (3 * fan_in),
    "Glorot, 1/fan_in": 1 / fan_in,
    "He, 2/fan_in": 2 / fan_in,
    "too large, 8/fan_in": 8 / fan_in,
}
conv = nn.Conv2d(256, 2048, 3, padding=1, padding_mode="circular", bias=False)  # circular: no border effects
print(f"fan_in = {fan_in}")
print(f"{'weights':>28} | {'Var(w)':>9} {'measured':>9} | {'predicted E[h²] ratio':>21} {'measured':>9}")
for name, variance in variances.items():
    with torch.no_grad():
        if name.startswith("torch default"):
            conv.reset_parameters()  # what nn.Conv2d does: kaiming_uniform_(a=sqrt(5))
        else:
            conv.weight.normal_(0, math.sqrt(variance))
        ratio = (torch.relu(conv(wide)).pow(2).mean() / wide.pow(2).mean()).item()
    predicted = fan_in * variance / 2
    measured_variance = conv.weight.var().item()
    print(f"{name:>28} | {variance:9.2e} {measured_variance:9.2e} | {predicted:21.4f} {ratio:9.2f}")
    assert abs(measured_variance / variance - 1) < 0.01  # 4,718,592 weights: within 1%
    assert abs(ratio / predicted - 1) < 0.03

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### 1.2 Twenty layers
# Now a deep plain stack: 20 layers of a 3×3 convolution from 16 to 16 channels (fan_in = 144, no bias, circular
# padding so that every position sees all 144 inputs) and a ReLU, with one batch of 16 random 8×8 maps. The
# picture of the explorer at the end of this lesson (`explorers.activation_picture`) records each layer's
# activation standard deviation and the standard deviation of the gradient that flows back to it from a random
# gradient at the top. For four initialisations:

# %% slideshow={"slide_type": "fragment"}
INITS = ["too small (std 0.01)", "torch default", "He (2/fan_in)", "too large (8/fan_in)"]
pictures = {name: explorers.activation_picture(20, name, False, "ReLU") for name in INITS}

fig, (ax_act, ax_grad) = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
layers = range(1, 21)
for name, picture in pictures.items():
    ax_act.plot(layers, picture.activation_std, marker="o", markersize=3, label=name)
    ax_grad.plot(layers, picture.gradient_std, marker="o", markersize=3, label=name)
for ax, title in ((ax_act, "activation std after each layer"), (ax_grad, "gradient std at each layer")):
    ax.set(yscale="log", xlabel="layer", title=title, xticks=[1, 5, 10, 15, 20])
    ax.grid(alpha=0.3)
ax_act.legend(fontsize=8)
plt.show()

print(
    f"{'init':>22} | {'Var(w)':>9} | {'predicted ×/layer':>17} {'measured ×/layer':>16} | {'std, layer 20':>13} "
    f"{'grad std, layer 1':>17}"
)
for name, picture in pictures.items():
    predicted = math.sqrt(picture.fan_in * picture.weight_variance / 2)
    measured = (picture.activation_std[-1] / picture.activation_std[0]) ** (1 / 19)
    print(
        f"{name:>22} | {picture.weight_variance:9.2e} | {predicted:17.3f} {measured:16.3f} | "
        f"{picture.activation_std[-1]:13.1e} {picture.gradient_std[0]:17.1e}"
    )

# %% [markdown] slideshow={"slide_type": "subslide"}
# The table and the plots say the same thing three ways. With weights of standard deviation 0.01 the signal is
# gone after a few layers, and so is the gradient that would have to train the first layers. PyTorch's default
# loses a factor of about 0.4 per layer: after 20 layers the activations are about $10^{-8}$ of their start, and
# so are the first layer's gradients. He's variance keeps both near 1. A variance four times He's doubles the
# scale at every layer: over 20 layers the activations and the gradients grow by a factor of about $10^5$.
#
# Two things the check below confirms. First, the picture is not a private computation: PyTorch's own modules
# (`nn.Conv2d` with circular padding, `nn.ReLU`) give the same numbers. Second, a ReLU network is *positively
# homogeneous*: multiplying every weight by $c > 0$ multiplies layer $l$'s activations by exactly $c^l$. "Too
# large" uses He's very draws times 2, so its layer-$l$ activations are $2^l$ times He's, and the measured
# factor per layer is the predicted one times the same number for every normal initialisation.

# %% slideshow={"slide_type": "fragment"}
he, large = pictures["He (2/fan_in)"], pictures["too large (8/fan_in)"]
ratios = [a / b for a, b in zip(large.activation_std, he.activation_std, strict=True)]
assert all(math.isclose(r, 2.0**layer, rel_tol=1e-3) for layer, r in enumerate(ratios, start=1))

stack = nn.Sequential()
for weight in activations.stack_weights("torch default"):
    layer = nn.Conv2d(16, 16, 3, padding=1, padding_mode="circular", bias=False)
    with torch.no_grad():
        layer.weight.copy_(weight)
    stack.extend([layer, nn.ReLU()])
x, upstream = activations.stack_batch()
x.requires_grad_(True)
outputs = []


def keep_output(module, args, output):  # a forward hook that returns nothing leaves the output as it is
    output.retain_grad()
    outputs.append(output)


for module in stack:
    if isinstance(module, nn.ReLU):
        module.register_forward_hook(keep_output)
stack(x).backward(upstream[-1])
torch_stds = [o.detach().std().item() for o in outputs]
torch_grads = [o.grad.std().item() for o in outputs]
default = pictures["torch default"]
assert np.allclose(torch_stds, default.activation_std, rtol=1e-3)
assert np.allclose(torch_grads, default.gradient_std, rtol=1e-3)
print(f"PyTorch's modules: std after layer 20 = {torch_stds[-1]:.3e}, gradient std at layer 1 = {torch_grads[0]:.3e}")
print(
    "He, measured ÷ predicted factor per layer:",
    round((he.activation_std[-1] / he.activation_std[0]) ** (1 / 19), 3),
    "| too large:",
    round((large.activation_std[-1] / large.activation_std[0]) ** (1 / 19) / 2, 3),
)

# %% [markdown] slideshow={"slide_type": "slide"}
# Why is He's measured factor a little below 1? The variance argument is about the *expected* mean square over
# all random draws of the weights. One network of 16 channels is one draw, and the factors of its layers are
# random numbers around the expectation; their product drifts, more so the narrower and deeper the network is
# (Hanin and Rolnick, "How to start training", NeurIPS 2018). Batch normalisation (next section) removes the
# question altogether: it rescales every layer's output to variance 1, whatever the weights.
#
# ## 2. Batch normalisation from scratch
#
# ### 2.1 What it computes
# Ioffe and Szegedy's batch normalisation (ICML 2015) normalises each channel of a batch with that channel's
# own statistics over the batch and all positions, then applies a learned scale $\gamma$ and shift $\beta$:
#
# $$y = \frac{x - \mu_c}{\sqrt{\sigma^2_c + \epsilon}}\,\gamma_c + \beta_c, \qquad \mu_c, \sigma^2_c \text{ over the } N \cdot H \cdot W
# \text{ values of channel } c.$$
#
# In training mode it also keeps *running* statistics for later:
# $\text{running} \leftarrow (1 - m)\,\text{running} + m\,\text{batch}$ with momentum $m = 0.1$. Two details
# decide whether a from-scratch version matches PyTorch: the normalisation uses the *biased* variance (divided
# by $N H W$), and the running variance is updated with the *unbiased* one (divided by $N H W - 1$).
# `ops.batch_norm2d` does exactly this; three training steps and one evaluation against `nn.BatchNorm2d`:

# %% slideshow={"slide_type": "fragment"}
torch.manual_seed(0)
norm = nn.BatchNorm2d(3)
with torch.no_grad():
    norm.weight.copy_(torch.tensor([1.0, 2.0, 0.5]))
    norm.bias.copy_(torch.tensor([0.0, -1.0, 3.0]))
running_mean, running_var = torch.zeros(3), torch.ones(3)  # what a new BatchNorm2d holds
scale = torch.tensor([1.0, 4.0, 0.5]).view(1, 3, 1, 1)
shift = torch.tensor([2.0, -1.0, 0.0]).view(1, 3, 1, 1)
for _ in range(3):
    batch = torch.randn(8, 3, 5, 5) * scale + shift
    with torch.no_grad():
        theirs = norm(batch)  # a new module starts in training mode
    ours = ops.batch_norm2d(batch, running_mean, running_var, norm.weight, norm.bias, training=True)
    assert torch.allclose(ours, theirs, atol=1e-5)
    assert torch.allclose(running_mean, norm.running_mean, atol=1e-6)
    assert torch.allclose(running_var, norm.running_var, atol=1e-6)
    assert torch.allclose(ours, F.batch_norm(batch, None, None, norm.weight, norm.bias, training=True), atol=1e-5)
print("after 3 training steps, running mean:", running_mean, "running var:", running_var)

normalised = ops.batch_norm2d(batch)  # no scale or shift
print(
    "each channel of the last batch, normalised: mean",
    normalised.mean(dim=(0, 2, 3)).round(decimals=3) + 0.0,  # + 0.0: a mean of -1e-8 prints as 0.000, not -0.000
    "std",
    normalised.std(dim=(0, 2, 3), unbiased=False),
)

count = 8 * 5 * 5
biased, unbiased = batch.var(dim=(0, 2, 3), unbiased=False), batch.var(dim=(0, 2, 3))
assert torch.allclose(unbiased, biased * count / (count - 1))
norm.eval()
test_batch = torch.randn(4, 3, 5, 5) * scale + shift
with torch.no_grad():
    assert torch.allclose(
        ops.batch_norm2d(test_batch, running_mean, running_var, norm.weight, norm.bias, training=False),
        norm(test_batch),
        atol=1e-5,
    )
print(f"the running variance took the unbiased variance (÷ {count - 1}, not ÷ {count}); eval mode agrees too")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### 2.2 What `.eval()` changes
# In training mode an image's output depends on the *other* images of its batch (they share $\mu_c$ and
# $\sigma^2_c$), and every forward pass moves the running statistics. `model.eval()` switches every batch-norm
# layer to the running statistics: the output of an image no longer depends on its batch, and nothing is
# updated. The same first image in two different batches:

# %% slideshow={"slide_type": "fragment"}
other = torch.randn(4, 3, 5, 5) * scale + shift
mixed = torch.cat([test_batch[:1], other[1:]])
norm.train()
before = norm.running_mean.clone()
with torch.no_grad():
    train_a, train_b = norm(test_batch)[0], norm(mixed)[0]
moved = (norm.running_mean - before).abs().max().item()
norm.eval()
with torch.no_grad():
    eval_a, eval_b = norm(test_batch)[0], norm(mixed)[0]
print(
    f"training mode: image 0's output changes by up to {(train_a - train_b).abs().max():.3f} with its batch, "
    f"and the running mean moved by up to {moved:.3f}"
)
print(f"eval mode:     image 0's output changes by {(eval_a - eval_b).abs().max():.1e}")
assert (train_a - train_b).abs().max() > 0.1 and torch.equal(eval_a, eval_b) and moved > 0

# %% [markdown] slideshow={"slide_type": "subslide"}
# The classic bug is to predict in training mode, one image at a time. Then each image is normalised by its
# own statistics, which throws away exactly what distinguished it: an image that is brighter than usual
# everywhere looks average. With a single value per channel (a batch of one after global pooling, or a
# `BatchNorm1d` in a classifier head), there is no variance at all, and PyTorch refuses; so does
# `ops.batch_norm2d`, with advice. Section 6 measures what the bug costs a trained network.

# %% slideshow={"slide_type": "fragment"}
one = torch.randn(1, 16, 1, 1)
for name, function in (
    ("F.batch_norm", lambda: F.batch_norm(one, None, None, training=True)),
    ("ops.batch_norm2d", lambda: ops.batch_norm2d(one)),
):
    try:
        function()
    except ValueError as error:
        print(f"{name}: ValueError: {error}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### 2.3 Two parameters and two buffers per channel
# $\gamma$ and $\beta$ are learned, so they are parameters. The running statistics are not learned (no gradient
# changes them), so they are *buffers*: saved with the model and moved with `.to(device)`, but not given to the
# optimiser. `torchinfo` counts only the parameters:

# %% slideshow={"slide_type": "fragment"}
layer = nn.BatchNorm2d(16)
parameters = {name: p.numel() for name, p in layer.named_parameters()}
buffers = {name: b.numel() for name, b in layer.named_buffers()}
summary = torchinfo.summary(layer, input_size=(2, 16, 8, 8), verbose=0, device="cpu")
print("parameters:", parameters, "| buffers:", buffers)
print("torchinfo's total params:", summary.total_params)
assert parameters == {"weight": 16, "bias": 16} and summary.total_params == 32
assert buffers == {"running_mean": 16, "running_var": 16, "num_batches_tracked": 1}

# %% [markdown] slideshow={"slide_type": "slide"}
# (`num_batches_tracked` counts the training steps; PyTorch uses it only when `momentum=None`, for a plain
# running average.)
#
# ## 3. What pooling is for
#
# A max-pool has no parameters and works on each channel alone: the maximum of each window, channel by channel.

# %% slideshow={"slide_type": "fragment"}
pool = nn.MaxPool2d(2)
features = torch.randn(2, 5, 8, 8)
assert sum(p.numel() for p in pool.parameters()) == 0
assert all(torch.equal(pool(features)[:, c], pool(features[:, c : c + 1])[:, 0]) for c in range(5))
print(
    "MaxPool2d(2): 0 parameters;",
    tuple(features.shape),
    "->",
    tuple(pool(features).shape),
    "; each channel pooled alone",
)

# %% [markdown] slideshow={"slide_type": "subslide"}
# What it buys is tolerance to small shifts. Three fixed feature detectors (the Sobel and Laplacian kernels of
# lesson 01, then a ReLU) give feature maps of every test digit, and of the same digit moved one pixel to the
# right. Compared position by position, how much of each map changes, before and after a 2×2 max-pool (and a
# 4×4 one)? The measure is the size of the change relative to the map, $\lVert f(\text{shifted}) - f(x)\rVert
# / \lVert f(x)\rVert$, averaged over the 450 test digits:

# %% slideshow={"slide_type": "fragment"}
kernels = torch.stack([ops.CLASSIC_KERNELS[name] for name in ("sobel x", "sobel y", "laplacian")])[:, None]


def feature_maps(images):
    return torch.relu(F.conv2d(images, kernels, padding=1))


def relative_change(a, b):
    return ((a - b).flatten(1).norm(dim=1) / a.flatten(1).norm(dim=1)).mean().item()


digits, moved = split.test_images, data.shift_images(split.test_images, 1, 0)
maps, moved_maps = feature_maps(digits), feature_maps(moved)
changes = {
    "feature maps (8×8)": relative_change(maps, moved_maps),
    "after a 2×2 max-pool (4×4)": relative_change(F.max_pool2d(maps, 2), F.max_pool2d(moved_maps, 2)),
    "after a 4×4 max-pool (2×2)": relative_change(F.max_pool2d(maps, 4), F.max_pool2d(moved_maps, 4)),
}
for name, change in changes.items():
    print(f"{name:>28}: changed by {change:.0%} of the map's size")
aligned = relative_change(data.shift_images(maps, 1, 0), moved_maps)
print(f"{'(the maps moved along too)':>28}: changed by {aligned:.1%}: the features moved with the digit")
assert list(changes.values()) == sorted(changes.values(), reverse=True) and aligned < 0.01

# %% [markdown] slideshow={"slide_type": "slide"}
# The convolution is equivariant (lesson 03): shifted input, shifted features, so compared *in place* nearly
# every value changes. A max-pool reports only the largest value of each window, which often stays in the same
# window after a one-pixel move; the larger the window, the less changes, and the more *where* is forgotten.
# That is the trade a CNN makes with every pool: tolerance to small shifts for spatial detail.
#
# ## 4. Dropout
#
# Dropout (Srivastava et al., JMLR 15, 2014) sets each activation to zero with probability $p$ during training,
# a different random subset at every step, so that no unit can rely on another being present. PyTorch uses
# *inverted* dropout: the values it keeps are divided by $1 - p$, so that each activation's expected value is
# unchanged ($E[\text{keep}/(1-p)] = 1$) and evaluation needs no correction: in eval mode dropout does nothing.

# %% slideshow={"slide_type": "fragment"}
torch.manual_seed(0)
x = torch.randn(1000)
p = 0.3
out = F.dropout(x, p, training=True)
keep = (out != 0).float()
assert torch.allclose(out, x * keep / (1 - p))  # the kept values, scaled by 1 / (1 - p)
print(f"p = {p}: {1 - keep.mean():.1%} of the values zeroed, the rest multiplied by 1/(1 - p) = {1 / (1 - p):.4f}")

draws = torch.stack([F.dropout(x, p, training=True) for _ in range(4000)])
deviation = (draws.mean(dim=0) - x).abs().max().item()
expected_spread = math.sqrt(p / (1 - p) / 4000) * x.abs().max().item()  # std of a mean of 4000 draws, largest x
print(
    f"mean of 4000 draws vs x: largest difference {deviation:.3f} (one standard error for the largest |x|: "
    f"{expected_spread:.3f})"
)
assert deviation < 5 * expected_spread
dropout = nn.Dropout(p)
dropout.eval()
assert torch.equal(dropout(x), x) and torch.equal(F.dropout(x, p, training=False), x)
print("eval mode: the input, unchanged")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Data augmentation
#
# A network sees each training digit once per epoch. Augmentation shows it a slightly different version each
# time: here, moved by up to one pixel in each direction (`data.random_shifts`, as in lesson 03) and turned by
# up to 10° (`data.random_rotations`), together `data.shifts_and_rotations`. The label stays the same, so the
# network is told that these changes do not matter. Five training digits, then four augmented copies of each:

# %% slideshow={"slide_type": "fragment"}
generator = torch.Generator().manual_seed(0)
originals = split.train_images[:5]
copies = [data.shifts_and_rotations(originals, generator=generator) for _ in range(4)]
fig, axes = plt.subplots(5, 5, figsize=(5, 5.2))
for row in range(5):
    for col, images in enumerate([originals, *copies]):
        axes[row, col].imshow(images[row, 0], cmap="gray_r", vmin=0, vmax=1)
        axes[row, col].set_axis_off()
axes[0, 0].set_title("original", fontsize=9)
axes[0, 2].set_title("augmented copies", fontsize=9)
plt.show()
assert torch.allclose(data.random_rotations(originals, 0.0), originals, atol=1e-6)  # a turn by 0° changes nothing

# %% [markdown] slideshow={"slide_type": "slide"}
# Rotating an 8×8 image blurs it a little (each new pixel is interpolated from four old ones); lesson 03's
# translation experiment showed that a network trained on unshifted digits loses much of its accuracy on
# digits moved by one pixel. The ablation measures what augmentation does about it.
#
# ## 6. An honest ablation
#
# One small CNN (`train.ablation_cnn`: 3×3 convolutions with 16 and 32 channels, a 2×2 max-pool after the
# first, a linear layer on the flattened 32×4×4 map), trained for 8 epochs with AdamW and a one-cycle schedule
# (`train.ABLATION_TRAINING`), in five configurations: plain, with batch norm after each convolution, with
# augmentation, with dropout ($p = 0.3$) before the linear layer, and with all three. Each is trained with
# three seeds (different initial weights and batch orders) and tested on the 450 clean test digits and on the
# same digits moved one pixel right, left, down and up (averaged). `benchmarks/ablation_digits.py` runs the same
# with more seeds.

# %% slideshow={"slide_type": "fragment"}
SEEDS = (0, 1, 2)
runs = {
    config: [train.run_ablation(config, seed, device=device) for seed in SEEDS] for config in train.ABLATION_CONFIGS
}


def spread(values):
    return f"≈{np.mean(values):.1%} (≈{min(values):.1%} to ≈{max(values):.1%})"


print(
    f"{'config':>13} {'parameters':>10} | {'clean test accuracy, mean (seeds)':>36} | "
    f"{'shifted by 1 px, mean (seeds)':>36}"
)
for config, config_runs in runs.items():
    count = sum(p.numel() for p in config_runs[0].model.parameters())
    clean = [run.clean_accuracy for run in config_runs]
    shifted = [run.shifted_accuracy for run in config_runs]
    print(f"{config:>13} {count:>10,} | {spread(clean):>36} | {spread(shifted):>36}")

# %% slideshow={"slide_type": "fragment"}
# NBVAL_IGNORE_OUTPUT
# training times differ from run to run and machine to machine
print(
    "seconds per training run:",
    {config: round(float(np.mean([r.seconds for r in rs])), 2) for config, rs in runs.items()},
)


# %% [markdown] slideshow={"slide_type": "subslide"}
# Which differences are larger than the seeds' spread? A difference counts only if every seed of one
# configuration beats every seed of the other, and by more than two of the 450 test digits (0.44%): a
# difference of a digit or two is what a different processor's rounding can change (see lesson 03's ≈ signs).


# %% slideshow={"slide_type": "fragment"}
MARGIN = 2 / 450  # two test digits


def verdict(ours, theirs):
    """'higher for every seed' only if each of ours beats each of theirs by more than MARGIN ('lower' likewise)."""
    if min(ours) > max(theirs) + MARGIN:
        return "higher for every seed"
    if max(ours) < min(theirs) - MARGIN:
        return "lower for every seed"
    return "within the seeds' spread"


def compare(a, b, measure):
    return verdict([getattr(r, measure) for r in runs[a]], [getattr(r, measure) for r in runs[b]])


verdicts = {
    (config, measure): compare(config, "plain", measure)
    for config in ("batch norm", "augmentation", "dropout", "all")
    for measure in ("clean_accuracy", "shifted_accuracy")
}
for (config, measure), said in verdicts.items():
    print(f"{config:>13} vs plain, {measure.replace('_', ' '):>16}: {said}")
assert verdicts[("augmentation", "shifted_accuracy")] == "higher for every seed"
assert verdicts[("all", "shifted_accuracy")] == "higher for every seed"
assert verdicts[("batch norm", "shifted_accuracy")] == "higher for every seed"
assert verdicts[("dropout", "clean_accuracy")] == "within the seeds' spread"
assert verdicts[("augmentation", "clean_accuracy")] == "lower for every seed"
assert compare("all", "batch norm", "clean_accuracy") == "within the seeds' spread"
plain_shifted = np.mean([r.shifted_accuracy for r in runs["plain"]])
augmented_shifted = np.mean([r.shifted_accuracy for r in runs["augmentation"]])
assert plain_shifted < 0.7 and augmented_shifted > 0.85

# %% [markdown] slideshow={"slide_type": "subslide"}
# What the numbers show, and no more:
#
# - **Augmentation** is the one large effect: on digits moved by one pixel, it lifts the accuracy from around
#   60% to around 90%, far outside the seeds' spread. In 8 epochs it costs some clean accuracy (the rotated,
#   blurred copies are harder to fit in so few steps).
# - **Batch norm** helps on the shifted digits, by more than the spread; on the clean digits its seeds do a
#   little better than plain's, but not by more than two test digits, so that is not shown here.
# - **Dropout** makes no difference we can measure here: the network is small and trains for 8 epochs, so it
#   has little chance to over-fit, which is what dropout is for.
# - **All three** together: a clean accuracy within the spread of batch norm's, and the best accuracy on shifted
#   digits.
#
# Three seeds are few: a verdict "within the spread" means "not shown here", not "no effect". The benchmark
# runs more seeds. And these are 8×8 digits and 8 epochs; on another data set or with longer training, each
# tool can matter differently.
#
# ### 6.1 The batch-of-one bug, measured
# Section 2 said that predicting in training mode makes an image's prediction depend on its batch. The
# batch-norm network of seed 0, on the 450 test digits: in eval mode; in training mode one image at a time; and
# in training mode in batches of one class each (all the 0s, then all the 1s, ...), each time on a fresh copy
# (in training mode every forward pass also overwrites the running statistics):

# %% slideshow={"slide_type": "fragment"}
trained = runs["batch norm"][0].model
right = train.predict(trained, split.test_images)
buggy = copy.deepcopy(trained).train()
with torch.no_grad():
    one_at_a_time = torch.cat([buggy(image[None].to(device)).argmax(dim=1).cpu() for image in split.test_images])
    buggy = copy.deepcopy(trained).train()
    by_class = torch.empty_like(split.test_labels)
    for digit in range(10):
        chosen = (split.test_labels == digit).nonzero().flatten()
        by_class[chosen] = buggy(split.test_images[chosen].to(device)).argmax(dim=1).cpu()
for name, predicted in (
    ("eval mode", right),
    ("training mode, one at a time", one_at_a_time),
    ("training mode, one class per batch", by_class),
):
    accuracy = (predicted == split.test_labels).float().mean().item()
    print(
        f"{name:>34}: accuracy ≈{accuracy:.1%}, ≈{(predicted != right).float().mean().item():.1%} of the "
        f"predictions differ from eval mode's"
    )
assert (one_at_a_time != right).any() and (by_class != right).any()

# %% [markdown] slideshow={"slide_type": "subslide"}
# On these digits the damage is small: they all have much the same statistics (dark strokes on a blank 8×8
# frame), so one image's own statistics, or one class's, are not far from the running ones. It is not zero,
# and the predictions now depend on which images happen to share a batch: a model that is right in a notebook
# can be wrong in a service that answers one request at a time. The fix costs one line: `model.eval()`
# (which `train.evaluate` and `train.predict` call for you).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. Two 3×3 convolutions or one 5×5?
#
# Two stacked 3×3 convolutions see a 5×5 patch, like one 5×5 convolution (lesson 02's receptive field). Per
# pair of input and output channels they need $2 \cdot 9 = 18$ weights instead of 25, and they put a
# nonlinearity in between. Simonyan and Zisserman built VGG on this observation (arXiv 1409.1556, 2014):

# %% slideshow={"slide_type": "fragment"}
assert arithmetic.receptive_field([(3, 1), (3, 1)]) == arithmetic.receptive_field([(5, 1)]) == 5
channels = 64
two_small = arithmetic.conv_parameter_count(channels, channels, 3, bias=False) * 2
one_large = arithmetic.conv_parameter_count(channels, channels, 5, bias=False)
print(
    f"receptive field: 5 either way; {channels} -> {channels} channels: two 3×3 {two_small:,} weights, "
    f"one 5×5 {one_large:,} ({two_small / one_large:.0%}); per channel pair 18 vs 25"
)
assert two_small == 18 * channels * channels and one_large == 25 * channels * channels

# %% [markdown] slideshow={"slide_type": "subslide"}
# Why put a nonlinearity between them at all? Without one, two convolutions *are* one convolution: by lesson
# 01's associativity, correlating with $a$ and then with $b$ is correlating with their full convolution
# $a * b$, a single 5×5 kernel. With several channels, the combined kernel from input channel $i$ to output
# channel $o$ sums over the channels in between: $c_{o,i} = \sum_m b_{o,m} * a_{m,i}$. Checked on random
# layers of 3 -> 4 -> 2 channels:

# %% slideshow={"slide_type": "fragment"}
torch.manual_seed(0)
first, second = nn.Conv2d(3, 4, 3, bias=False), nn.Conv2d(4, 2, 3, bias=False)
a, b = first.weight.detach(), second.weight.detach()
combined = torch.stack(
    [
        torch.stack([sum(ops.convolve2d(b[o, m], a[m, i], padding="full") for m in range(4)) for i in range(3)])
        for o in range(2)
    ]
)
x = torch.randn(1, 3, 12, 12)
with torch.no_grad():
    stacked = second(first(x))
    with_relu = second(torch.relu(first(x)))
one_conv = F.conv2d(x, combined)
print(
    "combined kernel:",
    tuple(combined.shape),
    "| largest difference, stacked vs one 5×5:",
    ("under 1e-5 (float rounding)" if (stacked - one_conv).abs().max() < 1e-5 else "1e-5 or more")
    + f"; with a ReLU between: {(with_relu - one_conv).abs().max():.2f}",
)
assert torch.allclose(stacked, one_conv, atol=1e-5) and not torch.allclose(with_relu, one_conv, atol=1e-2)

# %% [markdown] slideshow={"slide_type": "slide"}
# A stack of linear layers, however deep, can only compute what one linear layer computes; the nonlinearities
# are what make depth add anything.
#
# ## 8. Lesson 03's optimiser settings, measured
#
# ### 8.1 SGD, Adam, AdamW
# SGD moves each weight by $-\eta\,g$ (lesson 03). With momentum it moves along a running sum of past
# gradients. Adam (Kingma and Ba, ICLR 2015) divides each weight's step by a running root mean square of its
# own gradients, so every weight moves at a similar pace whatever its gradient's scale. Weight decay pulls
# weights towards 0; Loshchilov and Hutter (ICLR 2019) showed that in Adam it should not go through the
# gradient (where Adam's division rescales it, weight by weight) but be applied directly: that is AdamW. One
# step from the same start shows the difference exactly:

# %% slideshow={"slide_type": "fragment"}
w0, g = torch.tensor([1.0, -2.0]), torch.tensor([0.5, 0.001])
lr, wd = 0.1, 0.5
steps = {}
for name, make in (("Adam", torch.optim.Adam), ("AdamW", torch.optim.AdamW)):
    weight = w0.clone().requires_grad_(True)
    optimiser = make([weight], lr=lr, weight_decay=wd)
    weight.grad = g.clone()
    optimiser.step()
    steps[name] = weight.detach() - w0
# one Adam step from zero state moves by lr * sign of its gradient (m / sqrt(v) = g / |g| after bias correction)
adam = -lr * torch.sign(g + wd * w0)  # Adam: the decay joins the gradient, then the division
adamw = -lr * wd * w0 - lr * torch.sign(g)  # AdamW: the division, then the decay on its own
assert torch.allclose(steps["Adam"], adam, atol=1e-5) and torch.allclose(steps["AdamW"], adamw, atol=1e-5)
print("gradient", g.tolist(), "| Adam's step", steps["Adam"].tolist(), "| AdamW's step", steps["AdamW"].tolist())

# %% [markdown] slideshow={"slide_type": "subslide"}
# Adam's first step is $\pm\eta$ for every weight, whatever the size of its gradient. With the decay added to
# the gradient, the second weight (gradient 0.001, decay term $\lambda w = -1$) is moved a full step by the decay
# alone, and the first no further than without decay: the division has erased the decay's size. AdamW takes
# the decay $\eta\,\lambda\,w$ as it is, next to the Adam step: the first weight moves by 0.05 more, and for
# the second, decay and gradient step cancel.
#
# The digits network of section 6 ("plain", AdamW with weight decay $10^{-4}$ and the one-cycle schedule),
# trained instead with SGD (momentum, which the one-cycle schedule varies between 0.85 and 0.95 as it varies
# Adam's $\beta_1$) and with Adam, three seeds each, everything else equal:


# %% slideshow={"slide_type": "fragment"}
def train_with(make_optimiser, seed, max_lr):
    model = train.ablation_cnn(seed=seed).to(device)
    torch.manual_seed(seed)
    order_generator = torch.Generator().manual_seed(seed)
    optimiser = make_optimiser(model.parameters())
    epochs, batch_size = train.ABLATION_TRAINING["epochs"], train.ABLATION_TRAINING["batch_size"]
    steps_per_epoch = math.ceil(len(split.train_labels) / batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=max_lr, total_steps=epochs * steps_per_epoch)
    for _ in range(epochs):
        for batch in torch.randperm(len(split.train_labels), generator=order_generator).split(batch_size):
            loss = F.cross_entropy(model(split.train_images[batch].to(device)), split.train_labels[batch].to(device))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
    return train.evaluate(model, *split.test)


lr = train.ABLATION_TRAINING["lr"]
optimisers = {
    "SGD, momentum 0.9": ([train_with(lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), s, 0.1) for s in SEEDS]),
    "Adam": [train_with(lambda p: torch.optim.Adam(p, lr=lr), s, lr) for s in SEEDS],
    "AdamW (section 6, plain)": [run.clean_accuracy for run in runs["plain"]],
}
for name, accuracies in optimisers.items():
    versus = verdict(accuracies, optimisers["AdamW (section 6, plain)"])
    print(
        f"{name:>25}: clean test accuracy {spread(accuracies)}"
        + ("" if name.startswith("AdamW") else f", vs AdamW: {versus}")
    )

# %% [markdown] slideshow={"slide_type": "subslide"}
# SGD's mean is the lowest, but with three seeds none of the three optimisers separates from AdamW by more than
# the spread (and two test digits). On a network this small and a problem this easy, the optimiser matters far
# less than the data did in section 6.

# %% slideshow={"slide_type": "fragment"}
assert np.mean(optimisers["SGD, momentum 0.9"]) == min(np.mean(a) for a in optimisers.values())
assert all(
    verdict(a, optimisers["AdamW (section 6, plain)"]) == "within the seeds' spread" for a in optimisers.values()
)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### 8.2 The one-cycle schedule
# Smith and Topin's one-cycle policy (arXiv 1708.07120, 2017), as `OneCycleLR` implements it, warms the learning
# rate up from a small value to its maximum over the first 30% of the steps, then anneals it (along a cosine) to
# almost nothing. Early on, large steps cross the loss landscape quickly; at the end, small steps settle. The
# schedule of section 6's runs, step by step:

# %% slideshow={"slide_type": "fragment"}
optimiser = torch.optim.AdamW([torch.zeros(1, requires_grad=True)], lr=lr)
total = train.ABLATION_TRAINING["epochs"] * math.ceil(len(split.train_labels) / train.ABLATION_TRAINING["batch_size"])
schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=lr, total_steps=total)
rates = []
for _ in range(total):
    rates.append(optimiser.param_groups[0]["lr"])
    optimiser.step()
    schedule.step()
peak = int(np.argmax(rates))
print(
    f"{total} steps: starts at {rates[0]:.1e} (max_lr / 25), peaks at {max(rates):.1e} at step {peak}, "
    f"ends at {rates[-1]:.1e}"
)
assert math.isclose(rates[0], lr / 25) and math.isclose(max(rates), lr, rel_tol=1e-3)  # the peak falls between steps
fig, ax = plt.subplots(figsize=(5, 2.4))
ax.plot(rates)
ax.set(xlabel="optimiser step", ylabel="learning rate", title="OneCycleLR, max_lr = 0.02")
ax.grid(alpha=0.3)
plt.show()

constant = [train.run_ablation("plain", seed, device=device, schedule="constant") for seed in SEEDS]
print(
    "constant learning rate:",
    spread([run.clean_accuracy for run in constant]),
    "| one-cycle (section 6):",
    spread([run.clean_accuracy for run in runs["plain"]]),
)
schedules = verdict([r.clean_accuracy for r in runs["plain"]], [r.clean_accuracy for r in constant])
print("one-cycle vs constant:", schedules)
assert schedules == "within the seeds' spread"

# %% [markdown] slideshow={"slide_type": "subslide"}
# Here the schedule makes no difference we can measure: a constant rate of 0.02 reaches the same test accuracy,
# within the seeds' spread, in these 8 epochs.
#
# ### 8.3 Label smoothing and its loss floor
# Label smoothing (Szegedy et al., "Rethinking the Inception architecture", arXiv 1512.00567, 2015) trains
# towards a softened target: $1 - \varepsilon$ on the right class plus $\varepsilon / K$ spread over all $K$
# classes. Cross-entropy against a target $q$ is smallest when the predicted probabilities equal $q$, and then
# it equals the entropy of $q$, which is not 0: the loss has a floor,
#
# $$H(q) = -\left(1 - \varepsilon + \tfrac{\varepsilon}{K}\right)\log\left(1 - \varepsilon + \tfrac{\varepsilon}{K}\right)
# - (K - 1)\,\tfrac{\varepsilon}{K}\log\tfrac{\varepsilon}{K}.$$

# %% slideshow={"slide_type": "fragment"}
epsilon, K = 0.1, 10
top, rest = 1 - epsilon + epsilon / K, epsilon / K
floor = -top * math.log(top) - (K - 1) * rest * math.log(rest)
best_logits = torch.log(torch.tensor([[top] + [rest] * (K - 1)]))  # probabilities exactly q
at_best = F.cross_entropy(best_logits, torch.tensor([0]), label_smoothing=epsilon).item()
print(
    f"ε = {epsilon}, K = {K}: the loss cannot go below {floor:.4f}; F.cross_entropy at the best logits: {at_best:.4f}"
)
assert math.isclose(floor, at_best, rel_tol=1e-5)

smoothed = [train.run_ablation("plain", seed, device=device, label_smoothing=epsilon) for seed in SEEDS]
final_losses = [run.history.train_loss[-1] for run in smoothed]
print(
    f"final training loss with smoothing: {min(final_losses):.3f} to {max(final_losses):.3f} (floor {floor:.3f}); "
    f"without: {min(r.history.train_loss[-1] for r in runs['plain']):.3f} to "
    f"{max(r.history.train_loss[-1] for r in runs['plain']):.3f}"
)
print(
    "clean test accuracy with smoothing:",
    spread([run.clean_accuracy for run in smoothed]),
    "| without:",
    spread([run.clean_accuracy for run in runs["plain"]]),
    "| with vs without:",
    verdict([r.clean_accuracy for r in smoothed], [r.clean_accuracy for r in runs["plain"]]),
)
assert min(final_losses) > floor

# %% [markdown] slideshow={"slide_type": "slide"}
# With smoothing, the training loss stops above the floor however long one trains: the network is never asked
# to be certain, so its logits stay moderate. Whether that helps the test accuracy of this small network is
# what the last line says, within the spread of three seeds or not.
#
# ## 9. The activation explorer
# Section 1's stack, live: move **depth**, pick an **init**, switch **batch norm** on and off, and change the
# **nonlinearity**. Left: how the values of each layer's output are distributed (one row per layer, darker =
# more values in that bin; beyond ±3 they are counted in the edge bins). Right: the activation and gradient
# standard deviations per layer, on a log scale. Things to try: He with ReLU and then with tanh and GELU
# (the ReLU gain is for ReLU); any initialisation with batch norm on (the activations stop caring, but look at
# the gradients: with batch norm they *grow* towards the first layers, as Yang et al. describe in "A mean field
# theory of batch normalization", ICLR 2019); tanh with too large weights (the histogram piles up at ±1:
# saturated units, whose gradient is nearly 0).

# %% slideshow={"slide_type": "fragment"}
explorers.ActivationExplorer()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
# Each exercise has a cell to fill in (the lesson shows it solved; the student copy leaves it to you) and a
# cell that checks your answer on many cases and tells you what is off.
#
# **Exercise 1 (medium).** Write `batch_norm(x, weight, bias, eps)`: batch normalisation in training mode of an
# `(N, C, H, W)` tensor, with scale `weight` and shift `bias` (one value per channel), as `F.batch_norm` computes
# it. No `F.batch_norm`, `nn.BatchNorm2d` or `ops.batch_norm2d`.


# %% nbgrader={"grade": false, "grade_id": "batch_norm", "locked": false, "schema_version": 3, "solution": true, "task": false} slideshow={"slide_type": "notes"} tags=["solution"]
def batch_norm(x, weight, bias, eps):
    ### BEGIN SOLUTION
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    var = ((x - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)  # biased: divided by N*H*W
    return (x - mean) / torch.sqrt(var + eps) * weight.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_batch_norm", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false} slideshow={"slide_type": "fragment"} tags=["exercise"]
exercises.check_batch_norm(batch_norm)


# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 2 (easy).** Write `dropout(x, keep, p, training)`: inverted dropout as PyTorch does it, except that
# the random choice is given: `keep` holds 1 where a value is kept and 0 where it is dropped, and `p` is the
# drop probability. In evaluation (`training` False) return `x` as it is.


# %% nbgrader={"grade": false, "grade_id": "dropout", "locked": false, "schema_version": 3, "solution": true, "task": false} slideshow={"slide_type": "notes"} tags=["solution"]
def dropout(x, keep, p, training):
    ### BEGIN SOLUTION
    if not training:
        return x
    return x * keep / (1 - p)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_dropout", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false} slideshow={"slide_type": "fragment"} tags=["exercise"]
exercises.check_dropout(dropout)


# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 3 (medium).** A convolution's weights are drawn from a uniform distribution $U(-b, b)$ and should
# have standard deviation $\text{gain}/\sqrt{\text{fan\_in}}$ (He's for ReLU has gain $\sqrt 2$). Write
# `init_bound(in_channels, kernel_size, gain)`: the bound $b$ for a square `kernel_size` (one group). This is
# what `nn.init.kaiming_uniform_` computes.


# %% nbgrader={"grade": false, "grade_id": "init_bound", "locked": false, "schema_version": 3, "solution": true, "task": false} slideshow={"slide_type": "notes"} tags=["solution"]
def init_bound(in_channels, kernel_size, gain):
    ### BEGIN SOLUTION
    fan_in = in_channels * kernel_size * kernel_size
    return gain * math.sqrt(3 / fan_in)  # U(-b, b) has std b / sqrt(3)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_init_bound", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false} slideshow={"slide_type": "fragment"} tags=["exercise"]
exercises.check_init_bound(init_bound)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - Each layer multiplies the activations' mean square by $\text{fan\_in}\cdot\text{Var}(w)/2$ (ReLU); He's
#   $2/\text{fan\_in}$ keeps it at 1, PyTorch's default $1/(3\,\text{fan\_in})$ divides it by 6: over 20
#   layers, activations and gradients shrink to about $10^{-8}$ of their scale (section 1's table).
# - Batch norm normalises each channel with the batch's statistics (biased variance) in training, keeps running
#   statistics (unbiased variance, momentum 0.1) for evaluation, and has 2 parameters and 2 buffers per
#   channel. Forgetting `.eval()` makes an image's output depend on its batch.
# - Pooling trades spatial detail for tolerance to small shifts; dropout scales what it keeps by $1/(1-p)$ so
#   that evaluation needs nothing.
# - On the digits, augmentation is what makes a network robust to shifted digits; batch norm helps there a
#   little; dropout shows no effect in a network this small. Several seeds tell the effects from the noise.
# - Two 3×3 convolutions see as far as one 5×5 with 28% fewer weights and one more nonlinearity; without
#   nonlinearities, stacked convolutions collapse into one.
# - AdamW applies weight decay outside Adam's rescaling; one-cycle warms up and anneals the learning rate;
#   label smoothing puts a floor under the loss.
