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
# # 04 · Classic architectures
#
# Between 1998 and 2022 a handful of papers changed how convolutional networks are put together. Each one
# added an idea that later networks kept: a shortcut around a block, parallel branches, a cheaper way to
# convolve, a gate that reweights channels. This lesson rebuilds those ideas from scratch as small PyTorch
# modules (`cnn_lessons.models`), counts their parameters by hand, and then compares ten whole networks.
#
# **You will**
# 1. place eleven landmark networks in time, with the idea each one introduced;
# 2. take apart seven building blocks: draw each, explain it, and derive its parameter count by formula;
# 3. compare ten networks by parameters, multiply-adds, depth and receptive field, computed by code;
# 4. run every network once on a random image;
# 5. explore any network's layout stage by stage.
#
# Every number below is computed by the cell above it, and every formula is checked by an `assert` against
# the module it describes, so if this notebook runs, what it says is true.

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
import math

import torch
import torchinfo
from IPython.display import display
from torch import nn

from cnn_lessons import arithmetic, block_diagrams, exercises, explorers, figures, models

torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

# %% slideshow={"slide_type": "skip"}
# NBVAL_IGNORE_OUTPUT
# the device depends on the machine running the lesson (a GPU when there is one)
print(f"torch {torch.__version__} on {device}")


# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. A short history
#
# | Year | Network | Where | Key idea | Paper |
# |---|---|---|---|---|
# | 1998 | LeNet-5 | AT&T Bell Labs (AT&T Labs-Research) | Local receptive fields, shared weights and subsampling, trained end to end with backpropagation; it read handwritten digits on cheques | LeCun, Bottou, Bengio & Haffner, "Gradient-based learning applied to document recognition", *Proc. IEEE* 86(11), 1998 |
# | 2012 | AlexNet | University of Toronto | A far bigger CNN trained on ImageNet: ReLU activations, dropout, data augmentation, split across two GPUs; won ILSVRC 2012 | Krizhevsky, Sutskever & Hinton, "ImageNet classification with deep convolutional neural networks", NIPS 2012 |
# | 2014 | VGG | University of Oxford | Nothing but 3×3 convolutions, stacked 16 to 19 layers deep | Simonyan & Zisserman, arXiv:1409.1556 |
# | 2014 | GoogLeNet | Google | Inception modules: parallel branches of different kernel sizes, with 1×1 convolutions that shrink the channels first | Szegedy et al., arXiv:1409.4842 |
# | 2015 | ResNet | Microsoft Research | Residual connections: a block learns a correction that is added to its input, so 100+ layers still train | He, Zhang, Ren & Sun, arXiv:1512.03385 |
# | 2017 | DenseNet | Cornell, Tsinghua, Facebook AI Research | Dense connectivity: every layer receives the feature maps of all the layers before it in its block | Huang, Liu, van der Maaten & Weinberger, arXiv:1608.06993 |
# | 2017 | MobileNet | Google | Depthwise separable convolutions: a convolution split into a per-channel spatial filter and a 1×1 channel mixer | Howard et al., arXiv:1704.04861 |
# | 2017 | Xception | Google | Inception taken to its limit: after two ordinary 3×3 convolutions at the entry, depthwise separable convolutions throughout, with residual connections (strided 1×1 convolutions where a shortcut changes size) | Chollet, arXiv:1610.02357 |
# | 2018 | MobileNetV2 | Google | Inverted residuals: expand the channels, filter, project back down without an activation | Sandler et al., arXiv:1801.04381 |
# | 2019 | EfficientNet | Google | Compound scaling: grow depth, width and input resolution together from a small searched baseline | Tan & Le, arXiv:1905.11946 |
# | 2022 | ConvNeXt | Facebook AI Research, UC Berkeley | A ResNet modernised step by step with design choices borrowed from vision transformers | Liu et al., arXiv:2201.03545 |
#
# The ILSVRC wins are stated in the papers themselves. The years are the ones each network is usually
# cited with: the arXiv preprint for VGG, GoogLeNet and ResNet, the conference paper for DenseNet and Xception
# (both CVPR 2017; preprints in 2016). Ten of the eleven are in `cnn_lessons.models`, as eleven models (ResNet
# with 18 and with 50 layers); the first MobileNet is represented by its building block, the depthwise
# separable convolution of section 2.5. The ten ImageNet models have exactly the parameter counts of their
# reference implementations (torchvision's, and Keras's for Xception, which torchvision does not have), as
# section 3 checks. Two of them are not the network of their paper, and section 3 counts the difference:
# `models.lenet5` is the usual modern simplification of LeNet-5, and `models.alexnet` is the single-GPU
# variant that torchvision builds, not the two-GPU network of 2012.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. The building blocks
#
# Each block below is a small `nn.Module` from `cnn_lessons.models`. For each one we draw it, say what it
# does, then count its parameters twice: by a formula written here, and by asking PyTorch
# (`sum(p.numel() for p in block.parameters())`). Two rules cover every count:
#
# - a $k \times k$ convolution from $c_{in}$ to $c_{out}$ channels in $g$ groups has
#   $\frac{c_{in}}{g} \cdot k^2 \cdot c_{out}$ weights, plus $c_{out}$ biases if it has them
#   (`arithmetic.conv_parameter_count`); convolutions followed by batch norm usually have none, because the
#   norm's shift does the same job;
# - batch norm and layer norm learn a scale and a shift per channel: $2c$. (Their running averages are
#   buffers, not parameters.)
#
# In the diagrams, blue boxes are ordinary convolutions, green ones depthwise convolutions, yellow ones
# pooling and grey ones normalisation; orange arrows are shortcuts.

