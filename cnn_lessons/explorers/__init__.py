"""The lessons' interactive explorers: ipywidgets controls over a picture drawn in place.

Each explorer module holds three parts, in this order: its picture as data (pure functions of the controls'
values: no matplotlib, no widgets), its view (artists made once from :mod:`cnn_lessons.drawing`, updated in
place) and its controls (ipywidgets wiring only). :mod:`~cnn_lessons.explorers._base` holds what every explorer
repeats, and registers every subclass of :class:`Explorer` (:func:`registered`). A lesson says
``from cnn_lessons import explorers`` and ends a cell with ``explorers.ConvArithmeticExplorer()``.

- :class:`StepThroughExplorer`: one output at a time, 1-D and 2-D, correlation or convolution (lesson 01).
- :class:`KernelPicker`: classic 3x3 kernels on a real photo (lesson 01).
- :class:`ConvArithmeticExplorer`: padding, stride, dilation and padding modes, 1-D and 2-D (lesson 02).
- :class:`ReceptiveFieldExplorer`: how one output's receptive field grows through a stack of layers (lesson 02).
- :class:`FeatureMapExplorer`: a trained network's feature maps, per image, layer and channel (lesson 03).
- :class:`ModelExplorer`: parameters per stage and the summary of the classic architectures (lesson 04).
- :class:`ActivationExplorer`: activations and gradients through a deep stack, per layer (lesson 06).
- :class:`TransposedExplorer`: kernel copies, overlap counts and the direct form of a transposed convolution (05).
"""

from __future__ import annotations

from cnn_lessons.explorers._base import (
    Explorer,
    ExplorerCanvas,
    explorer_canvas,
    frame_png,
    registered,
)
from cnn_lessons.explorers.activations import ActivationExplorer, ActivationPicture, activation_picture
from cnn_lessons.explorers.conv_arithmetic import (
    ARITHMETIC_COLORS,
    DIMS,
    PADDING_CHOICES,
    ConvArithmeticExplorer,
    ConvArithmeticView,
    ConvOutcome,
    ConvPicture,
    conv_outcome,
    conv_picture,
    demo_input,
    output_size_formula,
    torch_line,
)
from cnn_lessons.explorers.feature_maps import (
    ChannelMosaic,
    FeatureMapExplorer,
    FeatureMapView,
    channel_mosaic,
)
from cnn_lessons.explorers.kernel_picker import (
    CUSTOM,
    KERNEL_NOTES,
    KernelPicker,
    KernelPickerView,
    KernelPicture,
    kernel_picture,
)
from cnn_lessons.explorers.model_zoo import (
    SIZE_RANGE,
    ModelExplorer,
    ModelPicture,
    StageParameterView,
    header_text,
    model_picture,
    shape_label,
)
from cnn_lessons.explorers.receptive_field import (
    RF_COLORS,
    ReceptiveFieldExplorer,
    ReceptiveFieldView,
    RFPicture,
    receptive_field_formula,
    receptive_field_picture,
)
from cnn_lessons.explorers.step_through import (
    DEFAULT_IMAGE,
    DEFAULT_IMAGE_KERNEL,
    DEFAULT_KERNEL,
    DEFAULT_SIGNAL,
    MODES,
    StepThroughExplorer,
    StepThroughView,
    step_equation,
)
from cnn_lessons.explorers.transposed import TransposedExplorer, TransposedPicture, TransposedView, transposed_picture

__all__ = [
    "frame_png",
    "Explorer",
    "ExplorerCanvas",
    "explorer_canvas",
    "registered",
    "step_equation",
    "StepThroughView",
    "MODES",
    "DEFAULT_SIGNAL",
    "DEFAULT_KERNEL",
    "DEFAULT_IMAGE",
    "DEFAULT_IMAGE_KERNEL",
    "StepThroughExplorer",
    "KernelPicker",
    "KernelPickerView",
    "KERNEL_NOTES",
    "CUSTOM",
    "KernelPicture",
    "kernel_picture",
    "ChannelMosaic",
    "channel_mosaic",
    "PADDING_CHOICES",
    "demo_input",
    "ConvPicture",
    "torch_line",
    "output_size_formula",
    "ConvOutcome",
    "conv_outcome",
    "conv_picture",
    "ARITHMETIC_COLORS",
    "ConvArithmeticView",
    "DIMS",
    "ConvArithmeticExplorer",
    "RFPicture",
    "receptive_field_formula",
    "receptive_field_picture",
    "RF_COLORS",
    "ReceptiveFieldView",
    "ReceptiveFieldExplorer",
    "StageParameterView",
    "SIZE_RANGE",
    "ModelExplorer",
    "ModelPicture",
    "header_text",
    "model_picture",
    "shape_label",
    "FeatureMapView",
    "FeatureMapExplorer",
    "ActivationPicture",
    "activation_picture",
    "ActivationExplorer",
    "TransposedPicture",
    "transposed_picture",
    "TransposedView",
    "TransposedExplorer",
]
