# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
System model and task-aware MDP of the split-inference paper: eqs. (1)-(3) and (5)-(8).

"Task-Aware Collaborative Inference and Fine-Grained DNN Partitioning in MEC Networks" (Zhang
et al., IEEE TMC 2026).

Choices where the paper is silent (each switchable where it matters):

* (1) interference only from MDs on the same channel *while they transmit*
  (``interference='overlap'``, default): the window is simulated event by event, so an
  interferer that finishes its upload stops interfering and the rates of the others rise.
  ``interference='slot'`` (the earlier reconstruction) charges the interference of the other
  MDs' same-numbered task slot for the whole upload, even after their upload has ended; with
  8 dB shadowing the faded MD of a co-channel pair then keeps a SINR far below 1 for an
  upload of seconds to minutes (edge-only ResNet-50 averaged 31 s a task).
* (2) ``server='scaled'`` (default): local latency ``5 L0`` times the *measured* latency share
  of the local operators, server latency ``L0`` times the remaining share times the MDs on that
  server in that slot; ``server='paper'``: the server term is ``L0`` whatever the cut, as printed.
* Feature sizes are float32 (raw input: uint8); latency in seconds, energy in J.
* Power: the Gaussian sample clipped to ``[P_min, P_limit]`` (``P_min`` keeps a rate > 0).

Everything is vectorised over ``E`` parallel episodes: arrays are ``(E, N)`` or
``(E, N, W_max)``.
"""

from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np


@dataclass
class ModelProfile:
    """Per partition point ``s``: bits sent, local MMACs and local latency share."""

    name: str
    bits: np.ndarray          # (S,) intermediate data I_s (0 at the all-local point)
    local_mmac: np.ndarray    # (S,) M_n at point s
    local_share: np.ndarray   # (S,) measured latency of the local operators / whole model
    vertical: np.ndarray      # (S,) True for singleton cuts (Neurosurgeon's cut points)
    L0: float                 # server latency of one task alone (s)

    @property
    def num_points(self) -> int:
        return len(self.bits)

    @classmethod
    def from_cuts(cls, name: str, cuts: Sequence, total_latency_s: float, L0: float,
                  latency_share: bool = True,
                  input_bits: Optional[float] = None) -> 'ModelProfile':
        """
        From :meth:`OpDag.partition_points` (index 0: raw input; last: all local).

        ``input_bits`` replaces the size of the raw input (point 0; default: uint8 pixels),
        e.g. by a measured JPEG of it.
        """
        total_mmac = cuts[-1].local_macs / 1e6
        bits = np.array([c.sent_bytes * 8.0 for c in cuts])    # float32 features, uint8 input
        if input_bits is not None:
            if not input_bits > 0:
                raise ValueError(f'input_bits must be > 0, got {input_bits}')
            bits[0] = float(input_bits)
        bits[-1] = 0.0
        mmac = np.array([c.local_macs / 1e6 for c in cuts])
        share = np.array([c.local_latency_s / total_latency_s for c in cuts]) if latency_share \
            else mmac / total_mmac
        share[-1] = 1.0
        return cls(name, bits, mmac, np.clip(share, 0.0, 1.0),
                   np.array([len(c.members) == 1 for c in cuts]), L0)

    def restricted(self, mask: np.ndarray) -> 'ModelProfile':
        """Keep only the points of ``mask`` (e.g. :attr:`vertical`)."""
        return ModelProfile(self.name, self.bits[mask], self.local_mmac[mask],
                            self.local_share[mask], self.vertical[mask], self.L0)


@dataclass
class Scenario:
    """Table III defaults (3 MDs, 2 servers, 2 channels)."""

    num_mds: int = 3
    num_servers: int = 2
    num_channels: int = 2
    bandwidth_hz: float = 1e6
    noise_w: float = 1e-9
    p_limit_w: float = 1.0
    p_min_w: float = 1e-3
    path_loss_exp: float = 3.0
    shadow_db: float = 8.0
    zeta_j_per_mmac: float = 1e-5
    beta: float = 50.0
    alpha: float = 0.05
    w_max: int = 5
    mean_tasks: float = 50.0
    distance_range: Tuple[float, float] = (1.0, 100.0)
    test_distance: Optional[float] = 50.0    # None: redraw in tests too
    local_factor: float = 5.0                # L_local = 5 L0
    server: str = 'scaled'                   # or 'paper'
    interference: str = 'overlap'            # or 'slot'


@dataclass
class Actions:
    """One window's actions: per MD a window size and per task slot (s, c, m, P)."""

    s: np.ndarray      # (E, N, Wm) int partition point
    c: np.ndarray      # (E, N, Wm) int channel
    m: np.ndarray      # (E, N, Wm) int server
    p: np.ndarray      # (E, N, Wm) float transmit power (W)
    w: np.ndarray      # (E, N) int window size 1..Wm


