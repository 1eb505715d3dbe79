# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Eqs. (1)-(3), the task-aware MDP, brute force and EMH-PPO of the split-inference paper."""

import numpy as np
import pytest
import torch

from mec_coop.split.mdp import (Actions, brute_force, CollabEnv, local_only, ModelProfile,
                                run_policy, Scenario)
from mec_coop.split.ppo import PPOConfig, Trainer


def _profile(L0=8.6e-3):
    """Input, two features (one from a parallel-branch cut), all local."""
    return ModelProfile('toy', bits=np.array([1.2e6, 4e5, 1e5, 0.0]),
                        local_mmac=np.array([0.0, 500.0, 2000.0, 4089.0]),
                        local_share=np.array([0.0, 0.1, 0.5, 1.0]),
                        vertical=np.array([True, True, False, True]), L0=L0)


def _actions(s, c, m, p, w=1):
    arr = [np.asarray(v).reshape(1, -1, 1) for v in (s, c, m)]
    return Actions(arr[0], arr[1], arr[2], np.asarray(p, float).reshape(1, -1, 1),
                   np.full((1, len(s)), w))


def test_local_only_matches_the_papers_anchors():
    from mec_coop.split.profiling import torchvision_dag
    torch.set_num_threads(1)
    dag = torchvision_dag('resnet50', repeats=1)
    cuts = dag.partition_points('paper')
    pf = ModelProfile.from_cuts('resnet50', cuts, sum(n.latency_s for n in dag.nodes.values()),
                                8.6e-3)
    sc = Scenario()
    got = run_policy(CollabEnv(sc, pf, 2, test=True, tasks=50), local_only(sc, pf)).summary()
    assert got['latency_ms'] == pytest.approx(2150.75, rel=1e-3)     # Table IV, Local only
    assert got['energy_j_per_task'] == pytest.approx(0.0409, abs=1e-4)
    assert pf.bits[0] == 224 * 224 * 3 * 8 and pf.bits[-1] == 0
    assert np.all(np.diff(pf.local_mmac) >= 0) and pf.local_share[-1] == 1.0


def test_rate_latency_energy_follow_eqs_1_to_3():
    sc = Scenario(num_mds=2, num_channels=2, num_servers=1, w_max=1, shadow_db=0.0)
    pf = _profile()
    env = CollabEnv(sc, pf, 1, test=True, tasks=1)
    env.d[:] = 10.0
    zero = np.zeros((1, 2, 1))
    apart = env.costs(_actions([1, 1], [0, 1], [0, 0], [0.5, 0.5]), zero)
    together = env.costs(_actions([1, 1], [0, 0], [0, 0], [0.5, 0.5]), zero)
    rate = 1e6 * np.log2(1 + 0.5 * 1e-3 / 1e-9)
    tx = 4e5 / rate
    local = 5 * 8.6e-3 * 0.1
    server = 8.6e-3 * 0.9 * 2                   # (2) scaled, two MDs on the server
    assert apart['latency'][0, 0, 0] == pytest.approx(local + tx + server)
    assert apart['energy'][0, 0, 0] == pytest.approx(0.5 * tx + 1e-5 * 500)
    # Same channel: SINR ~ 1, far slower; the interference-free case is the upper bound.
    assert together['latency'][0, 0, 0] > 5 * apart['latency'][0, 0, 0]
    paper = CollabEnv(Scenario(**{**sc.__dict__, 'server': 'paper'}), pf, 1, test=True,
                      tasks=1)
    paper.d[:] = 10.0
    lit = paper.costs(_actions([1, 1], [0, 1], [0, 0], [0.5, 0.5]), zero)
    assert lit['latency'][0, 0, 0] == pytest.approx(local + tx + 8.6e-3 * 2)


