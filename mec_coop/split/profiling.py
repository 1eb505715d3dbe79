# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Per-operator MACs, output bytes and latency, and operator graphs of torch.fx-traceable models.

:func:`profile` fills an :class:`~mec_coop.split.dag.OpDag` of torch callables; :func:`fx_dag`
builds one from any ``torch.fx``-traceable model (the paper's ResNet-50, GoogLeNet and
MobileNetV2 from torchvision: structure, MACs and latency need no weights).
"""

import statistics
import time
from typing import Any, Callable, Dict, List

import torch
from torch import fx, nn

from mec_coop.split.dag import INPUT, OpDag, OpNode


def module_macs(module: nn.Module, output: Any) -> float:
    """Multiply-accumulates of one call of a convolution or linear layer (others: 0)."""
    if isinstance(module, nn.Conv2d) and isinstance(output, torch.Tensor):
        k = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
        return float(output.numel() * k)
    if isinstance(module, nn.Linear) and isinstance(output, torch.Tensor):
        return float(output.numel() * module.in_features)
    return 0.0


def tensor_bytes(value: Any, itemsize: int = 4) -> int:
    """Bytes of a tensor (or a list/tuple/dict of them) stored at ``itemsize`` bytes a value."""
    if isinstance(value, torch.Tensor):
        return int(value.numel()) * itemsize
    if isinstance(value, (list, tuple)):
        return sum(tensor_bytes(v, itemsize) for v in value)
    if isinstance(value, dict):
        return sum(tensor_bytes(v, itemsize) for v in value.values())
    return 0


@torch.no_grad()
def profile(dag: OpDag, x: torch.Tensor, root: nn.Module, repeats: int = 3) -> OpDag:
    """
    Fill each operator's MACs, float32 output bytes and median latency; return ``dag``.

    MACs are those of convolutions and linear layers, counted by hooks on ``root``; latency is
    the median over ``repeats`` runs on this CPU.

    Attention products and element-wise operators count no MACs (a small share of these CNNs).
    """
    counter = [0.0]

    def hook(module, _inputs, output):
        counter[0] += module_macs(module, output)

    handles = [m.register_forward_hook(hook) for m in root.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    times: Dict[str, List[float]] = {n: [] for n in dag.order}
    try:
        for rep in range(repeats + 1):      # the first pass warms caches and allocators
            values: Dict[str, Any] = {INPUT: x}
            for name in dag.order:
                node = dag.nodes[name]
                counter[0] = 0.0
                args = [values[p] for p in node.parents]
                start = time.perf_counter()
                values[name] = node.fn(*args)   # type: ignore[misc]  # built with fns
                elapsed = time.perf_counter() - start
                if rep:
                    times[name].append(elapsed)
                node.macs = counter[0]
                node.out_bytes = tensor_bytes(values[name])
    finally:
        for h in handles:
            h.remove()
    for name, samples in times.items():
        dag.nodes[name].latency_s = statistics.median(samples) if samples else 0.0
    dag.input_bytes = int(x[0].numel()) if x.dim() == 4 else int(x.numel())   # uint8 pixels
    return dag


def _fx_callable(gm: fx.GraphModule, node: fx.Node):
    parents = list(node.all_input_nodes)
    target: Callable[..., Any]
    if node.op == 'call_module':
        target = gm.get_submodule(str(node.target))
    elif node.op == 'call_function' and callable(node.target):
        target = node.target
    elif node.op == 'get_attr':
        value: Any = gm
        for part in str(node.target).split('.'):
            value = getattr(value, part)
        return lambda: value
    else:
        method = str(node.target)

        def target(obj, *args, **kwargs):
            return getattr(obj, method)(*args, **kwargs)

    def fn(*values):
        env = dict(zip(parents, values))
        args = fx.node.map_arg(node.args, lambda n: env[n])
        kwargs = fx.node.map_arg(node.kwargs, lambda n: env[n])
        return target(*args, **kwargs)
    return fn


def fx_dag(model: nn.Module) -> OpDag:
    """Build the operator DAG of a ``torch.fx`` trace of ``model`` (leaf modules = operators)."""
    gm = fx.symbolic_trace(model.eval())
    names: Dict[fx.Node, str] = {}
    nodes = []
    for node in gm.graph.nodes:
        if node.op == 'placeholder':
            if names:
                raise ValueError('models with more than one input are not supported')
            names[node] = INPUT
            continue
        if node.op == 'output':
            continue
        names[node] = node.name
        kind = type(gm.get_submodule(str(node.target))).__name__ if node.op == 'call_module' \
            else getattr(node.target, '__name__', str(node.target))
        nodes.append(OpNode(node.name, [names[p] for p in node.all_input_nodes], kind,
                            fn=_fx_callable(gm, node), members=[node.name]))
    dag = OpDag(nodes)
    dag.root = gm      # type: ignore[attr-defined]  # keeps the modules the callables use
    return dag


def torchvision_dag(name: str, size: int = 224, repeats: int = 3,
                    merge_fraction: float = 0.01) -> OpDag:
    """Build the profiled, merged DAG of ``resnet50``, ``googlenet`` or ``mobilenet_v2``."""
    import torchvision
    builders = {
        'resnet50': lambda: torchvision.models.resnet50(weights=None),
        'googlenet': lambda: torchvision.models.googlenet(weights=None, aux_logits=False,
                                                          init_weights=False),
        'mobilenet_v2': lambda: torchvision.models.mobilenet_v2(weights=None),
    }
    if name not in builders:
        raise ValueError(f'unknown model {name!r}; expected one of {sorted(builders)}')
    model = builders[name]().eval()
    dag = fx_dag(model)
    profile(dag, torch.rand(1, 3, size, size), dag.root, repeats)   # type: ignore[attr-defined]
    return dag.merge_cheap(merge_fraction)