@dataclass
class Totals:
    """Episode sums for the tables."""

    reward: np.ndarray
    latency_s: np.ndarray      # sum over windows of the slowest MD's latency
    energy_j: np.ndarray       # total MD energy
    tasks: np.ndarray          # total tasks
    wait_s: np.ndarray         # sum of the windows' mean waiting time

    def summary(self) -> Dict[str, float]:
        n = float(np.mean(self.tasks))
        return {'reward': float(np.mean(self.reward)),
                'latency_ms': 1e3 * float(np.mean(self.latency_s)),
                'energy_j_per_task': float(np.mean(self.energy_j / self.tasks)),
                'wait_ms_per_task': 1e3 * float(np.mean(self.wait_s)) / max(n, 1.0)}


class CollabEnv:
    """``E`` parallel episodes of the task-aware MDP (decision = one task window)."""

    def __init__(self, scenario: Scenario, profile: ModelProfile, episodes: int = 1,
                 seed: int = 0, test: bool = False, tasks: Optional[int] = None):
        self.sc, self.pf, self.E, self.test = scenario, profile, int(episodes), bool(test)
        self.rng = np.random.default_rng(seed)
        self.fixed_tasks = tasks
        self.reset()

    @property
    def state_dim(self) -> int:
        return 2 * self.sc.num_mds

    def _distance(self, shape) -> np.ndarray:
        if self.test and self.sc.test_distance is not None:
            return np.full(shape, float(self.sc.test_distance))
        low, high = self.sc.distance_range
        return self.rng.uniform(low, high, shape)

    def reset(self) -> np.ndarray:
        shape = (self.E, self.sc.num_mds)
        self.X: np.ndarray
        if self.fixed_tasks is not None:
            self.X = np.full(shape, int(self.fixed_tasks))
        else:
            self.X = np.maximum(self.rng.poisson(self.sc.mean_tasks, shape), 1)
        self.X0 = self.X.copy()
        self.d = self._distance(shape)
        return self.state()

    def state(self) -> np.ndarray:
        """(6)/(7): remaining tasks and distances, scaled to about [0, 1]."""
        return np.concatenate([self.X / (2 * self.sc.mean_tasks),
                               self.d / self.sc.distance_range[1]], axis=1).astype(np.float32)

    def costs(self, a: Actions, shadow_db: Optional[np.ndarray] = None) -> Dict[str, np.ndarray]:
        """Per-slot latency and energy, eqs. (1)-(3), for the current state."""
        sc, pf = self.sc, self.pf
        E, N, Wm = a.s.shape
        w = np.minimum(a.w, self.X)
        valid = np.arange(Wm)[None, None, :] < w[..., None]
        s = np.clip(a.s, 0, pf.num_points - 1)
        off = valid & (s < pf.num_points - 1)
        p = np.clip(a.p, sc.p_min_w, sc.p_limit_w)
        if shadow_db is None:
            shadow_db = self.rng.normal(0.0, sc.shadow_db, (E, N, Wm))
        gain = (1.0 / self.d[..., None]) ** sc.path_loss_exp * 10 ** (shadow_db / 10)
        load = np.where(off[:, :, None, :] & off[:, None, :, :],
                        a.m[:, :, None, :] == a.m[:, None, :, :], False).sum(axis=2)
        remote = 1.0 if sc.server == 'paper' else 1.0 - pf.local_share[s]
        server = np.where(off, pf.L0 * remote * load, 0.0)
        local = np.where(valid, sc.local_factor * pf.L0 * pf.local_share[s], 0.0)
        bits = np.where(off, pf.bits[s], 0.0)
        if sc.interference == 'overlap':
            latency, tx = _simulate_window(local, bits, server, p * gain, a.c, w,
                                           sc.bandwidth_hz, sc.noise_w)
        elif sc.interference == 'slot':
            rx = np.where(off, p * gain, 0.0)
            same_c = a.c[:, :, None, :] == a.c[:, None, :, :]            # (E, N, N, Wm)
            interference = np.einsum('eniw,eiw->enw', same_c, rx) - rx  # others on my channel
            rate = sc.bandwidth_hz * np.log2(1 + p * gain / (sc.noise_w + interference))
            tx = np.where(off, bits / rate, 0.0)
            latency = np.where(valid, local + tx + server, 0.0)
        else:
            raise ValueError(f"interference must be 'overlap' or 'slot', got {sc.interference!r}")
        energy = np.where(valid, p * tx + sc.zeta_j_per_mmac * pf.local_mmac[s], 0.0)
        return {'latency': latency, 'energy': energy, 'w': w}

    def step(self, a: Actions, shadow_db: Optional[np.ndarray] = None):
        """Apply one window; return (next state, reward (8), done, info)."""
        sc = self.sc
        c = self.costs(a, shadow_db)
        active = self.X > 0
        lat_n = c['latency'].sum(axis=2)                                 # (E, N)
        worst = lat_n.max(axis=1)
        wait = np.mean(worst[:, None] - lat_n, axis=1)
        energy = c['energy'].sum(axis=(1, 2))
        wk = np.maximum(c['w'].mean(axis=1), 1e-9)
        reward = -((worst + sc.alpha * wait) / wk + sc.beta / sc.num_mds * energy / wk)
        reward = np.where(active.any(axis=1), reward, 0.0)
        self.X = self.X - c['w']
        self.d = self._distance(self.X.shape)
        done = ~(self.X > 0).any(axis=1)
        info = {'latency': worst, 'energy': energy, 'tasks': c['w'].sum(axis=1), 'wait': wait}
        return self.state(), reward, done, info


