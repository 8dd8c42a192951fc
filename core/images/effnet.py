"""EfficientNet-Lite0 (ImageNet weights) as a list of convolutions with batch norm folded in:
an ONNX graph for onnxruntime, and a pure-numpy forward pass that checks the graph.

Lite0 has no squeeze-and-excitation and uses ReLU6; its convolutions pad like TensorFlow's
"SAME" (any extra row or column of padding goes after the image, not before). The embedding is
the 1280 pooled features before the ImageNet classifier.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

BN_EPSILON: Final = 1e-3
# Blocks that halve the resolution (the first block of stages 2, 3, 4 and 6).
_STRIDE_TWO_BLOCKS: Final = frozenset({1, 3, 5, 11})
BLOCKS: Final = 16
EMBEDDING_SIZE: Final = 1280
INPUT: Final = "image"
FEATURES: Final = "features"
LOGITS: Final = "logits"
OPSET: Final = 13


@dataclass(frozen=True)
class Conv:
    """One convolution with its batch norm folded in.

    Attributes:
        weight: ``(out, in / groups, k, k)``.
        bias: ``(out,)``.
        stride: 1 or 2.
        groups: 1, or the channel count for a depthwise convolution.
        relu6: clip the output to [0, 6].
    """

    weight: np.ndarray
    bias: np.ndarray
    stride: int
    groups: int
    relu6: bool


@dataclass(frozen=True)
class Block:
    """An inverted-residual block: optional expansion, depthwise, projection, skip."""

    convs: tuple[Conv, ...]
    skip: bool


@dataclass(frozen=True)
class EffNetLite0:
    """The whole network: stem, 16 blocks, head, and the ImageNet classifier."""

    stem: Conv
    blocks: tuple[Block, ...]
    head: Conv
    fc_weight: np.ndarray
    fc_bias: np.ndarray


def _fold(
    weights: Mapping[str, np.ndarray], conv: str, bn: str, *, stride: int, groups: int, relu6: bool
) -> Conv:
    scale = weights[f"{bn}.weight"] / np.sqrt(weights[f"{bn}.running_var"] + BN_EPSILON)
    weight = weights[f"{conv}.weight"] * scale[:, None, None, None]
    bias = weights[f"{bn}.bias"] - weights[f"{bn}.running_mean"] * scale
    return Conv(weight.astype(np.float32), bias.astype(np.float32), stride, groups, relu6)


def build_network(weights: Mapping[str, np.ndarray]) -> EffNetLite0:
    """The network from a state dict (names as in the ``efficientnet-lite0`` checkpoint)."""
    stem = _fold(weights, "_conv_stem", "_bn0", stride=2, groups=1, relu6=True)
    blocks = []
    for index in range(BLOCKS):
        prefix = f"_blocks.{index}"
        convs = []
        if f"{prefix}._expand_conv.weight" in weights:
            convs.append(
                _fold(
                    weights,
                    f"{prefix}._expand_conv",
                    f"{prefix}._bn0",
                    stride=1,
                    groups=1,
                    relu6=True,
                )
            )
        stride = 2 if index in _STRIDE_TWO_BLOCKS else 1
        channels = weights[f"{prefix}._depthwise_conv.weight"].shape[0]
        convs.append(
            _fold(
                weights,
                f"{prefix}._depthwise_conv",
                f"{prefix}._bn1",
                stride=stride,
                groups=channels,
                relu6=True,
            )
        )
        convs.append(
            _fold(
                weights,
                f"{prefix}._project_conv",
                f"{prefix}._bn2",
                stride=1,
                groups=1,
                relu6=False,
            )
        )
        inputs = convs[0].weight.shape[1] * convs[0].groups
        skip = stride == 1 and inputs == convs[-1].weight.shape[0]
        blocks.append(Block(tuple(convs), skip))
    head = _fold(weights, "_conv_head", "_bn1", stride=1, groups=1, relu6=True)
    return EffNetLite0(
        stem,
        tuple(blocks),
        head,
        weights["_fc.weight"].astype(np.float32),
        weights["_fc.bias"].astype(np.float32),
    )


# --- numpy forward pass (the reference the graph is checked against) ------------------------


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _conv_numpy(x: np.ndarray, conv: Conv) -> np.ndarray:
    """``x`` of shape ``(channels, height, width)``."""
    out_channels, _, kernel, _ = conv.weight.shape
    if kernel == 1 and conv.groups == 1:
        y = np.tensordot(conv.weight[:, :, 0, 0], x, axes=(1, 0))
    else:
        top, bottom = _same_padding(x.shape[1], kernel, conv.stride)
        left, right = _same_padding(x.shape[2], kernel, conv.stride)
        padded = np.pad(x, ((0, 0), (top, bottom), (left, right)))
        height = -(-x.shape[1] // conv.stride)
        width = -(-x.shape[2] // conv.stride)
        y = np.zeros((out_channels, height, width), dtype=np.float32)
        for i in range(kernel):
            for j in range(kernel):
                window = padded[
                    :,
                    i : i + conv.stride * (height - 1) + 1 : conv.stride,
                    j : j + conv.stride * (width - 1) + 1 : conv.stride,
                ]
                if conv.groups == 1:
                    y += np.tensordot(conv.weight[:, :, i, j], window, axes=(1, 0))
                else:
                    y += conv.weight[:, 0, i, j][:, None, None] * window
    y = y + conv.bias[:, None, None]
    return np.clip(y, 0.0, 6.0) if conv.relu6 else y


def forward_numpy(network: EffNetLite0, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pooled features ``(1280,)`` and ImageNet logits ``(1000,)`` of one preprocessed
    image of shape ``(3, height, width)``; about 10 times slower than the graph."""
    x = _conv_numpy(image.astype(np.float32), network.stem)
    for block in network.blocks:
        y = x
        for conv in block.convs:
            y = _conv_numpy(y, conv)
        x = x + y if block.skip else y
    features = _conv_numpy(x, network.head).mean(axis=(1, 2))
    return features, network.fc_weight @ features + network.fc_bias