def test_interference_lasts_only_while_the_interferer_uploads():
    """Eq. (1) per instant: the faded MD's upload speeds up once the strong one has finished."""
    sc = Scenario(num_mds=2, num_channels=1, num_servers=2, w_max=1, shadow_db=0.0)
    pf = _profile()
    env = CollabEnv(sc, pf, 1, test=True, tasks=1)
    env.d[:] = 10.0
    a = _actions([0, 0], [0, 0], [0, 1], [1.0, 0.01])
    got = env.costs(a, np.zeros((1, 2, 1)))
    g = 1e-3
    strong = 1e6 * np.log2(1 + g / (1e-9 + 0.01 * g))
    weak = 1e6 * np.log2(1 + 0.01 * g / (1e-9 + g))
    t1 = 1.2e6 / strong                              # both upload until the strong one is done
    t2 = t1 + (1.2e6 - weak * t1) / (1e6 * np.log2(1 + 0.01 * g / 1e-9))
    assert got['latency'][0, 0, 0] == pytest.approx(t1 + 8.6e-3)
    assert got['latency'][0, 1, 0] == pytest.approx(t2 + 8.6e-3)
    assert got['energy'][0, 1, 0] == pytest.approx(0.01 * t2)
    # The slot-aligned reading charges the strong MD's interference for the whole upload:
    # about 80 s instead of 0.27 s.
    slot = CollabEnv(Scenario(**{**sc.__dict__, 'interference': 'slot'}), pf, 1, test=True,
                     tasks=1)
    slot.d[:] = 10.0
    assert slot.costs(a, np.zeros((1, 2, 1)))['latency'][0, 1, 0] > 100 * t2


def test_window_runs_each_mds_tasks_in_turn():
    """Two tasks of one MD never upload at once; the window's latency is their sum."""
    sc = Scenario(num_mds=1, num_channels=1, num_servers=1, w_max=2, shadow_db=0.0)
    env = CollabEnv(sc, _profile(), 1, test=True, tasks=2)
    env.d[:] = 10.0
    a = Actions(np.array([[[1, 3]]]), np.zeros((1, 1, 2), int), np.zeros((1, 1, 2), int),
                np.ones((1, 1, 2)), np.array([[2]]))
    got = env.costs(a, np.zeros((1, 1, 2)))['latency'][0, 0]
    one = 5 * 8.6e-3 * 0.1 + 4e5 / (1e6 * np.log2(1 + 1e-3 / 1e-9)) + 8.6e-3 * 0.9
    assert got.tolist() == pytest.approx([one, 5 * 8.6e-3])


def test_input_bits_replace_the_raw_input_only():
    pf = _profile()
    cuts = [type('Cut', (), {'sent_bytes': b, 'local_macs': m, 'local_latency_s': t,
                             'members': ('x',)})()
            for b, m, t in ((150528, 0, 0.0), (4000, 1e9, 0.01), (0, 4e9, 0.04))]
    jpeg = ModelProfile.from_cuts('toy', cuts, 0.04, 8.6e-3, input_bits=139e3)
    assert jpeg.bits.tolist() == [139e3, 32000.0, 0.0]
    assert ModelProfile.from_cuts('toy', cuts, 0.04, 8.6e-3).bits[0] == 150528 * 8
    with pytest.raises(ValueError, match='input_bits'):
        ModelProfile.from_cuts('toy', cuts, 0.04, 8.6e-3, input_bits=0.0)
    assert pf.bits[0] == 1.2e6


def test_window_reward_is_eq_8():
    sc = Scenario(num_mds=2, num_channels=2, num_servers=2, shadow_db=0.0, w_max=2)
    env = CollabEnv(sc, _profile(), 1, test=True, tasks=3)
    a = Actions(np.full((1, 2, 2), 3), np.zeros((1, 2, 2), int), np.zeros((1, 2, 2), int),
                np.ones((1, 2, 2)), np.array([[2, 1]]))
    _, reward, done, info = env.step(a)
    lat = 5 * 8.6e-3
    wait = (2 * lat - lat) / 2
    energy = 3 * 1e-5 * 4089
    expected = -((2 * lat + 0.05 * wait) / 1.5 + 50 / 2 * energy / 1.5)
    assert reward[0] == pytest.approx(expected)
    assert list(env.X[0]) == [1, 2] and not done[0] and info['tasks'][0] == 3