# %% slideshow={"slide_type": "fragment"}
def show_block(spec):
    # a block diagram at its natural size (drawing.diagram_size), drawn as assets/figures has it (cnn_lessons.figures)
    display(figures.block_diagram(spec))


def conv(c_in, c_out, k, groups=1, bias=False):
    # learnable numbers of a k x k convolution: c_in/groups * k * k * c_out weights (+ c_out biases)
    return arithmetic.conv_parameter_count(c_in, c_out, k, bias=bias, groups=groups)


def norm(c):
    # batch norm or layer norm: one scale and one shift per channel
    return 2 * c


def n_params(module):
    return sum(p.numel() for p in module.parameters())


# %% [markdown] slideshow={"slide_type": "subslide"}
# ### 2.1 The residual basic block (ResNet)
#
# Stacking more plain layers eventually makes a network *worse*, even on its training data: He et al.
# showed this degradation for plain networks of 20 versus 56 layers. Their fix is to let a block compute a
# correction $F(x)$ and add it to its input: the output is $\mathrm{ReLU}(F(x) + x)$. If the best thing a block
# can do is nothing, it only has to push $F$ to zero, which is easy; and the gradient reaches early layers
# through the shortcuts, as well as through the convolutions. It does so untouched only where nothing follows
# the addition: here a ReLU does, and it passes the gradient only where its input is positive. The later
# "pre-activation" ResNets move the ReLU into the branch and keep the shortcut a clean identity (He et al.,
# "Identity mappings in deep residual networks", arXiv:1603.05027). ResNet-18 and ResNet-34 use this *basic block*: two 3×3 convolutions,
# each followed by batch norm.

# %% slideshow={"slide_type": "fragment"}
show_block(block_diagrams.basic_block_spec(64))

# %% [markdown] slideshow={"slide_type": "subslide"}
# When a block halves the spatial size and changes the channel count, $x$ no longer has the shape of $F(x)$;
# the shortcut then becomes a 1×1 convolution with stride 2 (plus batch norm), a *projection*.

# %% slideshow={"slide_type": "fragment"}
basic = conv(64, 64, 3) + norm(64) + conv(64, 64, 3) + norm(64)
assert basic == n_params(models.BasicBlock(64, 64))
print(f"BasicBlock 64 -> 64:            2 x (3*3*64*64 + 2*64) = {basic:,}")