def _simulate_window(local: np.ndarray, bits: np.ndarray, server: np.ndarray,
                     rx_w: np.ndarray, channel: np.ndarray, w: np.ndarray, bandwidth_hz: float,
                     noise_w: float) -> Tuple[np.ndarray, np.ndarray]:
    """
    One task window, event by event: per slot latency and upload time, both ``(E, N, Wm)``.

    Every MD runs its ``w`` tasks in turn, each as local compute, upload (eq. (1) with the
    received power ``rx_w`` of the MDs uploading on the same channel *at that instant*) and
    server compute. Between two events (a phase of some MD ending) all rates are constant, so
    each step advances every episode to its next event; each step ends at least one of the
    ``3 N Wm`` phases of every running episode.
    """
    E, N, Wm = local.shape
    work = np.stack([local, bits, server], axis=-1)                   # (E, N, Wm, 3)
    e, n = np.indices((E, N))
    slot, phase = np.zeros((E, N), int), np.zeros((E, N), int)
    done = w <= 0
    rem = np.where(done, 0.0, work[:, :, 0, 0])
    t, start = np.zeros(E), np.zeros((E, N))
    latency, tx_time = np.zeros((E, N, Wm)), np.zeros((E, N, Wm))
    end = ~done & (rem <= 0.0)
    for _ in range(3 * N * Wm):
        # Phases of no work (no upload at the all-local point, no local part at the input)
        # end at once, so a step only stops where some MD's rate or work really changes.
        for _ in range(3):
            over = end & (phase == 2)
            j = np.minimum(slot, Wm - 1)
            latency[e[over], n[over], j[over]] = t[e[over]] - start[over]
            phase = np.where(end, (phase + 1) % 3, phase)
            slot = np.where(over, slot + 1, slot)
            start = np.where(over, t[:, None], start)
            done = done | (slot >= w)
            rem = np.where(end, work[e, n, np.minimum(slot, Wm - 1), phase], rem)
            end = ~done & end & (rem <= 0.0)
            if not end.any():
                break
        if done.all():
            break
        j = np.minimum(slot, Wm - 1)
        up = ~done & (phase == 1)
        rx = np.where(up, rx_w[e, n, j], 0.0)
        ch = channel[e, n, j]
        others = (ch[:, :, None] == ch[:, None, :]) @ rx[..., None]
        rate = np.where(up, bandwidth_hz * np.log2(1.0 + rx / (noise_w + others[..., 0] - rx)),
                        1.0)
        left = np.where(done, np.inf, rem / rate)
        dt = left.min(axis=1)
        dt = np.where(np.isfinite(dt), dt, 0.0)
        rem = rem - rate * dt[:, None]
        tx_time[e, n, j] += np.where(up, dt[:, None], 0.0)
        t += dt
        end = ~done & (left <= dt[:, None] * (1 + 1e-9))
    return latency, tx_time


