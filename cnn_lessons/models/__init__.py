"""Classic CNN blocks and whole architectures, written from the papers in plain PyTorch, and facts about them.

* :mod:`~cnn_lessons.models.blocks`: the idea each paper introduced, e.g. :class:`BasicBlock` (ResNet's
  residual connection) or :class:`Inception` (GoogLeNet's parallel branches).
* :mod:`~cnn_lessons.models.zoo`: :func:`lenet5` to :func:`xception`, with the reference implementations'
  exact parameter counts, and :data:`MODELS`, every one of them by name.
* :mod:`~cnn_lessons.models.simple_cnn`: :class:`SimpleCNN`, the configurable CNN of the lessons.
* :mod:`~cnn_lessons.models.facts`: parameter counts, multiply-adds and ``torchinfo`` summaries.
* :mod:`~cnn_lessons.models.resolution`: :func:`facts_at`, a model's stage shapes and multiply-adds at any
  input size, in pure integers (fast enough for a slider), and why a size is refused.

Use the names from here: ``from cnn_lessons import models; models.resnet18()``.
"""

from cnn_lessons.models.blocks import (
    BasicBlock,
    Bottleneck,
    ConvBNAct,
    ConvNeXtBlock,
    DenseBlock,
    DenseLayer,
    DepthwiseSeparableConv,
    Inception,
    InvertedResidual,
    LayerNorm2d,
    MBConv,
    SeparableConv2d,
    SqueezeExcitation,
    Transition,
    XceptionBlock,
)
from cnn_lessons.models.facts import (
    ModelFacts,
    count_parameters,
    model_facts,
    model_input_size,
    stage_parameter_counts,
    summary_text,
)
from cnn_lessons.models.resolution import ResolutionFacts, facts_at
from cnn_lessons.models.simple_cnn import SimpleCNN
from cnn_lessons.models.zoo import (
    EFFICIENTNET_B0_STAGES,
    GOOGLENET_INCEPTIONS,
    MOBILENET_V2_SETTINGS,
    MODELS,
    VGG16_CONFIG,
    XCEPTION_FLOWS,
    alexnet,
    convnext_tiny,
    densenet121,
    efficientnet_b0,
    googlenet,
    lenet5,
    mobilenet_v2,
    resnet18,
    resnet50,
    vgg16,
    xception,
)

__all__ = [
    # blocks
    "ConvBNAct",
    "BasicBlock",
    "Bottleneck",
    "Inception",
    "DenseLayer",
    "DenseBlock",
    "Transition",
    "DepthwiseSeparableConv",
    "SeparableConv2d",
    "XceptionBlock",
    "InvertedResidual",
    "SqueezeExcitation",
    "MBConv",
    "LayerNorm2d",
    "ConvNeXtBlock",
    # models
    "lenet5",
    "alexnet",
    "vgg16",
    "googlenet",
    "resnet18",
    "resnet50",
    "densenet121",
    "mobilenet_v2",
    "efficientnet_b0",
    "convnext_tiny",
    "xception",
    "SimpleCNN",
    "MODELS",
    # the layer tables the models are built from
    "VGG16_CONFIG",
    "GOOGLENET_INCEPTIONS",
    "MOBILENET_V2_SETTINGS",
    "EFFICIENTNET_B0_STAGES",
    "XCEPTION_FLOWS",
    # facts
    "count_parameters",
    "stage_parameter_counts",
    "summary_text",
    "model_input_size",
    "ModelFacts",
    "model_facts",
    "ResolutionFacts",
    "facts_at",
]