projection = conv(64, 128, 1) + norm(128)
downsampling = conv(64, 128, 3) + norm(128) + conv(128, 128, 3) + norm(128) + projection
assert downsampling == n_params(models.BasicBlock(64, 128, stride=2))
print(f"BasicBlock 64 -> 128, stride 2: {downsampling:,}, of which the projection shortcut {projection:,}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The shortcut really does make "do nothing" easy. Set the last batch norm's scale $\gamma$ to zero: its
# output is then its shift $\beta$, which starts at zero too, so $F(x) = 0$ and the block hands back its
# input (a non-negative one, which the final ReLU leaves alone):

# %% slideshow={"slide_type": "fragment"}
block = models.BasicBlock(64, 64).eval()
nn.init.zeros_(block.bn2.weight)  # gamma = 0 ...
assert torch.equal(block.bn2.bias, torch.zeros(64))  # ... and beta = 0 (its initial value): F(x) = 0
x = torch.rand(1, 64, 14, 14)
with torch.no_grad():
    assert torch.equal(block(x), x)
print("F(x) = 0  ->  block(x) == x:", True)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### 2.2 The bottleneck block (ResNet-50 and deeper)
#
# Deeper ResNets spend their parameters more carefully: inside a block that carries $4w$ channels, a 1×1
# convolution first shrinks them to a quarter, $w$, the 3×3 convolution works on that narrow tensor, and a
# second 1×1 convolution widens it back to $4w$ before the addition. The diagram shows the first block of
# ResNet-50: its input has only 64 channels (from the stem), so its first 1×1 keeps 64 = $w$, and it needs a
# projection shortcut because it turns 64 channels into 256. Every later block of the stage reads 256 channels
# and shrinks them to 64.

# %% slideshow={"slide_type": "fragment"}
show_block(block_diagrams.bottleneck_spec(64, 64))


# %% slideshow={"slide_type": "fragment"}
def bottleneck(c_in, width, projection):
    c_out = 4 * width
    total = conv(c_in, width, 1) + norm(width)  # reduce
    total += conv(width, width, 3) + norm(width)  # 3x3
    total += conv(width, c_out, 1) + norm(c_out)  # expand
    return total + (conv(c_in, c_out, 1) + norm(c_out) if projection else 0)


first = bottleneck(64, 64, projection=True)
later = bottleneck(256, 64, projection=False)
assert first == n_params(models.Bottleneck(64, 64))
assert later == n_params(models.Bottleneck(256, 64))
print(f"Bottleneck 64 -> 256 (with projection): {first:,}")
print(f"Bottleneck 256 -> 256 (identity):       {later:,}")

two_3x3 = 2 * (conv(256, 256, 3) + norm(256))
print(f"two 3x3 convolutions on 256 channels:   {two_3x3:,} ({two_3x3 / later:.1f} x as many)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### 2.3 The Inception module (GoogLeNet)
#
# Which kernel size is right for a layer: 1×1, 3×3, 5×5? An Inception module does not choose. It runs
# several branches side by side on the same input and stacks their outputs along the channel axis. What makes
# this affordable is the 1×1 convolution placed *before* the larger kernels, which shrinks 192 channels to
# 96 or 16 first. The numbers are those of module 3a in the paper's Table 1. As in torchvision's GoogLeNet,
# the "5×5" branch really uses a 3×3 kernel and every convolution has batch norm, which came out after the
# paper.

# %% slideshow={"slide_type": "fragment"}
show_block(block_diagrams.inception_spec())

# %% slideshow={"slide_type": "fragment"}
ch1, red3, ch3, red5, ch5, pool_proj = models.GOOGLENET_INCEPTIONS["3a"]
c_in = 192
branch1 = conv(c_in, ch1, 1) + norm(ch1)
branch2 = conv(c_in, red3, 1) + norm(red3) + conv(red3, ch3, 3) + norm(ch3)
branch3 = conv(c_in, red5, 1) + norm(red5) + conv(red5, ch5, 3) + norm(ch5)
branch4 = conv(c_in, pool_proj, 1) + norm(pool_proj)  # the max pool has no parameters
inception = branch1 + branch2 + branch3 + branch4
block = models.Inception(c_in, ch1, red3, ch3, red5, ch5, pool_proj).eval()
assert inception == n_params(block)
with torch.no_grad():
    out = block(torch.randn(1, c_in, 28, 28))
assert out.shape == (1, ch1 + ch3 + ch5 + pool_proj, 28, 28)
print(f"Inception 3a: {inception:,} parameters")
print(f"output {tuple(out.shape)}: {ch1} + {ch3} + {ch5} + {pool_proj} = {out.shape[1]} channels")

direct, reduced = conv(c_in, ch3, 3), conv(c_in, red3, 1) + conv(red3, ch3, 3)
print(f"the 3x3 branch: {direct:,} weights straight on 192 channels, {reduced:,} after the 1x1 reduction")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### 2.4 The dense block and the transition (DenseNet)
#
# A ResNet block *adds* its output to its input. A DenseNet layer instead *concatenates* its few new
# channels to everything it received, so the $i$-th layer of a block sees the block's input and the output
# of every layer before it. Each layer adds only `growth_rate` = 32 channels, which keeps layers thin. In
# DenseNet-BC each layer is batch norm, ReLU, a 1×1 convolution to $4 \times 32 = 128$ channels, batch norm,
# ReLU and a 3×3 convolution to 32 (the norm and activation come *before* each convolution). Between blocks a
# *transition* halves the channels with a 1×1 convolution and the size with 2×2 average pooling. Drawn here
# with two layers; DenseNet-121's blocks have 6, 12, 24 and 16.

# %% slideshow={"slide_type": "fragment"}
show_block(block_diagrams.dense_block_spec(64, growth_rate=32, num_layers=2))


# %% slideshow={"slide_type": "fragment"}
def dense_layer(c_in, growth=32, bn_size=4):
    wide = bn_size * growth
    return norm(c_in) + conv(c_in, wide, 1) + norm(wide) + conv(wide, growth, 3)


assert sum(dense_layer(64 + 32 * i) for i in range(2)) == n_params(models.DenseBlock(2, 64))  # the drawing
first_block = models.DenseBlock(6, 64)  # DenseNet-121's first block
layers = [dense_layer(64 + 32 * i) for i in range(6)]
assert sum(layers) == n_params(first_block)
for i, count in enumerate(layers):
    print(f"layer {i + 1}: sees {64 + 32 * i:3d} channels, {count:,} parameters")
print(f"dense block: {sum(layers):,} parameters, output {first_block.out_channels} channels")

transition = norm(256) + conv(256, 128, 1)
assert transition == n_params(models.Transition(256, 128))
print(f"transition 256 -> 128: {transition:,} parameters")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### 2.5 The depthwise separable convolution (MobileNet, Xception)
#
# An ordinary 3×3 convolution does two jobs at once: it looks at a 3×3 neighbourhood, and it mixes all input
# channels into each output channel. A depthwise separable convolution does them one after the other. The
# *depthwise* step gives every channel its own 3×3 filter (`groups = channels`), so nothing is mixed; the
# *pointwise* step is a 1×1 convolution that mixes channels and looks at no neighbours. MobileNet is built
# from these; Xception arrived at the same operation by following the Inception idea to its end (one branch
# per channel).

# %% slideshow={"slide_type": "fragment"}
show_block(block_diagrams.depthwise_separable_spec(32, 64))

# %% [markdown] slideshow={"slide_type": "subslide"}
# Weights of the two (without batch norm): $9\,c_{in} c_{out}$ for the standard convolution,
# $9\,c_{in} + c_{in} c_{out}$ for the separable one, a ratio of $\frac{1}{c_{out}} + \frac{1}{9}$. The
# multiply-adds shrink by the same ratio, because each weight is used once per output position.

# %% slideshow={"slide_type": "fragment"}
c_in, c_out, size = 32, 64, 112
separable = conv(c_in, c_in, 3, groups=c_in) + norm(c_in) + conv(c_in, c_out, 1) + norm(c_out)
standard = conv(c_in, c_out, 3) + norm(c_out)
assert separable == n_params(models.DepthwiseSeparableConv(c_in, c_out))
assert standard == n_params(models.ConvBNAct(c_in, c_out, 3))

weight_ratio = (conv(c_in, c_in, 3, groups=c_in) + conv(c_in, c_out, 1)) / conv(c_in, c_out, 3)
assert abs(weight_ratio - (1 / c_out + 1 / 9)) < 1e-12
macs_separable = arithmetic.multiply_adds(models.DepthwiseSeparableConv(c_in, c_out), (c_in, size, size))
macs_standard = arithmetic.multiply_adds(models.ConvBNAct(c_in, c_out, 3), (c_in, size, size))
assert abs(macs_separable / macs_standard - weight_ratio) < 1e-12
print(f"standard 3x3 conv + BN:  {standard:,} parameters, {macs_standard:,} multiply-adds at {size}x{size}")
print(f"depthwise separable:     {separable:,} parameters, {macs_separable:,} multiply-adds")
print(f"weights and multiply-adds: {weight_ratio:.3f} of the standard conv (1/{c_out} + 1/9)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### 2.6 The inverted residual with squeeze-and-excitation (MobileNetV2, EfficientNet)
#
# MobileNetV2 wraps the depthwise convolution in a block that runs the other way round from a ResNet
# bottleneck: narrow, **wide**, narrow. A 1×1 convolution first expands the channels six times, the cheap
# depthwise 3×3 filters the wide tensor, and a 1×1 convolution projects back down. That last projection has
# no activation: Sandler et al. argue that a ReLU on a narrow tensor destroys information (a *linear
# bottleneck*). The shortcut joins the narrow ends.
#
# EfficientNet's MBConv block adds **squeeze-and-excitation** (Hu et al., arXiv:1709.01507) in the middle:
# average each channel over the whole image (squeeze), pass those numbers through two small 1×1 layers and a
# sigmoid (excite), and multiply each channel by its gate between 0 and 1. The block can thus turn channels
# up or down depending on what the whole image contains. Here SE squeezes to a quarter of the block's
# *input* channels: $24 / 4 = 6$.

# %% slideshow={"slide_type": "fragment"}
show_block(block_diagrams.inverted_residual_se_spec(24, 24, kernel_size=3, expand_ratio=6))


# %% slideshow={"slide_type": "fragment"}
def inverted_residual(c_in, c_out, k=3, t=6, se_ratio=None):
    hidden = c_in * t
    expand = conv(c_in, hidden, 1) + norm(hidden) if t != 1 else 0
    depthwise = conv(hidden, hidden, k, groups=hidden) + norm(hidden)
    project = conv(hidden, c_out, 1) + norm(c_out)
    if se_ratio is None:
        return expand + depthwise + project
    squeeze = max(1, int(c_in * se_ratio))
    se = conv(hidden, squeeze, 1, bias=True) + conv(squeeze, hidden, 1, bias=True)  # the SE layers have biases
    return expand + depthwise + se + project


v2 = inverted_residual(24, 24)
mbconv = inverted_residual(24, 24, se_ratio=0.25)
assert v2 == n_params(models.InvertedResidual(24, 24, stride=1, expand_ratio=6))
assert mbconv == n_params(models.MBConv(24, 24, kernel_size=3, stride=1, expand_ratio=6))
se = conv(144, 6, 1, bias=True) + conv(6, 144, 1, bias=True)
print(f"inverted residual 24 -> 144 -> 24 (MobileNetV2): {v2:,} parameters")
print(f"with squeeze-and-excitation (MBConv):            {mbconv:,} parameters, SE {se:,} of them")
assert mbconv - v2 == se

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### 2.7 The ConvNeXt block
#
# Liu et al. started from a ResNet-50 and changed it one step at a time towards the design of the Swin
# Transformer, keeping every change that improved ImageNet accuracy. The block they ended with: a 7×7
# depthwise convolution (a large spatial window, like attention's, but per channel), a single LayerNorm, a
# 1×1 expansion to four times the channels with GELU, and a 1×1 projection back; fewer norms and activations
# than a ResNet block. A learned per-channel *layer scale* $\gamma$, initialised to $10^{-6}$, multiplies the
# branch before the addition. Our block writes the two 1×1 convolutions as `nn.Linear` on a channels-last
# tensor, as the reference code does: the same operation.
#
# Counting: the depthwise convolution has $49d$ weights and $d$ biases, LayerNorm $2d$, the two linear layers
# $4d^2 + 4d$ and $4d^2 + d$, layer scale $d$; in total $8d^2 + 58d$.

# %% slideshow={"slide_type": "fragment"}
show_block(block_diagrams.convnext_block_spec(96))

# %% slideshow={"slide_type": "fragment"}
d = 96
convnext = conv(d, d, 7, groups=d, bias=True) + norm(d) + (d * 4 * d + 4 * d) + (4 * d * d + d) + d
assert convnext == 8 * d**2 + 58 * d == n_params(models.ConvNeXtBlock(d))
print(f"ConvNeXt block, d = {d}: 8d^2 + 58d = {convnext:,} parameters")

block = models.ConvNeXtBlock(d).eval()
x = torch.randn(1, d, 14, 14)
with torch.no_grad():
    change = (block(x) - x).abs().max().item()
assert change < 1e-4
print("a fresh block is almost the identity (gamma = 1e-6): largest change below 1e-4:", change < 1e-4)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. The zoo, compared
#
# Now the whole networks. For each, the code below builds it on PyTorch's **meta** device, which records
# shapes but allocates no memory and draws no random weights, so even VGG-16 with its 138 million parameters
# is built in a moment. Then it counts:
#
# - **parameters**, checked against what each model reproduces: the counts torchvision publishes for its
#   eight models here, Keras's trainable count for Xception, and for LeNet-5, which neither library has, the
#   layer-by-layer formula of our simplified variant (the 1998 network's own count is computed after the table);
# - **multiply-adds** of one forward pass on one 3×224×224 image (Xception: 3×299×299, the size it was
#   designed for), summed over the convolution and linear layers (`arithmetic.multiply_adds`); LeNet-5 is
#   measured on the 1×32×32 digit images it was designed for, and has 10 classes instead of 1000;
# - **depth**: the number of convolution and linear layers, *all* of them, shortcut projections and
#   squeeze-and-excitation layers included (so ResNet-18 counts more than 18);
# - **receptive field**: how many input pixels, along one side, can influence one position of the last feature
#   map before global pooling, following the widest path through every branch
#   (`arithmetic.receptive_field`). It counts padding too, which is why it can exceed the image.

# %% slideshow={"slide_type": "fragment"}
REFERENCE_PARAMETERS = {  # torchvision's published counts (GoogLeNet without its auxiliary classifiers)
    "alexnet": 61_100_840,
    "vgg16": 138_357_544,
    "googlenet": 6_624_904,
    "resnet18": 11_689_512,
    "resnet50": 25_557_032,
    "densenet121": 7_978_856,
    "mobilenet_v2": 3_504_872,
    "efficientnet_b0": 5_288_548,
    "convnext_tiny": 28_589_128,
    "xception": 22_855_952,  # Keras's trainable parameters; its other 54,528 are batch-norm statistics (buffers)
}
LENET5_PARAMETERS = (  # C1, C3, C5 (5x5 convolutions with biases), F6 and the 10-class output layer
    conv(1, 6, 5, bias=True) + conv(6, 16, 5, bias=True) + conv(16, 120, 5, bias=True) + 84 * (120 + 1) + 10 * (84 + 1)
)

rows = []
for name, build in models.MODELS.items():
    with torch.device("meta"):
        model = build()
    size = models.model_input_size(name)
    rows.append(
        {
            "model": name,
            "parameters": n_params(model),
            "multiply_adds": arithmetic.multiply_adds(model, size),
            "depth": sum(isinstance(m, (nn.Conv2d, nn.Linear)) for m in model.modules()),
            "receptive_field": arithmetic.receptive_field(model),
            "input": "\u00d7".join(map(str, size)),
            "stages": models.stage_parameter_counts(model),
        }
    )
    assert rows[-1]["parameters"] == REFERENCE_PARAMETERS.get(name, LENET5_PARAMETERS), name
    # the model explorer of section 5 shows the same numbers: models.model_facts, and at other input sizes
    # models.facts_at, which walks the traced graph with integer arithmetic alone
    facts = models.model_facts(name)
    assert (facts.parameters, facts.multiply_adds, facts.receptive_field) == tuple(
        rows[-1][key] for key in ("parameters", "multiply_adds", "receptive_field")
    )
    assert models.facts_at(name, size[1]).multiply_adds == rows[-1]["multiply_adds"]
by_name_parameters = {row["model"]: row["parameters"] for row in rows}

print(f"{'model':<16} {'parameters':>12} {'multiply-adds':>16} {'depth':>6} {'receptive field':>16}   input")
for row in rows:
    print(
        f"{row['model']:<16} {row['parameters']:>12,} {row['multiply_adds'] / 1e6:>14,.1f} M {row['depth']:>6}"
        f" {row['receptive_field']:>13,} px   {row['input']}"
    )

# %% [markdown] slideshow={"slide_type": "subslide"}
# Two of the models differ from their papers. LeNet-5 in 1998 connected each C3 map to only 3, 4 or 6 of the six
# S2 maps (the paper's Table I), gave each subsampling map a trainable coefficient and bias, and ended in fixed
# RBF units; the paper counts "60,000 trainable free parameters". AlexNet in 2012 split conv2, conv4 and conv5
# across two GPUs (two groups) with 96, 256, 384, 384 and 256 channels; torchvision's `alexnet`, and ours,
# follow the single-GPU variant of Krizhevsky's "One weird trick for parallelizing convolutional neural
# networks" (arXiv:1404.5997): 64, 192, 384, 256 and 256 channels, no groups. Both counts, computed:

# %% slideshow={"slide_type": "fragment"}
c3_inputs = [3] * 6 + [4] * 9 + [6]  # S2 maps read by each of the 16 C3 maps (Table I of LeCun et al. 1998)
lenet_1998 = {
    "C1": conv(1, 6, 5, bias=True),
    "S2": norm(6),  # a coefficient and a bias per map
    "C3": sum(25 * n + 1 for n in c3_inputs),
    "S4": norm(16),
    "C5": conv(16, 120, 5, bias=True),
    "F6": 84 * (120 + 1),
}  # the output layer's RBF units have fixed weights
assert sum(lenet_1998.values()) == 60_000
difference = {"C3 fully connected": conv(6, 16, 5, bias=True) - lenet_1998["C3"], "parameter-free pooling": -22 - 22,
              "a linear output layer": 10 * (84 + 1)}
assert sum(lenet_1998.values()) + sum(difference.values()) == LENET5_PARAMETERS == by_name_parameters["lenet5"]
print(f"LeNet-5 of 1998: {sum(lenet_1998.values()):,} trainable parameters;", ", ".join(
    f"{what} {delta:+,}" for what, delta in difference.items()), f"-> models.lenet5: {LENET5_PARAMETERS:,}")

alexnet_2012 = (
    conv(3, 96, 11, bias=True) + conv(96, 256, 5, groups=2, bias=True) + conv(256, 384, 3, bias=True)
    + conv(384, 384, 3, groups=2, bias=True) + conv(384, 256, 3, groups=2, bias=True)
    + (256 * 6 * 6 + 1) * 4096 + (4096 + 1) * 4096 + (4096 + 1) * 1000
)
print(f"AlexNet of 2012 (two groups): {alexnet_2012:,} parameters; models.alexnet (single GPU): "
      f"{by_name_parameters['alexnet']:,}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Some of what the table says, computed:

# %% slideshow={"slide_type": "fragment"}
by_name = {row["model"]: row for row in rows}
vgg, r50 = by_name["vgg16"], by_name["resnet50"]
assert vgg is max(rows, key=lambda r: r["parameters"]) is max(rows, key=lambda r: r["multiply_adds"])
head_share = vgg["stages"]["classifier"] / vgg["parameters"]
with torch.device("meta"):
    vgg_head = models.vgg16().classifier  # flatten and three linear layers, on 512 x 7 x 7 features
head_macs_share = arithmetic.multiply_adds(vgg_head, (512, 7, 7)) / vgg["multiply_adds"]
print(f"VGG-16's classifier: {head_share:.0%} of its parameters, {head_macs_share:.1%} of its multiply-adds")
print(
    f"ResNet-50 / VGG-16: {r50['parameters'] / vgg['parameters']:.2f} of the parameters,"
    f" {r50['multiply_adds'] / vgg['multiply_adds']:.2f} of the multiply-adds"
)
for name in ("mobilenet_v2", "efficientnet_b0"):
    share = by_name[name]["multiply_adds"] / r50["multiply_adds"]
    assert share < 0.1
    print(f"{name}: {share:.3f} of ResNet-50's multiply-adds")
narrower = [row["model"] for row in rows[1:] if row["receptive_field"] <= 224]  # rows[0]: LeNet-5, 32x32
assert narrower == ["alexnet", "vgg16"]
print("ImageNet models whose receptive field is at most 224 px:", ", ".join(narrower))

# %% [markdown] slideshow={"slide_type": "subslide"}
# - **Parameters and computation are different budgets.** VGG-16 has the most of both, but almost all of its
#   parameters sit in the three fully connected layers at the end, which do under 1% of the computation; its
#   convolutions on large feature maps are what make it slow. ResNet-50 has under a fifth of VGG's parameters
#   and about a quarter of its multiply-adds.
# - **Efficient blocks pay off.** MobileNetV2 and EfficientNet-B0 need less than a tenth of ResNet-50's
#   multiply-adds, thanks to depthwise convolutions and narrow tensors between blocks.
# - **Depth here counts layers, not the name.** ResNet-50 has 53 convolutions and one linear layer; the "50"
#   counts the 49 convolutions on the main path plus the classifier, and leaves out the four projections.
# - **Receptive fields outgrow the image.** After a few stride-2 stages each 3×3 convolution widens the field
#   by dozens of pixels, so the last feature map of every ImageNet model here except AlexNet and VGG-16
#   can, in principle, see the whole 224×224 image (and its padding); LeNet-5's last map sees all of its
#   32×32 input. How much of that range a trained network really uses is a different, empirical question.
#
# Tools disagree about multiply-adds, so it pays to know what yours counts. `torchinfo`'s summary (used by the
# explorer below) counts a non-convolution layer's weights once per image, not once per position, which is
# nearly right for a classifier head but not for ConvNeXt, whose 1×1 layers are `nn.Linear` applied at every
# pixel:

# %% slideshow={"slide_type": "fragment"}
with torch.device("meta"):  # shapes only: nothing to initialise, nothing to compute
    convnext = models.convnext_tiny().eval()
torchinfo_total = torchinfo.summary(convnext, input_size=(1, 3, 224, 224), verbose=0, device="meta").total_mult_adds
facts = models.model_facts("convnext_tiny")
print(f"ConvNeXt-T multiply-adds, torchinfo:           {torchinfo_total / 1e6:8.2f} M")
print(f"ConvNeXt-T multiply-adds, layer by layer here: {facts.multiply_adds / 1e6:8.2f} M")
assert facts.multiply_adds > 10 * torchinfo_total

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. One forward pass each
#
# Finally, each network runs once, in evaluation mode and without gradients, on one random image: a
# 3×224×224 image gives 1000 class scores (*logits*), LeNet-5's 1×32×32 image gives 10. This time the networks
# are built for real, with their initial random weights, on the lesson's device.

# %% slideshow={"slide_type": "fragment"}
for name, build in models.MODELS.items():
    torch.manual_seed(0)
    model = build().to(device).eval()
    image = torch.randn(1, *models.model_input_size(name), device=device)
    with torch.no_grad():
        logits = model(image)
    assert logits.shape == (1, 10 if name == "lenet5" else 1000)
    assert torch.isfinite(logits).all()
    print(f"{name:<16} input {tuple(image.shape)} -> logits {tuple(logits.shape)}")
    del model, logits

# %% [markdown] slideshow={"slide_type": "subslide"}
# Those initial weights are not PyTorch's defaults of lesson 03. Like torchvision's, the builders of
# `cnn_lessons.models` re-initialise every ImageNet model: convolutions with `nn.init.kaiming_normal_` in
# `fan_out` mode (He et al.'s normal, variance $2/\text{fan\_out}$), normalisation layers to scale 1 and shift 0,
# linear layers from a normal with standard deviation 0.01 and zero bias. On ResNet-18's first convolution:

# %% slideshow={"slide_type": "fragment"}
torch.manual_seed(0)
first = next(m for m in models.resnet18().modules() if isinstance(m, nn.Conv2d))  # 3 -> 64 channels, 7x7
fan_in, fan_out = first.in_channels * 7 * 7, first.out_channels * 7 * 7
default = nn.Conv2d(3, 64, 7, bias=False).weight.std().item()
print(f"std of its weights {first.weight.std().item():.4f}; He, sqrt(2/fan_out) = {math.sqrt(2 / fan_out):.4f};"
      f" PyTorch's default, sqrt(1/(3 fan_in)) = {math.sqrt(1 / (3 * fan_in)):.4f} (a fresh layer: {default:.4f})")
assert abs(first.weight.std().item() / math.sqrt(2 / fan_out) - 1) < 0.03
assert abs(default / math.sqrt(1 / (3 * fan_in)) - 1) < 0.03

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Explore the zoo
#
# Pick a network. The bars show where its parameters live, stage by stage (the largest stage in orange; pooling
# stages have none), and below them is `torchinfo`'s summary of the same stages with their output shapes.
# Notice how VGG-16 and AlexNet keep almost all their parameters in the classifier, while the later networks
# replace it with global average pooling and a single linear layer.

# %% slideshow={"slide_type": "fragment"}
explorers.ModelExplorer()


# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
# Each exercise has a cell to fill in (the lesson shows it solved; the student copy leaves it to you) and a cell
# that checks your answer on many cases and names the mistake when there is one.
#
# **Exercise 1 (easy).** Write `dense_block_channels(in_channels, growth_rate, num_layers)`: how many channels
# leave a DenseNet dense block of `num_layers` layers with growth rate `growth_rate` (section 2.4).

# %% nbgrader={"grade": false, "grade_id": "dense_block_channels", "locked": false, "schema_version": 3, "solution": true, "task": false} slideshow={"slide_type": "notes"} tags=["solution"]
def dense_block_channels(in_channels, growth_rate, num_layers):
    ### BEGIN SOLUTION
    return in_channels + num_layers * growth_rate
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_dense_block_channels", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false} slideshow={"slide_type": "fragment"} tags=["exercise"]
exercises.check_dense_block_channels(dense_block_channels)


# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 2 (medium).** Write `bottleneck_parameters(in_channels, width)`: the parameters of ResNet's
# bottleneck block with stride 1 (section 2.2), from its channel numbers alone, without building it. Its
# convolutions have no bias, each is followed by a batch norm, and the shortcut is a 1×1 convolution with a batch
# norm when the input does not already have the block's `4 * width` output channels.

# %% nbgrader={"grade": false, "grade_id": "bottleneck_parameters", "locked": false, "schema_version": 3, "solution": true, "task": false} slideshow={"slide_type": "notes"} tags=["solution"]
def bottleneck_parameters(in_channels, width):
    ### BEGIN SOLUTION
    out = 4 * width
    total = in_channels * width + width * width * 3 * 3 + width * out  # 1x1 reduce, 3x3, 1x1 expand
    total += 2 * (width + width + out)  # their batch norms
    if in_channels != out:
        total += in_channels * out + 2 * out  # the projection shortcut and its batch norm
    return total
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_bottleneck_parameters", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false} slideshow={"slide_type": "fragment"} tags=["exercise"]
exercises.check_bottleneck_parameters(bottleneck_parameters)


# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 3 (harder).** A depthwise separable convolution (section 2.5) replaces a full $k \times k$
# convolution from $C_{in}$ to $C_{out}$ channels by a depthwise $k \times k$ and a pointwise $1 \times 1$, with
# the same output size. Write `separable_ratio(in_channels, out_channels, kernel_size)`: its multiply-adds
# divided by the full convolution's, as a formula (no biases). Then look at what the formula says for
# MobileNet's 3×3 kernels and hundreds of channels.

# %% nbgrader={"grade": false, "grade_id": "separable_ratio", "locked": false, "schema_version": 3, "solution": true, "task": false} slideshow={"slide_type": "notes"} tags=["solution"]
def separable_ratio(in_channels, out_channels, kernel_size):
    ### BEGIN SOLUTION
    # per output position: k*k*in (depthwise) + in*out (pointwise), against in*k*k*out
    return 1 / out_channels + 1 / kernel_size**2
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_separable_ratio", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false} slideshow={"slide_type": "fragment"} tags=["exercise"]
exercises.check_separable_ratio(separable_ratio)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - **LeNet-5 → AlexNet → VGG**: the same recipe of convolutions and pooling, made bigger and deeper; VGG
#   showed that stacks of small 3×3 kernels are enough.
# - **Shortcuts** (ResNet) add a block's output to its input, **concatenation** (Inception, DenseNet) stacks
#   branches or earlier layers along the channels.
# - **1×1 convolutions** change the channel count cheaply: Inception's reductions, ResNet's bottlenecks,
#   MobileNet's pointwise layers, the projections of every later block.
# - **Depthwise convolutions** filter each channel on its own and cut weights and multiply-adds by roughly the
#   kernel area; MobileNetV2, EfficientNet and ConvNeXt are built around them.
# - **Squeeze-and-excitation** reweights channels with a gate computed from the whole image.
# - Parameters, multiply-adds, depth and receptive field measure different things; a table computed by code
#   (and checked against published numbers) beats one copied from memory.