# --- ONNX graph ---------------------------------------------------------------------------


def build_graph(network: EffNetLite0) -> bytes:
    """The network as a serialised ONNX model taking ``image`` ``(batch, 3, H, W)`` (any size)
    and giving ``features`` ``(batch, 1280)`` and ``logits`` ``(batch, 1000)``."""
    from onnx import TensorProto, helper, numpy_helper  # only needed to build the graph once

    nodes: list[Any] = []
    initializers: list[Any] = []

    def conv(x: str, layer: Conv, name: str) -> str:
        initializers.append(numpy_helper.from_array(layer.weight, f"{name}.w"))
        initializers.append(numpy_helper.from_array(layer.bias, f"{name}.b"))
        kernel = int(layer.weight.shape[2])
        nodes.append(
            helper.make_node(
                "Conv",
                [x, f"{name}.w", f"{name}.b"],
                [f"{name}.conv"],
                kernel_shape=[kernel, kernel],
                strides=[layer.stride, layer.stride],
                group=layer.groups,
                auto_pad="SAME_UPPER",
            )
        )
        if not layer.relu6:
            return f"{name}.conv"
        nodes.append(helper.make_node("Clip", [f"{name}.conv", "zero", "six"], [f"{name}.out"]))
        return f"{name}.out"

    initializers.append(numpy_helper.from_array(np.array(0.0, np.float32), "zero"))
    initializers.append(numpy_helper.from_array(np.array(6.0, np.float32), "six"))
    x = conv(INPUT, network.stem, "stem")
    for index, block in enumerate(network.blocks):
        y = x
        for part, layer in enumerate(block.convs):
            y = conv(y, layer, f"block{index}.{part}")
        if block.skip:
            nodes.append(helper.make_node("Add", [x, y], [f"block{index}.sum"]))
            y = f"block{index}.sum"
        x = y
    x = conv(x, network.head, "head")
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["pooled"]))
    nodes.append(helper.make_node("Flatten", ["pooled"], [FEATURES], axis=1))
    initializers.append(numpy_helper.from_array(network.fc_weight, "fc.w"))
    initializers.append(numpy_helper.from_array(network.fc_bias, "fc.b"))
    nodes.append(helper.make_node("Gemm", [FEATURES, "fc.w", "fc.b"], [LOGITS], transB=1))
    graph = helper.make_graph(
        nodes,
        "efficientnet_lite0",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["batch", 3, "height", "width"])],
        [
            helper.make_tensor_value_info(FEATURES, TensorProto.FLOAT, ["batch", EMBEDDING_SIZE]),
            helper.make_tensor_value_info(LOGITS, TensorProto.FLOAT, ["batch", 1000]),
        ],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    data: bytes = model.SerializeToString()
    return data