def run_policy(env: CollabEnv, policy, max_windows: int = 10_000) -> Totals:
    """Run ``policy(state) -> Actions`` until every episode has finished its tasks."""
    state = env.reset()
    t = {k: np.zeros(env.E) for k in ('reward', 'latency', 'energy', 'tasks', 'wait')}
    for _ in range(max_windows):
        live = (env.X > 0).any(axis=1)
        if not live.any():
            break
        state, reward, _, info = env.step(policy(state))
        t['reward'] += np.where(live, reward, 0)
        for k in ('latency', 'energy', 'tasks', 'wait'):
            t[k] += np.where(live, info[k], 0)
    return Totals(t['reward'], t['latency'], t['energy'], t['tasks'], t['wait'])


@dataclass
class FixedPolicy:
    """Every task of MD ``n`` at point ``s[n]``, channel/server round-robin, full power."""

    s: Sequence[int]
    scenario: Scenario
    p_w: Optional[float] = None
    rr: Dict[str, np.ndarray] = field(default_factory=dict)

    def __call__(self, state: np.ndarray) -> Actions:
        sc = self.scenario
        E, N, Wm = len(state), sc.num_mds, sc.w_max
        n = np.arange(N)[None, :, None] + np.zeros((E, 1, Wm), int)
        return Actions(np.broadcast_to(np.asarray(self.s)[None, :, None], (E, N, Wm)).copy(),
                       n % sc.num_channels, n % sc.num_servers,
                       np.full((E, N, Wm), self.p_w or sc.p_limit_w), np.full((E, N), Wm))


def local_only(scenario: Scenario, profile: ModelProfile) -> FixedPolicy:
    return FixedPolicy([profile.num_points - 1] * scenario.num_mds, scenario)


def edge_only(scenario: Scenario, profile: ModelProfile) -> FixedPolicy:
    return FixedPolicy([0] * scenario.num_mds, scenario)


def best_fixed(scenario: Scenario, profile: ModelProfile, vertical: bool = True,
               episodes: int = 64, seed: int = 1) -> FixedPolicy:
    """
    Neurosurgeon-style: one cut per MD, chosen by the measured cost at full power.

    Each MD's point is searched in turn (coordinate descent, two sweeps) over the singleton
    cuts (``vertical``) or all points, on fixed test episodes (common random numbers).
    """
    points = np.flatnonzero(profile.vertical) if vertical else np.arange(profile.num_points)
    choice = [profile.num_points - 1] * scenario.num_mds

    def score(s):
        env = CollabEnv(scenario, profile, episodes, seed, test=True, tasks=10)
        return run_policy(env, FixedPolicy(s, scenario)).summary()['reward']
    for _ in range(2):
        for n in range(scenario.num_mds):
            best = max(points, key=lambda p: score(choice[:n] + [int(p)] + choice[n + 1:]))
            choice[n] = int(best)
    return FixedPolicy(choice, scenario)


def brute_force(scenario: Scenario, profile: ModelProfile, distance: float,
                power_levels: int = 16) -> Dict[str, Any]:
    """
    Exhaustive optimum of one window for a small instance (``w_max`` = 1, no shadowing).

    Every MD's (point, channel, server, power on a grid) is enumerated jointly; with a fixed
    distance every window is the same, so the optimum of one window is the optimum policy.
    The power grid is geometric from ``P_min`` to ``P_limit``: the rate depends on the power
    ratio, and the low-power end is where the energy term is decided.
    """
    sc, pf = scenario, profile
    if sc.w_max != 1 or sc.shadow_db != 0:
        raise ValueError('brute force needs w_max = 1 and shadow_db = 0')
    N = sc.num_mds
    per_md = np.array(np.meshgrid(np.arange(pf.num_points), np.arange(sc.num_channels),
                                  np.arange(sc.num_servers),
                                  np.geomspace(sc.p_min_w, sc.p_limit_w, power_levels),
                                  indexing='ij')).reshape(4, -1).T      # (K, 4)
    K = len(per_md)
    combos = np.array(np.meshgrid(*[np.arange(K)] * N, indexing='ij')).reshape(N, -1).T
    env = CollabEnv(sc, pf, len(combos), 0, test=True, tasks=1)
    env.d[:] = distance
    pick = per_md[combos]                                                  # (E, N, 4)
    a = Actions(pick[..., 0:1].astype(int), pick[..., 1:2].astype(int),
                pick[..., 2:3].astype(int), pick[..., 3:4], np.ones((len(combos), N), int))
    _, reward, _, _ = env.step(a, shadow_db=np.zeros((len(combos), N, 1)))
    best = int(np.argmax(reward))
    return {'reward_per_window': float(reward[best]), 'combinations': int(len(combos)),
            'points': [int(v) for v in pick[best, :, 0]],
            'power_w': [float(v) for v in pick[best, :, 3]]}