def test_brute_force_beats_local_and_refuses_big_instances():
    sc = Scenario(num_mds=2, num_servers=1, num_channels=1, w_max=1, shadow_db=0.0)
    pf = _profile()
    best = brute_force(sc, pf, 10.0, power_levels=5)
    assert best['combinations'] == (4 * 5) ** 2
    env = CollabEnv(sc, pf, 1, test=True, tasks=1)
    env.d[:] = 10.0
    local = env.step(local_only(sc, pf)(env.state()), np.zeros((1, 2, 1)))[1][0]
    assert best['reward_per_window'] >= local
    with pytest.raises(ValueError, match='w_max = 1'):
        brute_force(Scenario(), pf, 10.0)


@pytest.mark.parametrize('mode', ['emh', 'mahppo', 'hppo'])
def test_ppo_trains_and_decides_fast(mode):
    torch.set_num_threads(1)
    sc = Scenario(num_mds=3)
    env = CollabEnv(sc, _profile(), 8, seed=0)
    trainer = Trainer(env, mode, PPOConfig(envs=8, horizon=8, epochs=2, batch=32,
                                           max_iterations=2, seconds=60))
    stats = trainer.train()
    assert stats['iterations'] == 2
    a = trainer.act(env.state())
    assert a.s.shape == (8, 3, 5) and a.w.min() >= 1 and a.w.max() <= 5
    assert trainer.decision_time_s(repeats=20) < 5e-3              # acceptance: < 5 ms
    if mode == 'emh':
        assert hasattr(trainer.actors, 'embed') and len(trainer.actors.agents) == 3


def test_gae_is_eq_18():
    sc = Scenario(num_mds=1)
    trainer = Trainer(CollabEnv(sc, _profile(), 1), 'emh', PPOConfig(gamma=0.9, lam=0.5))
    b = {'r': torch.tensor([[1.0], [2.0], [3.0]]), 'done': torch.tensor([[0.0], [1.0], [0.0]]),
         'v': torch.tensor([[0.5], [0.25], [1.0]])}
    adv, ret = trainer._gae(b, torch.tensor([2.0]))
    d2 = 3 + 0.9 * 2 - 1.0
    d1 = 2 - 0.25                                   # episode ends: no bootstrap
    d0 = 1 + 0.9 * 0.25 - 0.5
    assert adv[:, 0].tolist() == pytest.approx([d0 + 0.45 * d1, d1, d2])
    assert torch.allclose(ret, adv + b['v'])


def test_warm_start_imitates_a_vertical_policy_and_validation_keeps_the_best():
    from mec_coop.split.mdp import FixedPolicy
    torch.set_num_threads(1)
    sc = Scenario(num_mds=2)
    profile = _profile()
    vertical = np.flatnonzero(profile.vertical)          # [0, 1, 3]: point 2 is a branch cut
    env = CollabEnv(sc, profile, 8, seed=0)
    trainer = Trainer(env, 'emh', PPOConfig(envs=8, horizon=4, epochs=1, batch=64,
                                            max_iterations=3, validate_every=1))
    # MD 0 at the vertical profile's point 1 (= point 1), MD 1 at its point 2 (= point 3).
    teacher = FixedPolicy([1, 2], sc)
    nll = trainer.imitate(teacher, vertical, steps=300)
    a = trainer.act(env.state())
    assert nll < 1.0
    assert (a.s[:, 0] == 1).all() and (a.s[:, 1] == 3).all()
    assert (a.w == sc.w_max).all() and (a.c[:, 1] == 1).all()
    # A validation that only ever gets worse: the warm-started actors are kept.
    scores = iter([0.0, -1.0, -2.0, -3.0])
    before = {k: v.clone() for k, v in trainer.actors.state_dict().items()}
    stats = trainer.train(validate=lambda _t: next(scores))
    assert stats['iterations'] == 3 and stats['validation_reward'] == 0.0
    assert all(torch.equal(before[k], v) for k, v in trainer.actors.state_dict().items())
