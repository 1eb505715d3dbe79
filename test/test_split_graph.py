# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Operator DAGs, partition points (Algorithm 1, valid-cut test) and split execution."""

import numpy as np
import pytest

from mec_coop.split.dag import INPUT, OpDag, OpNode


def _diamond():
    """Build input -> a -> (b1 -> b2, c) -> d: one branch of two operators beside one of one."""
    def op(name, parents, macs):
        return OpNode(name, parents, macs=macs, out_bytes=10 * macs,
                      fn=lambda *xs, k=macs: sum(xs) + k)
    return OpDag([op('a', [INPUT], 1), op('b1', ['a'], 2), op('b2', ['b1'], 3),
                  op('c', ['a'], 4), op('d', ['b2', 'c'], 5)], input_bytes=7)


def test_valid_cut_test_gives_reasons():
    dag = _diamond()
    assert dag.is_valid_cut(['b1', 'c']) == (True, '')
    ok, why = dag.is_valid_cut(['b1'])
    assert not ok and 'a->c' in why
    ok, why = dag.is_valid_cut(['a', 'b1'])
    assert not ok and 'antichain' in why
    assert dag.is_valid_cut(['a', 'b1'], antichain=False) == (True, '')   # sends a for c
    assert not dag.is_valid_cut(['b1'], antichain=False)[0]


def test_algorithm1_finds_the_parallel_branch_cuts():
    dag = _diamond()
    cuts = dag.partition_points('paper')
    members = [c.members for c in cuts]
    assert members == [(INPUT,), ('a',), ('b1', 'c'), ('b2', 'c'), ('d',)]
    assert [c.sent_bytes for c in cuts] == [7, 10, 60, 70, 50]
    assert [c.local_macs for c in cuts] == [0, 1, 7, 10, 15]
    assert all(dag.is_valid_cut(m)[0] for m in members)
    for cut in cuts:       # head then tail is the whole graph
        assert dag.tail(dag.head(1.0, cut), cut) == {'d': dag.run({INPUT: 1.0}, dag.order)['d']}


def test_merge_cheap_folds_chains_only():
    def op(name, parents, macs):
        return OpNode(name, parents, macs=macs, out_bytes=macs, fn=lambda x, k=macs: x * 10 + k)
    dag = OpDag([op('conv', [INPUT], 100), op('relu', ['conv'], 0), op('pool', ['relu'], 0),
                 op('fc', ['pool'], 50)])
    merged = dag.merge_cheap(0.01)
    assert merged.order == ['conv', 'fc']
    assert merged.nodes['conv'].members == ['conv', 'relu', 'pool']
    assert merged.run({INPUT: 1}, merged.order)['fc'] == dag.run({INPUT: 1}, dag.order)['fc']


@pytest.mark.parametrize('name,mmac,parallel', [('resnet50', 4089.2, True),
                                                ('googlenet', 1498.4, True),
                                                ('mobilenet_v2', 300.8, False)])
def test_torchvision_graphs(name, mmac, parallel):
    import torch
    from mec_coop.split.profiling import torchvision_dag
    torch.manual_seed(0)
    torch.set_num_threads(1)       # 2 shared cores: more threads only contend
    dag = torchvision_dag(name, repeats=1)
    assert dag.total_macs / 1e6 == pytest.approx(mmac, abs=0.1)   # ResNet-50: paper's 4089
    cuts = dag.partition_points('paper')
    assert all(dag.is_valid_cut(c.members)[0] for c in cuts)
    assert any(len(c.members) > 1 for c in cuts) == parallel
    assert np.all(np.diff([c.local_macs for c in cuts]) >= 0)
    x = torch.rand(1, 3, 224, 224)
    with torch.no_grad():
        full = dag.run({INPUT: x}, dag.order)[dag.sinks[0]]
        for cut in cuts[1:-1:4]:
            out = dag.tail(dag.head(x, cut), cut)[dag.sinks[0]]
            assert float((out - full).abs().max()) <= 1e-4 * float(full.abs().max())


@pytest.mark.model
@pytest.mark.parametrize('method', ['paper', 'prefix'])
def test_pose_model_head_then_tail_is_the_model(method, person_image):
    import torch
    from mec_coop.split.yolo import SplitPose
    model = SplitPose(imgsz=320, cuts=method)
    x = model.prepare(person_image)
    full = model.forward(x)
    scale = float(full.abs().max())
    cuts = model.cuts
    assert len(cuts) >= (10 if method == 'paper' else 30)
    if method == 'paper':
        assert all(model.graph.is_valid_cut(c.members)[0] for c in cuts)
        assert sum(len(c.members) > 1 for c in cuts) >= 3     # Pose head's parallel branches
    else:
        assert all(model.graph.is_valid_cut(c.members, antichain=False)[0] for c in cuts)
    for point in range(len(cuts)):
        sent, hw = model.run_head(person_image, point)
        assert hw == tuple(x.shape[2:])
        diff = float((model.run_tail(sent, point) - full).abs().max())
        assert diff < 1e-4 * scale, (point, cuts[point].members, diff)
    people = model.predict(person_image)
    sent, hw = model.run_head(person_image, 4)
    split = model.predict_tail(sent, 4, hw, person_image.shape[:2])
    assert people.num_people == split.num_people == 2
    np.testing.assert_allclose(split.keypoints, people.keypoints, atol=1e-3)
    with pytest.raises(ValueError, match='outside'):
        model.cut(len(cuts))
    with torch.no_grad():
        with pytest.raises(ValueError, match='misses tensors'):
            model.run_tail({}, 3)
