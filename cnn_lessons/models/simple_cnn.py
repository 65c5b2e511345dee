"""SimpleCNN: the configurable CNN of the lessons, whose every shape is computed (and explained when it fails)."""

from __future__ import annotations

import copy
import numbers
from collections import OrderedDict
from collections.abc import Callable, Sequence

from torch import nn

from cnn_lessons.arithmetic import check_int, conv_output_size, conv_parameter_count, pool_output_size
from cnn_lessons.models.zoo import _check_num_classes

__all__ = ["SimpleCNN"]


def _positive_ints(name: str, value, example: str) -> tuple[int, ...]:
    """``value`` as a tuple of positive ints (possibly empty), or a TypeError/ValueError that shows a fix."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        hint = f" (for a single layer write {name}=({value},))" if isinstance(value, numbers.Integral) else ""
        raise TypeError(
            f"{name} must be a sequence of positive whole numbers, e.g. {name}={example}, "
            f"got {value!r} ({type(value).__name__}){hint}"
        )
    return tuple(check_int(f"{name}[{i}]", v) for i, v in enumerate(value))


def _int_pair(name: str, value, minimum: int = 1) -> tuple[int, int]:
    """An int or an (h, w) pair of ints as an (h, w) tuple."""
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or an (h, w) pair, got {value!r}")
        return check_int(f"{name}[0]", value[0], minimum), check_int(f"{name}[1]", value[1], minimum)
    value = check_int(name, value, minimum)
    return value, value


def _size(hw: tuple[int, int]) -> str:
    return f"{hw[0]}x{hw[1]}"


class SimpleCNN(nn.Sequential):
    """A configurable CNN: conv blocks, then an MLP head. Every shape in it is computed, not hand-written.

    Layers, in order (the names are those of ``model.named_modules()``)::

        block1.conv  Conv2d(in_channels, conv_channels[0], kernel_size, padding=padding)
        block1.act   activation()
        block1.pool  MaxPool2d(pool)                 (left out when the block's pool is None or 1)
        ...          one block per entry of conv_channels
        global_pool  AdaptiveAvgPool2d(1) / AdaptiveMaxPool2d(1)   (only with global_pool="avg"/"max")
        flatten      Flatten()
        classifier.fc1, classifier.act1, ...         Linear + activation per entry of hidden
        classifier.out                              Linear(..., num_classes): logits, no activation

    The flatten size (the first linear layer's input) is worked out from the input size with
    :func:`cnn_lessons.arithmetic.conv_output_size` and :func:`~cnn_lessons.arithmetic.pool_output_size`;
    :meth:`shape_trace` lists the output shape of every layer, and :meth:`shape_table` prints it with
    each layer's parameter count. A configuration that shrinks the feature map to nothing raises a
    ``ValueError`` that names the block, the sizes and what would fit, instead of failing in the forward
    pass.

    Args:
        in_channels: channels of the input images (3 for RGB, 1 for grayscale).
        conv_channels: output channels of each conv block, first block first, e.g. ``(8, 16)``. An empty
            sequence gives no conv blocks: the model is then a plain MLP on the flattened pixels.
        kernel_size: the convolutions' kernel size, an int or a (kh, kw) pair (stride 1 throughout).
        padding: zero padding of each convolution: an int or (ph, pw) pair, ``"same"`` (the output keeps the
            input size; for an even kernel torch pads one more on the right/bottom) or ``"valid"`` (none).
        pool: max-pool window (and stride) after each conv block; ``None`` or 1 for no pooling. A sequence
            gives one entry per block, e.g. ``(2, None)`` pools after the first block only.
        hidden: sizes of the hidden linear layers of the head, e.g. ``(32,)``; ``()`` for none.
        num_classes: outputs of the last linear layer (one logit per class).
        input_size: the input images' height and width, an int or (h, w) pair.
        activation: the nonlinearity after every conv and hidden linear layer: a class such as ``nn.ReLU``
            or ``nn.Tanh``, or any callable that returns a fresh ``nn.Module``.
        global_pool: ``None`` (flatten the whole feature map), ``"avg"`` or ``"max"`` (reduce each channel
            to one number first, so the head sees ``conv_channels[-1]`` features whatever the map's size).

    Attributes: the arguments, normalised (``kernel_size``, ``input_size`` and an int ``padding`` as (h, w)
    pairs; ``pools``: one window or ``None`` per block; ``global_pooling``: the ``global_pool`` argument),
    and ``flatten_size``, the number of features the head receives.

    The reference configuration of lesson 03, ``SimpleCNN()``, has 224 + 1168 + 32800 + 330 = 34,522
    parameters: input 3x32x32, conv channels (8, 16), 3x3 "same" convs, ReLU, 2x2 max-pools, hidden (32,),
    10 classes.
    """

    def __init__(
        self,
        in_channels: int = 3,
        conv_channels: Sequence[int] = (8, 16),
        kernel_size: int | tuple[int, int] = 3,
        padding: int | tuple[int, int] | str = "same",
        pool: int | None | Sequence[int | None] = 2,
        hidden: Sequence[int] = (32,),
        num_classes: int = 10,
        input_size: int | tuple[int, int] = 32,
        activation: Callable[[], nn.Module] | nn.Module = nn.ReLU,
        global_pool: str | None = None,
    ):
        # long: checks every argument with its own teaching message, then builds the blocks and the head
        in_channels = check_int("in_channels", in_channels)
        conv_channels = _positive_ints("conv_channels", conv_channels, "(8, 16)")
        kernel = _int_pair("kernel_size", kernel_size)
        padding = self._check_padding(padding)
        pools = self._check_pool(pool, len(conv_channels))
        hidden = _positive_ints("hidden", hidden, "(32,)")
        num_classes = _check_num_classes(num_classes)
        input_hw = _int_pair("input_size", input_size)
        make_activation = self._check_activation(activation)
        if global_pool is not None and global_pool not in ("avg", "max"):
            raise ValueError(f"global_pool must be None, 'avg' or 'max', got {global_pool!r}")

        # the configuration, normalised (see "Attributes" above); the shapes follow from it
        self.in_channels = in_channels
        self.conv_channels = conv_channels
        self.kernel_size = kernel
        self.padding = padding
        self.pools = pools
        self.hidden = hidden
        self.num_classes = num_classes
        self.input_size = input_hw
        self.global_pooling = global_pool
        self._trace = self._compute_trace()
        self.flatten_size = self._trace_lookup("flatten")[0]

        layers: OrderedDict[str, nn.Module] = OrderedDict()
        channels = in_channels
        for index, (out_channels, window) in enumerate(zip(conv_channels, pools, strict=True), start=1):
            block: OrderedDict[str, nn.Module] = OrderedDict()
            block["conv"] = nn.Conv2d(channels, out_channels, kernel, padding=padding)
            block["act"] = make_activation()
            if window is not None:
                block["pool"] = nn.MaxPool2d(window)
            layers[f"block{index}"] = nn.Sequential(block)
            channels = out_channels
        if global_pool is not None:
            layers["global_pool"] = nn.AdaptiveAvgPool2d(1) if global_pool == "avg" else nn.AdaptiveMaxPool2d(1)
        layers["flatten"] = nn.Flatten()
        head: OrderedDict[str, nn.Module] = OrderedDict()
        features = self.flatten_size
        for index, width in enumerate(hidden, start=1):
            head[f"fc{index}"] = nn.Linear(features, width)
            head[f"act{index}"] = make_activation()
            features = width
        head["out"] = nn.Linear(features, num_classes)
        layers["classifier"] = nn.Sequential(head)
        super().__init__(layers)
        # a hook rather than an overridden forward keeps the model a plain chain that torch.fx can trace
        self.register_forward_pre_hook(self._check_input)

    # ---- argument checks ------------------------------------------------------------------------------

    @staticmethod
    def _check_padding(padding):
        if isinstance(padding, str):
            word = padding.lower()
            if word not in ("same", "valid"):
                raise ValueError(
                    f"padding must be an int, an (h, w) pair, 'same' or 'valid', got {padding!r}"
                    + (
                        " ('full' padding is for the from-scratch ops; nn.Conv2d has no such mode)"
                        if word == "full"
                        else ""
                    )
                )
            return word
        return _int_pair("padding", padding, minimum=0)

    @staticmethod
    def _check_pool(pool, blocks: int) -> tuple[int | None, ...]:
        def one(name, value):
            if value is None:
                return None
            value = check_int(name, value)
            return None if value == 1 else value

        if isinstance(pool, Sequence) and not isinstance(pool, (str, bytes)):
            if len(pool) != blocks:
                raise ValueError(
                    f"pool has {len(pool)} entr{'y' if len(pool) == 1 else 'ies'} but there are {blocks} conv "
                    f"blocks (conv_channels); give one entry per block, or a single int for all of them"
                )
            return tuple(one(f"pool[{i}]", p) for i, p in enumerate(pool))
        if pool is not None and (isinstance(pool, bool) or not isinstance(pool, numbers.Integral)):
            raise TypeError(f"pool must be an int, None, or one int/None per block, got {pool!r}")
        return (one("pool", pool),) * blocks

    @staticmethod
    def _check_activation(activation) -> Callable[[], nn.Module]:
        if isinstance(activation, nn.Module):  # an instance: each layer gets its own copy

            def make() -> nn.Module:
                return copy.deepcopy(activation)

            return make
        if not callable(activation):
            raise TypeError(f"activation must be an nn.Module class such as nn.ReLU, got {activation!r}")
        try:
            sample = activation()
        except TypeError as error:
            raise TypeError(
                f"activation must be called with no arguments to make each layer's nonlinearity, like the class "
                f"nn.ReLU; calling {getattr(activation, '__name__', activation)}() failed ({error}). For torch.relu "
                f"or F.relu pass nn.ReLU"
            ) from None
        if not isinstance(sample, nn.Module):
            raise TypeError(
                f"activation() must return an nn.Module (e.g. activation=nn.ReLU), but it returned "
                f"{type(sample).__name__}; for torch.relu use nn.ReLU"
            )
        return activation

    # ---- shapes -------------------------------------------------------------------------------------------

    def _conv_size(self, hw: tuple[int, int]) -> tuple[int, int]:
        """(H, W) after one of the convolutions, by :func:`~cnn_lessons.arithmetic.conv_output_size`."""
        pads = (self.padding, self.padding) if isinstance(self.padding, str) else self.padding
        return tuple(conv_output_size(s, k, padding=p) for s, k, p in zip(hw, self.kernel_size, pads, strict=True))

    @staticmethod
    def _pool_size(hw: tuple[int, int], window: int) -> tuple[int, int]:
        """(H, W) after a ``window`` x ``window`` max-pool, by :func:`~cnn_lessons.arithmetic.pool_output_size`."""
        return tuple(pool_output_size(s, window) for s in hw)

    def _compute_trace(self) -> list[tuple[str, tuple[int, ...]]]:
        """Every layer's output shape, from the arithmetic module; raises with a hint if a map vanishes."""
        trace: list[tuple[str, tuple[int, ...]]] = [("input", (self.in_channels, *self.input_size))]
        channels, hw = self.in_channels, self.input_size
        kh, kw = self.kernel_size
        for index, (out_channels, window) in enumerate(zip(self.conv_channels, self.pools, strict=True), start=1):
            try:
                new_hw = self._conv_size(hw)
            except ValueError as error:
                padding = self.padding
                if not isinstance(padding, str) and padding[0] == padding[1]:
                    padding = padding[0]
                raise self._vanished(index, f"{kh}x{kw} convolution (padding {padding!r})", hw, error) from None
            channels, hw = out_channels, new_hw
            trace += [(f"block{index}.conv", (channels, *hw)), (f"block{index}.act", (channels, *hw))]
            if window is not None:
                try:
                    hw = self._pool_size(hw, window)
                except ValueError as error:
                    raise self._vanished(index, f"{window}x{window} max-pool", hw, error) from None
                trace.append((f"block{index}.pool", (channels, *hw)))
        if self.global_pooling is not None:
            hw = (1, 1)
            trace.append(("global_pool", (channels, 1, 1)))
        features = channels * hw[0] * hw[1]
        trace.append(("flatten", (features,)))
        for index, width in enumerate(self.hidden, start=1):
            trace += [(f"classifier.fc{index}", (width,)), (f"classifier.act{index}", (width,))]
        trace.append(("classifier.out", (self.num_classes,)))
        return trace

    def _smallest_input(self, axis: int) -> int:
        """The smallest input length along ``axis`` (0: height, 1: width) that all the conv blocks fit.

        Worked backwards from one output position: a p-window max-pool needs p times the positions after
        it, and a convolution needs k - 1 more than it makes, less the padding it adds.
        """
        kernel = self.kernel_size[axis]
        if self.padding == "same":
            total_padding = kernel - 1
        elif self.padding == "valid":
            total_padding = 0
        else:
            total_padding = 2 * self.padding[axis]
        needed = 1
        for window in reversed(self.pools):
            if window is not None:
                needed *= window
            needed = max(1, needed + kernel - 1 - total_padding)
        return needed

    def _blocks_that_fit(self, pools: Sequence[int | None] | None = None) -> int:
        """How many of the conv blocks, from the first, leave a non-empty feature map (with ``pools`` if given)."""
        hw = self.input_size
        for count, window in enumerate(self.pools if pools is None else pools):
            try:
                hw = self._conv_size(hw)
                if window is not None:
                    hw = self._pool_size(hw, window)
            except ValueError:
                return count
        return len(self.pools)

    def _vanished(self, index: int, layer: str, hw: tuple[int, int], error: ValueError) -> ValueError:
        """The error for block ``index``'s ``layer`` getting a map of ``hw`` too small for it, with fixes."""
        fit = self._blocks_that_fit()
        ideas = []
        if fit:
            ideas.append(f"at most {fit} conv block{'s' if fit != 1 else ''} for this input size")
        if self.padding != "same":
            ideas.append("padding='same' (each convolution then keeps the size)")
        blocks = len(self.pools)
        for first in range(index, 0, -1):  # drop the pooling from block `first` on, as late as will do
            pools = self.pools[: first - 1] + (None,) * (blocks - first + 1)
            if pools != self.pools and self._blocks_that_fit(pools) == blocks:
                if first == 1:
                    ideas.append("pool=None (no pooling)")
                else:
                    pool_text = ", ".join("None" if p is None else str(p) for p in pools)
                    ideas.append(f"pool=({pool_text}) (no pooling from block {first} on)")
                break
        smallest = (self._smallest_input(0), self._smallest_input(1))
        ideas.append(f"an input_size of at least {_size(smallest)}")
        if hw == self.input_size and index == 1 and "convolution" in layer:
            gets = f"gets the {_size(hw)} input"
        else:
            gets = f"gets a {_size(hw)} feature map (from the {_size(self.input_size)} input)"
        return ValueError(
            f"block {index}'s {layer} {gets}, too small for it: {error}. What would work: " + "; or ".join(ideas) + "."
        )

    def _trace_lookup(self, name: str) -> tuple[int, ...]:
        return dict(self._trace)[name]

    def shape_trace(self) -> list[tuple[str, tuple[int, ...]]]:
        """``[(layer name, output shape), ...]`` from the input to the logits, computed with arithmetic.

        Shapes leave out the batch axis: (C, H, W) for feature maps, (features,) after the flatten. Names
        are those of ``named_modules()`` (``"block1.conv"``, ``"classifier.out"``), plus ``"input"`` first.
        """
        return list(self._trace)

    def shape_table(self) -> str:
        """The shape trace as a text table, with each layer's parameter count worked out by formula."""
        rows, total = [], 0
        previous: tuple[int, ...] = ()
        for name, shape in self._trace:
            params = 0
            if name.endswith(".conv"):
                params = conv_parameter_count(previous[0], shape[0], self.kernel_size)
            elif name.startswith("classifier.fc") or name == "classifier.out":
                params = (previous[0] + 1) * shape[0]
            total += params
            rows.append((name, " x ".join(map(str, shape)), f"{params:,}" if params else ""))
            previous = shape
        rows.append(("total", "", f"{total:,}"))
        widths = [max(len(r[i]) for r in rows + [("layer", "output shape", "parameters")]) for i in range(3)]
        lines = [f"{'layer':<{widths[0]}}  {'output shape':<{widths[1]}}  {'parameters':>{widths[2]}}"]
        lines.append("-" * len(lines[0]))
        lines += [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}" for a, b, c in rows]
        return "\n".join(lines)

    def _check_input(self, module: nn.Module, args: tuple) -> None:
        """Forward pre-hook: explain an input of the wrong shape before a layer fails on it."""
        (x,) = args[:1]
        expected = self._trace[0][1]
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(
                f"this SimpleCNN was built for batches of shape (N, {', '.join(map(str, expected))}) "
                f"(in_channels={self.in_channels}, input_size={_size(self.input_size)}; its flatten size "
                f"{self.flatten_size} depends on them), got {tuple(x.shape)}"
            )

    def extra_repr(self) -> str:
        return f"flatten_size={self.flatten_size}"
