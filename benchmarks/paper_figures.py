# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Paper A, Figs. 6-12, from the model; optionally measured on the virtual rig.

Model part (always): the allocator core (:mod:`mec_coop.alloc`) with the [ASSUMPTION] Beta score
laws of reconstruction note A.3 and Table I constants. Figs. 6-7 use the A.11 prototype gains
(-100/-95/-105/-100 dB); Figs. 8-12 average over ``--draws`` channel draws
``g_n ~ N(g_bar, (10 dB)^2)`` (note A-11). Accuracy and delay are the model's (9) and (19);
MPJPE is the surrogate of note A-6: per frame and view the class, the device and the server
score are drawn from the same laws, the frame is routed by the scheme's thresholds, kept
positive views get 2D noise (8 px device model, 3 px server model), kept negative views become an
outlier pose (the person at another time), and the views are triangulated by plain DLT (the
paper's, no outlier rejection); with fewer than two views the previous estimate is carried. All
schemes see the same random draws (common random numbers), on the virtual rig's camera layout and
humanoid motion at 2 fps.

Measured part (``--measured``): the real node graph on the virtual rig (``mec_coop.cli``'s
runner): the ``device_centric`` and ``server_centric`` presets and the allocator node with the
``paper_literal`` solver (Algorithm 1 as written) and the ``proposed`` one (the enhanced
default) at a few delay requirements, each for ``--duration`` seconds; MPJPE and delay from the
evaluator against ground truth.

Every scheme sees the same channel draws; in Fig. 8 that includes exhaustive search (about
1-3 s per solve at N = 4, K = 20, so 30 draws add several minutes). The claims are judged with
``paper_literal`` (the paper's method) and again with ``proposed``; each is marked as a
reproduction or as a consistency check that holds by construction (:data:`KINDS`).

Writes ``docs/figures/paper_fig{6..12}.png``, ``docs/paper_results.md`` (claims of A.11: which
hold, with numbers) and the raw numbers to ``results/benchmarks/paper_figures.json`` (and
``paper_measured.json``).

Run:  . scripts/env.sh && python benchmarks/paper_figures.py [--draws 30] [--measured]
"""

import argparse
from dataclasses import replace
import json
import os
import pathlib
import platform
import re
import time

import matplotlib
import numpy as np
from scipy import stats

from mec_coop.alloc import model, plan, tables
from mec_coop.alloc.model import SystemParams
from mec_coop.alloc.scores import ASSUMED_BETA, ASSUMED_PI, CameraModel
from mec_coop.geometry.triangulation import triangulate
from mec_coop.rig.virtual import Humanoid, make_cameras

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402, I100 (the backend must be chosen first)

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIG_DIR = ROOT / 'docs' / 'figures'
DOC = ROOT / 'docs' / 'paper_results.md'
RESULTS = ROOT / 'results' / 'benchmarks'
PROTOTYPE_GAINS_DB = (-100.0, -95.0, -105.0, -100.0)
GAIN_SPREAD_DB = 10.0
SIGMA_DEVICE_PX, SIGMA_SERVER_PX = 8.0, 3.0
ROBUST_THRESHOLD_PX = 30.0
# 'paper_literal' is Algorithm 1 as the paper writes it, the paper's method; 'proposed' is the
# project's enhanced search (the allocator's default). Both are shown wherever a solver is.
SCHEMES = ('device_centric', 'server_centric', 'cascade', 'paper_literal', 'proposed',
           'proposed_fixed_tau')
STYLE = {'device_centric': ('tab:blue', 's'), 'server_centric': ('tab:red', 'v'),
         'cascade': ('tab:orange', '^'), 'paper_literal': ('tab:purple', 'D'),
         'proposed': ('tab:green', 'o'), 'proposed_fixed_tau': ('tab:olive', 'x'),
         'exhaustive': ('black', '+')}
LABELS = {'paper_literal': 'paper_literal (Alg. 1 as written)',
          'proposed': 'proposed (enhanced search, ours)',
          'proposed_fixed_tau': 'proposed w/o optimal τ (enhanced search)'}
# Fixed delay terms besides T_d^I (Table I): T_d^p + T^{B->S} + T_s^p + T^{S->C}.
OTHER_FIXED_S = 0.01 + 0.0005 + 0.005 + 0.02
DEFAULT_DRAWS = 30


class Surrogate:
    """
    MPJPE surrogate of note A-6 for one camera count, with draws shared by all schemes.

    :param num_cameras: cameras of the virtual-rig layout.
    :param frames: frames per evaluation (2 fps of the rig's humanoid).
    :param seed: seed of the motion and of every random draw.
    """

    def __init__(self, num_cameras, frames, seed):
        rng = np.random.default_rng(seed)
        cameras = make_cameras(num_cameras)
        self.P = np.stack([cam.P for cam in cameras])
        person = Humanoid(seed)
        self.truth = np.stack([person.pose(0.5 * k).joints for k in range(frames)])
        wrong = self.truth[rng.permutation(frames)]
        true_px = np.stack([cam.project(self.truth) for cam in cameras], axis=1)
        wrong_px = np.stack([cam.project(wrong) for cam in cameras], axis=1)
        shape = (frames, num_cameras)
        self.positive = rng.random(shape) < ASSUMED_PI
        self.x = _beta_scores(self.positive, rng.random(shape), 'x')
        self.y = _beta_scores(self.positive, rng.random(shape), 'y')
        self.noise = rng.standard_normal(true_px.shape)
        self.base_px = np.where(self.positive[..., None, None], true_px, wrong_px)
        # Schemes and sweep points often pick the same thresholds; the draws are fixed, so
        # their MPJPE is too.
        self.memo = {}

    def mpjpe_mm(self, theta_low, theta_high, theta_server, robust=False):
        """
        Return the surrogate MPJPE (mm) of per-camera thresholds.

        ``robust`` triangulates as our edge node does (leave-one-view-out rejection at 30 px)
        instead of the paper's plain DLT. NaN when no joint is ever triangulated.
        """
        key = tuple(np.broadcast_to(np.asarray(t, dtype=float), self.x.shape[1:]).tobytes()
                    for t in (theta_low, theta_high, theta_server)) + (robust,)
        if key not in self.memo:
            self.memo[key] = self._mpjpe_mm(theta_low, theta_high, theta_server, robust)
        return self.memo[key]

    def _mpjpe_mm(self, theta_low, theta_high, theta_server, robust):
        keypoints = self.x >= np.asarray(theta_high)
        offload = (self.x >= np.asarray(theta_low)) & ~keypoints
        kept = keypoints | (offload & (self.y >= np.asarray(theta_server)))
        sigma = np.where(keypoints, SIGMA_DEVICE_PX, SIGMA_SERVER_PX)[..., None, None]
        pixels = self.base_px + sigma * self.noise
        weights = np.broadcast_to(kept[..., None], pixels.shape[:-1]).astype(float)
        # 'greedy' is the leave-one-view-out rejection the published figures were made with.
        result = triangulate(self.P, pixels, weights, method='greedy', ideal_pixels=True,
                             outlier_threshold_px=ROBUST_THRESHOLD_PX if robust else None)
        # Carry each joint's last estimate over frames where it could not be triangulated.
        frames = np.arange(len(self.truth))[:, None]
        last = np.maximum.accumulate(np.where(result.valid, frames, -1), axis=0)
        points = result.points[np.maximum(last, 0), np.arange(last.shape[1])]
        error = np.linalg.norm(points - self.truth, axis=-1)
        return float(np.mean(error[last >= 0]) * 1e3) if (last >= 0).any() else float('nan')


def _beta_scores(positive, uniform, kind):
    """Scores of the assumed laws by inverse CDF, so every scheme sees the same draws."""
    pos = stats.beta.ppf(uniform, *ASSUMED_BETA[f'{kind}_pos'])
    neg = stats.beta.ppf(uniform, *ASSUMED_BETA[f'{kind}_neg'])
    return np.where(positive, pos, neg)


def draw_cameras(rng, num, gain_mean_db):
    return [CameraModel.assumed(g) for g in rng.normal(gain_mean_db, GAIN_SPREAD_DB, num)]


def evaluate(name, cameras, params, surrogate):
    result = plan.SOLVERS[name](cameras, params)
    thresholds = (result.theta_low, result.theta_high, result.theta_server)
    return {'accuracy': result.accuracy, 'delay_s': result.delay_s,
            'feasible': result.feasible, 'solve_time_s': result.solve_time_s,
            'mpjpe_mm': surrogate.mpjpe_mm(*thresholds),
            'mpjpe_robust_mm': surrogate.mpjpe_mm(*thresholds, robust=True)}


def sweep(label, values, setup, args, schemes=SCHEMES):
    """
    Average every scheme over the same channel draws at each x value.

    :param setup: ``x -> (num_cameras, gain_mean_db, SystemParams)``.
    :return: dict scheme -> list over x of mean metrics (and the feasible share), with the
        per-draw accuracy and feasibility (for paired gaps between solvers).
    """
    started = time.perf_counter()
    surrogates = {}
    out = {name: [] for name in schemes}
    for x in values:
        num, gain, params = setup(x)
        rows = {name: [] for name in out}
        for d in range(args.draws):
            if (num, d) not in surrogates:
                surrogates[num, d] = Surrogate(num, args.frames, seed=d)
            cameras = draw_cameras(np.random.default_rng((d, num)), num, gain)
            for name in out:
                rows[name].append(evaluate(name, cameras, params, surrogates[num, d]))
        for name, runs in rows.items():
            out[name].append({key: float(np.mean([r[key] for r in runs]))
                              for key in runs[0]}
                             | {'draws': len(runs),
                                'accuracy_draws': [r['accuracy'] for r in runs],
                                'feasible_draws': [r['feasible'] for r in runs]})
    print(f'{label}: {len(values)} points in {time.perf_counter() - started:.0f} s')
    return out


# -- model figures ---------------------------------------------------------------------------

def fig6(args):
    cameras = [CameraModel.assumed(g) for g in PROTOTYPE_GAINS_DB]
    surrogates = [Surrogate(4, args.frames, seed=d) for d in range(args.draws)]
    grid = tables.threshold_grid(20)
    ones = np.ones(len(cameras))
    dev_acc = [np.mean([model.device_centric_accuracy(c, t) for c in cameras]) for t in grid]
    srv_acc = [np.mean([model.server_centric_accuracy(c, t) for c in cameras]) for t in grid]
    lo, hi = model.SERVER_CENTRIC_THETA
    out = {'theta': grid.tolist(), 'device_accuracy': dev_acc, 'server_accuracy': srv_acc}
    for suffix, robust in (('', False), ('_robust', True)):
        out[f'device_mpjpe_mm{suffix}'] = [
            np.mean([s.mpjpe_mm(t * ones, t * ones, ones, robust) for s in surrogates])
            for t in grid]
        out[f'server_mpjpe_mm{suffix}'] = [
            np.mean([s.mpjpe_mm(lo * ones, hi * ones, t * ones, robust) for s in surrogates])
            for t in grid]
    return out


def fig7(args):
    cameras = [CameraModel.assumed(g) for g in PROTOTYPE_GAINS_DB]
    surrogates = [Surrogate(4, args.frames, seed=d) for d in range(args.draws)]
    params = SystemParams()
    ones = np.ones(len(cameras))
    out = {}
    for label, lows, highs in (('theta_low', np.linspace(0.0, 0.5, 11), np.full(11, 0.8)),
                               ('theta_high', np.full(11, 0.2), np.linspace(0.5, 1.0, 11))):
        rows = []
        for low, high in zip(lows, highs):
            acc = np.mean([model.accuracy(c, low, high, 0.3) for c in cameras])
            delay = float(model.end_to_end_delay(cameras, params, low * ones, high * ones))
            mpjpe = [np.mean([s.mpjpe_mm(low * ones, high * ones, 0.3 * ones, robust)
                              for s in surrogates]) for robust in (False, True)]
            rows.append({'theta_low': float(low), 'theta_high': float(high),
                         'accuracy': float(acc), 'delay_s': delay, 'mpjpe_mm': mpjpe[0],
                         'mpjpe_robust_mm': mpjpe[1]})
        out[label] = rows
    return out


def model_figures(args):
    base = SystemParams()
    requirements = np.round(np.arange(0.2, 1.01, 0.1), 2)
    return {
        'settings': {'draws': args.draws, 'frames': args.frames},
        'fig6': fig6(args),
        'fig7': fig7(args),
        'fig8': {'x': requirements.tolist(), **sweep(
            'fig8', requirements, lambda d: (4, -100.0, replace(base, delay_req_s=d)), args,
            schemes=SCHEMES + ('exhaustive',))},
        'fig9': {'x': list(range(2, 9)), **sweep(
            'fig9', range(2, 9), lambda n: (n, -100.0, base), args)},
        'fig10': {'x': list(range(-130, -59, 10)), **sweep(
            'fig10', range(-130, -59, 10), lambda g: (4, float(g), base), args)},
        'fig11': {'x': [2, 4, 8, 16, 32, 64, 128], **sweep(
            'fig11', [2, 4, 8, 16, 32, 64, 128],
            lambda kb: (4, -100.0, replace(base, image_bytes=kb * 1024.0)), args)},
        'fig12': {'x': [20, 50, 100, 200, 300, 400, 450, 500], **sweep(
            'fig12', [20, 50, 100, 200, 300, 400, 450, 500],
            lambda ms: (4, -100.0, replace(base, device_inference_s=ms / 1e3)), args)},
    }


# -- plots -----------------------------------------------------------------------------------

def _save(fig, name):
    FIG_DIR.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(FIG_DIR / name, dpi=100)
    plt.close(fig)


def plot_fig6(r):
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for key, label, color in (('device', r'device-centric, $\theta^L=\theta^H=\theta$',
                               'tab:blue'),
                              ('server', r'server-centric, $\theta^S=\theta$', 'tab:red')):
        axes[0].plot(r['theta'], r[f'{key}_accuracy'], 'o-', ms=3, color=color, label=label)
        axes[1].plot(r['theta'], r[f'{key}_mpjpe_mm'], 'o-', ms=3, color=color,
                     label=f'{key}, plain DLT')
        axes[1].plot(r['theta'], r[f'{key}_mpjpe_mm_robust'], 'o--', ms=3, color=color,
                     alpha=0.6, label=f'{key}, outlier rejection')
    axes[0].set(xlabel=r'threshold $\theta$', ylabel='accuracy (9)',
                title='Fig. 6: accuracy vs threshold')
    axes[1].set(xlabel=r'threshold $\theta$', ylabel='MPJPE surrogate (mm)', yscale='log',
                title='Fig. 6: MPJPE vs threshold')
    axes[0].legend(fontsize=8)
    axes[1].legend(fontsize=7)
    _save(fig, 'paper_fig6.png')


def plot_fig7(r):
    fig, axes = plt.subplots(2, 3, figsize=(12, 6))
    for row, key, label in ((0, 'theta_low', r'$\theta^L$ ($\theta^H=0.8$)'),
                            (1, 'theta_high', r'$\theta^H$ ($\theta^L=0.2$)')):
        xs = [p[key] for p in r[key]]
        axes[row, 0].plot(xs, [p['accuracy'] for p in r[key]], 'o-', ms=3)
        axes[row, 1].plot(xs, [p['mpjpe_mm'] for p in r[key]], 'o-', ms=3, label='plain DLT')
        axes[row, 1].plot(xs, [p['mpjpe_robust_mm'] for p in r[key]], 'o--', ms=3,
                          label='outlier rejection')
        axes[row, 2].plot(xs, [p['delay_s'] for p in r[key]], 'o-', ms=3)
        for col, ylabel in enumerate(('accuracy (9)', 'MPJPE surrogate (mm)',
                                      'delay (19) (s)')):
            axes[row, col].set(xlabel=label, ylabel=ylabel)
    axes[0, 1].legend(fontsize=8)
    axes[0, 0].set_title(r'Fig. 7 ($\theta^S=0.3$, optimal $\tau$)')
    _save(fig, 'paper_fig7.png')


def plot_sweep(r, number, xlabel, requirement=None):
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
    for name in STYLE:
        if name not in r:
            continue
        color, marker = STYLE[name]
        for ax, metric in zip(axes, ('accuracy', 'mpjpe_mm', 'mpjpe_robust_mm', 'delay_s')):
            ax.plot(r['x'], [p[metric] for p in r[name]], marker=marker, ms=4, color=color,
                    label=LABELS.get(name, name))
    if requirement == 'x':
        axes[3].plot(r['x'], r['x'], 'k:', label=r'$D_{req}$')
    elif requirement is not None:
        axes[3].axhline(requirement, color='k', ls=':', label=r'$D_{req}$')
    axes[0].set(xlabel=xlabel, ylabel='mean accuracy (9)', title=f'Fig. {number}')
    axes[1].set(xlabel=xlabel, ylabel='MPJPE surrogate (mm)', yscale='log',
                title='plain DLT (paper)')
    axes[2].set(xlabel=xlabel, ylabel='MPJPE surrogate (mm)', yscale='log',
                title='with outlier rejection (ours)')
    axes[3].set(xlabel=xlabel, ylabel='delay (19) (s)', yscale='log')
    axes[3].legend(fontsize=7)
    _save(fig, f'paper_fig{number}.png')


# -- claims ----------------------------------------------------------------------------------

def _finite(values):
    """Replace NaN (nothing triangulated) by infinity, the worst MPJPE."""
    values = np.asarray(values, dtype=float)
    return np.where(np.isnan(values), np.inf, values)


def _series(r, name, metric):
    return np.array([p[metric] for p in r[name]])


def _verdict(ok):
    return ok if isinstance(ok, str) else ('yes' if ok else 'no')


def _role(name):
    """Name a scheme as the paper's claims do: either solver is the paper's "proposed"."""
    return 'proposed' if name in ('paper_literal', 'proposed') else name


REPRODUCED, BY_CONSTRUCTION = 'reproduction', 'consistency check'
# Per claim: whether the model could have failed it, and why (one line). A consistency check
# holds by construction of the model or the solvers (or was the reason a reconstruction choice
# was made); it shows the implementation agrees with itself, not that the paper is reproduced.
KINDS = {
    ('6', 'server-centric accuracy > device-centric for every threshold'): (
        BY_CONSTRUCTION, 'the assumed Beta laws were chosen with the server scores nearer both '
        'ends than the device scores (A.3, from Fig. 5)'),
    ('6', 'device-centric: interior optimum; argmax accuracy = argmin MPJPE'): (
        REPRODUCED, 'Lemma 1 tested through the MPJPE surrogate, which (9) does not model'),
    ('6', 'server-centric: interior optimum; argmax accuracy = argmin MPJPE'): (
        REPRODUCED, 'Lemma 1 tested through the MPJPE surrogate, which (9) does not model'),
    ('7', 'lowering θL raises accuracy, lowers MPJPE, raises delay (θS=0.3)'): (
        REPRODUCED, 'the accuracy and MPJPE directions depend on the laws and the surrogate '
        '(only the delay rise is built in)'),
    ('7', 'raising θH raises accuracy, lowers MPJPE, raises delay (θS=0.3)'): (
        REPRODUCED, 'the accuracy and MPJPE directions depend on the laws and the surrogate '
        '(only the delay rise is built in)'),
    ('8', 'device-centric: flat, lowest delay, worst MPJPE'): (
        REPRODUCED, '"flat" is built in (thresholds ignore D_req), "worst MPJPE" is not'),
    ('8', 'server-centric: flat, best MPJPE, delay > D_req'): (
        REPRODUCED, '"flat" is built in; the delay level and the MPJPE ranking are not'),
    ('8', 'cascade: MPJPE falls as D_req grows, delay ≤ D_req, saturates'): (
        REPRODUCED, 'delay ≤ D_req is enforced by the solver, the MPJPE trend is not'),
    ('8', 'proposed: MPJPE falls as D_req grows, delay ≤ D_req, saturates'): (
        REPRODUCED, 'delay ≤ D_req is enforced by the solver, the MPJPE trend is not'),
    ('8', 'proposed beats cascade'): (
        REPRODUCED, "the cascade's pairs (θL = 0) are among the cooperative ones, so only the "
        'exact optimum is sure to win; a greedy search can end below it'),
    ('8', 'proposed w/o optimal τ is slightly worse'): (
        REPRODUCED, '(39) gives every candidate the least delay, so only the exact optimum is '
        'sure to win; greedy paths with the two share rules can differ'),
    ('8', 'exhaustive search only negligibly better; 0.015 s vs > 300 s per point'): (
        REPRODUCED, "the greedy search's gap to the optimum is measured (exhaustive ≥ greedy "
        'is the only built-in part)'),
    ('9', 'proposed MPJPE falls with N, then saturates'): (
        REPRODUCED, 'the trend comes out of the reconstructed (15) and the surrogate'),
    ('9', 'server-centric delay grows ~linearly with N, > 0.5 s even at N=2'): (
        REPRODUCED, 'the shape and level follow from the reconstructed (15), not fitted to it'),
    ('9', 'cascade and proposed always ≤ 0.5 s'): (
        BY_CONSTRUCTION, 'the solvers enforce (28) whenever anything is feasible'),
    ('10', 'device-centric flat in the channel gain'): (
        BY_CONSTRUCTION, 'device-centric thresholds do not depend on the gain'),
    ('10', 'server-centric delay falls with ḡ but is still > 0.5 s at −60 dB'): (
        BY_CONSTRUCTION, 'the rate grows with the gain; tx_model=per_second was chosen because '
        'it gives > 0.5 s at −60 dB (note A-2)'),
    ('10', 'proposed reaches server-centric MPJPE within D_req at high ḡ'): (
        REPRODUCED, 'depends on the surrogate and on how much offload fits in D_req'),
    ('11', 'cascade: MPJPE grows with S_I, delay ≤ 0.5 s'): (
        REPRODUCED, 'delay ≤ 0.5 s is enforced, the MPJPE trend is not'),
    ('11', 'proposed: MPJPE grows with S_I, delay ≤ 0.5 s'): (
        REPRODUCED, 'delay ≤ 0.5 s is enforced, the MPJPE trend is not'),
    ('11', 'server-centric delay below proposed only for S_I < 4 KB'): (
        REPRODUCED, 'a crossing of two model delays that need not exist'),
    ('12', 'device-centric delay ≈ T_d^I + 35.5 ms'): (
        BY_CONSTRUCTION, '(21) is T_d^I plus the fixed Table I terms plus a small message '
        'airtime'),
    ('12', 'proposed feasible only while T_d^I ≲ D_req − 35.5 ms, then device-centric'): (
        BY_CONSTRUCTION, 'past that bound the fixed terms alone exceed D_req, and an infeasible '
        'solve returns the no-offload start'),
}


def exhaustive_gaps(f8, solvers=('proposed', 'paper_literal')):
    """
    Relative accuracy gap of each solver to exhaustive search, paired per draw and D_req.

    Instances where exhaustive search finds nothing feasible are left out; a solver that
    finds nothing feasible where exhaustive search does counts as a 100 % gap.
    """
    best = np.array([p['accuracy_draws'] for p in f8['exhaustive']])
    found = np.array([p['feasible_draws'] for p in f8['exhaustive']], dtype=bool)
    out = {}
    for name in solvers:
        acc = np.array([p['accuracy_draws'] for p in f8[name]])
        ok = np.array([p['feasible_draws'] for p in f8[name]], dtype=bool)
        gap = np.where(ok, (best - acc) / best, 1.0)[found]
        out[name] = {'worst': float(gap.max()), 'mean': float(gap.mean()),
                     'optimal_share': float(np.mean(gap <= 1e-9)), 'instances': int(gap.size),
                     'solve_time_s': float(np.median([p['solve_time_s'] for p in f8[name]]))}
    return out


def claims(res, solver='paper_literal'):
    """
    Check the A.11 claims on the model results, with ``solver`` as the paper's "proposed".

    :return: rows ``{fig, claim, kind, why, holds, numbers}``; ``kind`` is :data:`REPRODUCED`
        (the model could have failed it) or :data:`BY_CONSTRUCTION` (see :data:`KINDS`).
    """
    rows = []

    def add(fig, claim, ok, numbers):
        kind, why = KINDS[fig, claim]
        rows.append({'fig': fig, 'claim': claim, 'kind': kind, 'why': why,
                     'holds': _verdict(ok), 'numbers': numbers})

    f6 = res['fig6']
    theta = np.array(f6['theta'])
    dev, srv = np.array(f6['device_accuracy']), np.array(f6['server_accuracy'])
    inner = slice(1, -1)
    add('6', 'server-centric accuracy > device-centric for every threshold',
        bool(np.all(srv[inner] > dev[inner])),
        f'min gap over 0<θ<1: {np.min(srv[inner] - dev[inner]):.3f}; equal at θ=0 and θ=1 '
        f'(both degenerate: {dev[0]:.2f}, {dev[-1]:.2f})')
    for key, acc in (('device', dev), ('server', srv)):
        best = theta[np.argmax(acc)]
        lowest = {suffix: theta[np.argmin(_finite(f6[f'{key}_mpjpe_mm{suffix}']))]
                  for suffix in ('', '_robust')}
        same = {suffix: abs(best - b) < 1e-9 for suffix, b in lowest.items()}
        near = {suffix: abs(best - b) <= 0.1 + 1e-9 for suffix, b in lowest.items()}
        add('6', f'{key}-centric: interior optimum; argmax accuracy = argmin MPJPE',
            (0 < best < 1 and same['']) or
            ('partly' if 0 < best < 1 and (near[''] or near['_robust']) else False),
            f'accuracy peaks at θ={best:.2f} ({acc.max():.3f}); MPJPE lowest at '
            f'θ={lowest[""]:.2f} (plain DLT, {np.nanmin(f6[f"{key}_mpjpe_mm"]):.0f} mm) / '
            f'θ={lowest["_robust"]:.2f} (with outlier rejection, '
            f'{np.nanmin(f6[f"{key}_mpjpe_mm_robust"]):.0f} mm)')
    f7 = res['fig7']
    for key, direction, text in (('theta_low', -1, 'lowering θL'),
                                 ('theta_high', 1, 'raising θH')):
        pts = f7[key]
        moved = direction * np.array([p[key] for p in pts])
        trend = {m: stats.spearmanr(moved, [p[m] for p in pts]).statistic
                 for m in ('accuracy', 'mpjpe_mm', 'mpjpe_robust_mm', 'delay_s')}
        first, last = (pts[-1], pts[0]) if direction < 0 else (pts[0], pts[-1])
        ok = trend['accuracy'] > 0.9 and trend['mpjpe_mm'] < -0.9 and trend['delay_s'] > 0.9
        add('7', f'{text} raises accuracy, lowers MPJPE, raises delay (θS=0.3)',
            ok or ('partly' if trend['accuracy'] > 0.9 and trend['delay_s'] > 0.9 else False),
            f'accuracy {first["accuracy"]:.3f}→{last["accuracy"]:.3f}, delay '
            f'{first["delay_s"]:.3f}→{last["delay_s"]:.3f} s, MPJPE '
            f'{first["mpjpe_mm"]:.0f}→{last["mpjpe_mm"]:.0f} mm (plain DLT) / '
            f'{first["mpjpe_robust_mm"]:.0f}→{last["mpjpe_robust_mm"]:.0f} mm (rejection); '
            f'Spearman ρ: accuracy {trend["accuracy"]:+.2f}, MPJPE {trend["mpjpe_mm"]:+.2f} / '
            f'{trend["mpjpe_robust_mm"]:+.2f}, delay {trend["delay_s"]:+.2f}')

    f8 = res['fig8']
    req = np.array(f8['x'])
    metrics = ('accuracy', 'mpjpe_mm', 'delay_s', 'feasible', 'solve_time_s')
    s = {name: {m: _series(f8, name, m) for m in metrics}
         for name in SCHEMES + ('exhaustive',) if name in f8}
    others = [n for n in SCHEMES if n != 'device_centric']
    add('8', 'device-centric: flat, lowest delay, worst MPJPE',
        bool(np.ptp(s['device_centric']['delay_s']) < 1e-12
             and all(np.all(s['device_centric']['delay_s'] <= s[n]['delay_s'] + 1e-12)
                     for n in others)
             and all(np.all(s['device_centric']['mpjpe_mm'] >= s[n]['mpjpe_mm'])
                     for n in others)),
        f'delay {s["device_centric"]["delay_s"][0]:.3f} s, MPJPE '
        f'{s["device_centric"]["mpjpe_mm"][0]:.0f} mm at every D_req ({solver}: '
        f'{s[solver]["mpjpe_mm"][0]:.0f}→{s[solver]["mpjpe_mm"][-1]:.0f} mm)')
    srv = s['server_centric']
    violated = req[srv['delay_s'] > req]
    best = all(np.all(srv['mpjpe_mm'] <= s[n]['mpjpe_mm']) for n in others
               if n != 'server_centric')
    add('8', 'server-centric: flat, best MPJPE, delay > D_req',
        bool(best and violated.size == req.size) or
        ('partly' if violated.size else False),
        f'delay {srv["delay_s"][0]:.3f} s (> D_req for D_req ≤ {violated.max():.1f} s)'
        f'; MPJPE {srv["mpjpe_mm"][0]:.0f} mm vs {solver} '
        f'{s[solver]["mpjpe_mm"][-1]:.0f} mm at D_req=1 s'
        if violated.size else f'delay {srv["delay_s"][0]:.3f} s never exceeds D_req')
    for name in ('cascade', solver):
        # The surrogate MPJPE is noisy (outlier views): judge its trend by rank correlation.
        mono = bool(stats.spearmanr(req, s[name]['mpjpe_mm']).statistic <= -0.8
                    and np.all(np.diff(s[name]['accuracy']) >= -1e-9))
        feasible = s[name]['feasible']
        add('8', f'{_role(name)}: MPJPE falls as D_req grows, delay ≤ D_req, saturates',
            bool(mono and np.all(feasible == 1.0)) or ('partly' if mono else False),
            f'MPJPE {s[name]["mpjpe_mm"][0]:.0f}→{s[name]["mpjpe_mm"][-1]:.0f} mm, accuracy '
            f'{s[name]["accuracy"][0]:.3f}→{s[name]["accuracy"][-1]:.3f}; feasible share '
            f'{feasible.min():.2f}–{feasible.max():.2f}; delay at D_req=1 s '
            f'{s[name]["delay_s"][-1]:.3f} s')
    gap = s[solver]['accuracy'] - s['cascade']['accuracy']
    add('8', 'proposed beats cascade', bool(np.all(gap >= -1e-9) and gap.max() > 0),
        f'accuracy gain {gap.min():+.4f}…{gap.max():+.4f}; MPJPE '
        f'{np.max(s["cascade"]["mpjpe_mm"] - s[solver]["mpjpe_mm"]):.0f} mm lower at most')
    # Equal shares are run with the enhanced search only, so this compares like with like.
    gap = s['proposed']['accuracy'] - s['proposed_fixed_tau']['accuracy']
    add('8', 'proposed w/o optimal τ is slightly worse', bool(np.all(gap >= -1e-9)),
        f'accuracy loss {gap.min():.4f}…{gap.max():.4f} (enhanced search with and without '
        '(39))')
    gaps = exhaustive_gaps(f8)[solver]
    add('8', 'exhaustive search only negligibly better; 0.015 s vs > 300 s per point',
        bool(gaps['worst'] < 0.01) or ('partly' if gaps['mean'] < 0.01 else False),
        f'{solver}: accuracy gap to exhaustive {100 * gaps["worst"]:.2f} % worst, '
        f'{100 * gaps["mean"]:.2f} % mean over {gaps["instances"]} instances (the same '
        f'{f8["exhaustive"][0]["draws"]} draws × {req.size} D_req); solve time {solver} '
        f'{1e3 * np.median(s[solver]["solve_time_s"]):.1f} ms, exhaustive (pruned, exact) '
        f'{np.median(s["exhaustive"]["solve_time_s"]):.2f} s (medians of the per-point means)')

    f9 = res['fig9']
    n = np.array(f9['x'])
    srv = _series(f9, 'server_centric', 'delay_s')
    fit = stats.linregress(n, srv)
    prop = _series(f9, solver, 'mpjpe_mm')
    robust = _series(f9, solver, 'mpjpe_robust_mm')
    acc = _series(f9, solver, 'accuracy')
    rho = {k: stats.spearmanr(n, v).statistic for k, v in (('plain', prop), ('robust', robust))}
    add('9', 'proposed MPJPE falls with N, then saturates',
        bool(rho['plain'] <= -0.7) or ('partly' if prop[-1] < prop[0] else False),
        f'MPJPE {", ".join(f"{v:.0f}" for v in prop)} mm (plain DLT) / '
        f'{", ".join(f"{v:.0f}" for v in robust)} mm (rejection) for N=2…8; mean accuracy '
        f'{acc[0]:.3f}→{acc[-1]:.3f}: with (15) summed over cameras each camera gets less '
        'airtime as N grows, so it offloads less')
    add('9', 'server-centric delay grows ~linearly with N, > 0.5 s even at N=2',
        bool(fit.rvalue ** 2 > 0.95 and srv[0] > 0.5) or
        ('partly' if fit.rvalue ** 2 > 0.9 else False),
        f'{srv[0]:.2f} s at N=2 … {srv[-1]:.2f} s at N=8 (linear fit R²={fit.rvalue ** 2:.3f})')
    feas = {name: _series(f9, name, 'feasible') for name in ('cascade', solver)}
    add('9', 'cascade and proposed always ≤ 0.5 s',
        bool(all(np.all(f == 1.0) for f in feas.values())),
        ', '.join(f'{k}: feasible share ≥ {v.min():.2f}, delay ≤ '
                  f'{_series(f9, k, "delay_s").max():.3f} s' for k, v in feas.items()))

    f10 = res['fig10']
    g = np.array(f10['x'])
    srv = _series(f10, 'server_centric', 'delay_s')
    add('10', 'device-centric flat in the channel gain',
        bool(np.ptp(_series(f10, 'device_centric', 'mpjpe_mm')) < 1e-9),
        f'MPJPE {_series(f10, "device_centric", "mpjpe_mm")[0]:.0f} mm, delay '
        f'{_series(f10, "device_centric", "delay_s").min():.3f}–'
        f'{_series(f10, "device_centric", "delay_s").max():.3f} s')
    add('10', 'server-centric delay falls with ḡ but is still > 0.5 s at −60 dB',
        bool(np.all(np.diff(srv) < 0) and srv[-1] > 0.5),
        f'{srv[0]:.2f} s at {g[0]} dB → {srv[-1]:.3f} s at {g[-1]} dB')
    prop, srvm = _series(f10, solver, 'mpjpe_mm'), _series(f10, 'server_centric', 'mpjpe_mm')
    acc = _series(f10, solver, 'accuracy'), _series(f10, 'server_centric', 'accuracy')
    feasible = _series(f10, solver, 'feasible')[-1] == 1.0
    add('10', 'proposed reaches server-centric MPJPE within D_req at high ḡ',
        bool(prop[-1] <= 1.05 * srvm[-1] and feasible) or
        ('partly' if acc[0][-1] >= acc[1][-1] and feasible else False),
        f'at {g[-1]} dB: {solver} {prop[-1]:.0f} mm vs server-centric {srvm[-1]:.0f} mm '
        f'(accuracy {acc[0][-1]:.3f} vs {acc[1][-1]:.3f}; the surrogate gives device keypoints '
        f'8 px noise, server ones 3 px); at {g[0]} dB: {prop[0]:.0f} vs {srvm[0]:.0f} mm')

    f11 = res['fig11']
    kb = np.array(f11['x'])
    for name in ('cascade', solver):
        mp = _series(f11, name, 'mpjpe_mm')
        add('11', f'{_role(name)}: MPJPE grows with S_I, delay ≤ 0.5 s',
            bool(np.all(np.diff(mp) >= -1.0) and mp[-1] > mp[0]
                 and np.all(_series(f11, name, 'feasible') == 1.0)),
            f'MPJPE {mp[0]:.0f}→{mp[-1]:.0f} mm for S_I=2→128 KB; max delay '
            f'{_series(f11, name, "delay_s").max():.3f} s')
    srv, prop = _series(f11, 'server_centric', 'delay_s'), _series(f11, solver, 'delay_s')
    faster = kb[srv < prop]
    add('11', 'server-centric delay below proposed only for S_I < 4 KB',
        bool(faster.size and faster.max() < 4) if faster.size else 'no (never below)',
        f'server-centric faster at S_I ∈ {faster.tolist()} KB; delays at 2 KB: server '
        f'{srv[0]:.3f} s, {solver} {prop[0]:.3f} s')

    f12 = res['fig12']
    ms = np.array(f12['x'])
    dev = _series(f12, 'device_centric', 'delay_s')
    offset = (dev - ms / 1e3) * 1e3
    add('12', 'device-centric delay ≈ T_d^I + 35.5 ms',
        bool(np.all(np.abs(offset - 35.5) < 2.0)),
        f'delay − T_d^I = {offset.min():.1f}…{offset.max():.1f} ms')
    feas = _series(f12, solver, 'feasible')
    limit = 0.5 - OTHER_FIXED_S
    ok = bool(np.all(feas[ms / 1e3 < limit - 0.01] == 1.0) and np.all(feas[ms / 1e3 > limit] == 0))
    add('12', 'proposed feasible only while T_d^I ≲ D_req − 35.5 ms, then device-centric',
        ok, f'feasible share {", ".join(f"{v:.2f}" for v in feas)} for T_d^I = '
        f'{", ".join(str(v) for v in ms)} ms (bound {limit * 1e3:.1f} ms)')
    return rows


# -- measured (real pipeline) ----------------------------------------------------------------

def measured(requirements, duration, cameras):
    """Run the node graph on the virtual rig: two presets and the allocator per requirement."""
    from mec_coop.cli import run_graph
    from mec_coop.graph import load_config

    runs = [('device_centric', None), ('server_centric', None)]
    runs += [(solver, d) for solver in ('paper_literal', 'proposed') for d in requirements]
    rows = []
    for scheme, req in runs:
        label = scheme if req is None else f'{scheme}_{req:g}s'
        out = RESULTS / 'paper_measured' / label
        overrides = [f'graph.cameras={cameras}', 'evaluator.record=false',
                     f'graph.delay_requirement_s={req or 0.5}']
        if req is None:
            overrides.append(f'graph.mode={scheme}')
        else:
            overrides += ['graph.allocator=true', f'allocator.solver={scheme}']
        print(f'[measured] {label}: {duration:.0f} s')
        summary = run_graph(load_config('virtual_rig', overrides), duration, out) or {}
        rows.append({'scheme': scheme, 'delay_requirement_s': req or 0.5,
                     'allocator': req is not None, 'duration_s': duration,
                     'predicted': _allocator_prediction(out / 'logs' / 'allocator.log'),
                     **{k: summary.get(k) for k in ('mpjpe_mm', 'pck_150mm', 'skeleton_rate',
                                                    'delay_s', 'delay_within_requirement',
                                                    'offload_ratio', 'routes',
                                                    'ground_truth_frames')}})
    return rows


def _allocator_prediction(log):
    """Return the allocator's last logged (predicted delay, accuracy), or None."""
    if not log.exists():
        return None
    found = re.findall(r'-> predicted delay ([\d.]+) s, accuracy ([\d.]+)', log.read_text())
    return [float(v) for v in found[-1]] if found else None


# -- report ----------------------------------------------------------------------------------

# Why claims fail here: structural reasons of the reconstruction and the surrogate, so they do
# not depend on the draws.
READING = [
    '**Why some claims do not hold here.**', '',
    '* *MPJPE vs accuracy (Figs. 6-7, Lemma 1).* Accuracy (9) counts every wrong decision '
    'alike. In the surrogate a kept negative view is an outlier pose that corrupts the DLT '
    'of its whole frame, while a dropped positive only removes one view, so MPJPE prefers '
    'higher thresholds than accuracy does; outlier rejection narrows the gap. Lemma 1 is an '
    'engineering argument (reconstruction note A.6) and does not survive such asymmetric costs.',
    '* *Lowering θL at θS = 0.3 (Fig. 7).* The extra forwarded frames are mostly negatives, '
    'and the server keeps a negative whenever its score is ≥ 0.3 (22 % of Y⁻ = Beta(1.5, 6)), '
    'so accuracy peaks near θL = 0.3 and falls below it, and MPJPE rises throughout.',
    '* *Device-centric worst MPJPE (Fig. 8).* The cascade (θL = 0, never drops) is worse at '
    'tight requirements: without budget to offload it sends its own keypoints of '
    'low-confidence frames, negatives included.',
    '* *MPJPE vs N (Fig. 9).* The reconstructed (15) adds the airtime terms a_n/τ_n of all '
    'cameras, so at a fixed D_req each added camera leaves every camera less to offload: mean '
    'accuracy falls with N and the surrogate MPJPE rises after N = 3 (more views, but more '
    'outlier views too). Server-centric misses 0.5 s from N = 3 on, not at N = 2 (0.38 s; '
    'reconstruction note A.4 already found this needs a very large gain spread).',
    '* *Algorithm 1 as written against the enhanced search (Figs. 8-12).* Judged with the '
    'shares of the previous share step, a camera that offloads nothing has no airtime and can '
    'never start offloading, and one-camera sweeps cannot trade load between two cameras; '
    'where `paper_literal` falls short of exhaustive search or of the cascade, that is why. '
    'The enhanced search (closed-form shares for every candidate, pair exchange) removes both.',
    '* *Server-centric faster for small images (Fig. 11).* In (19) server-centric always pays '
    'N·t_s of re-inference and sends every frame, whereas the proposed solution drops some '
    'frames; it is never faster here, even at 2 KB.',
]


def _claim_table(rows, enhanced, kind):
    """Markdown rows of one kind of claim: verdicts of both solvers, numbers of Algorithm 1."""
    picked = [(r, e) for r, e in zip(rows, enhanced) if r['kind'] == kind]
    lines = ['| Fig. | Claim (reconstruction note A.11) | Why this kind | Holds: Algorithm 1 '
             'as written (`paper_literal`) | Holds: enhanced (`proposed`) | Numbers '
             '(`paper_literal`) |', '|---|---|---|---|---|---|']
    lines += [f'| {r["fig"]} | {r["claim"]} | {r["why"]} | {r["holds"]} | {e["holds"]} | '
              f'{r["numbers"]} |' for r, e in picked]
    count = {name: {verdict: sum(x['holds'].startswith(verdict) for x in side)
                    for verdict in ('yes', 'partly', 'no')}
             for name, side in (('paper_literal', [r for r, _ in picked]),
                                ('proposed', [e for _, e in picked]))}
    lines += ['', f'{len(picked)} {kind}s. With Algorithm 1 as written: '
              + ', '.join(f'{count["paper_literal"][v]} {v}' for v in count['paper_literal'])
              + '; with the enhanced search: '
              + ', '.join(f'{count["proposed"][v]} {v}' for v in count['proposed']) + '.']
    return lines


KEPT = '*Kept from the last `--measured` run of this script'


def _previous_measured():
    """Return the measured section of the current document (kept when this build skips it)."""
    text = DOC.read_text() if DOC.exists() else ''
    head = '## Measured on the virtual rig\n'
    if head not in text:
        return ['Not run in this build of the document (`--measured`).']
    body = text.split(head, 1)[1].strip().splitlines()
    if body and body[0].startswith(KEPT):
        body = body[2:]
    note = f'{KEPT}; not re-run with this build of the model part'
    if not any(line.startswith('| paper_literal |') for line in body):
        note += '. It has no `paper_literal` rows; `--measured` runs both solvers'
    return [f'{note}.*', '', *body]


def write_doc(res, rows, enhanced, measured_rows):
    f8, run = res['fig8'], res['settings']
    reduced = (f' (reduced from the default {DEFAULT_DRAWS} draws to keep the run short on a '
               'shared 2-core machine)' if run['draws'] < DEFAULT_DRAWS else '')
    gaps = exhaustive_gaps(f8)
    lines = [
        '# Paper A, Figs. 6-12: what our reconstruction reproduces',
        '',
        'Generated by `python benchmarks/paper_figures.py` '
        f'(`--draws {run["draws"]} --frames {run["frames"]}`{reduced}; '
        f'{platform.processor() or platform.machine()}, '
        f'{os.cpu_count()} CPUs). Numbers and figures come **from the model**, not from the '
        'paper: the reconstructed accuracy (9) and delay (19) of `mec_coop.alloc` '
        '(the reconstructed model, A.3-A.9), with the [ASSUMPTION] Beta score laws of A.3 '
        '(π = 0.75) and the Table I constants (S_I = 32 KB, T_d^I = 100 ms, B = 1 MHz, '
        '`tx_model=per_second`). Figs. 6-7 use the A.11 prototype gains −100/−95/−105/−100 dB; '
        f'Figs. 8-12 average {run["draws"]} channel draws g_n ~ N(ḡ, (10 dB)²) (note A-11) at '
        'ḡ = −100 dB, N = 4, D_req = 0.5 s unless swept; every scheme, exhaustive search '
        'included, sees the same draws. MPJPE is the surrogate of note A-6 '
        '(module docstring of the script: Beta-drawn scores routed by the scheme, 8 px / 3 px '
        'keypoint noise for device / server results, negatives kept become outlier poses, plain '
        'DLT on the virtual-rig layout), so its absolute values are not comparable with the '
        "paper's; its trends are. The paper's own operating points were lost (the reconstruction, "
        '"What could and could not be recovered"), so a claim "holds" when the trend or '
        'inequality it states holds here.',
        '',
        '**Which solver is which.** `paper_literal` is Algorithm 1 as the paper writes it '
        '(Gauss-Seidel sweeps over the cameras, candidates judged with the shares of the previous '
        "share step, no joint moves): **the paper's method**; the claims are judged with it. "
        "`proposed` is **the project's enhancement** and the allocator's default "
        '(marginal-utility greedy, randomised sweeps and pair exchange, closed-form shares (39) '
        'for every candidate); its verdict is the second "Holds" column. `proposed_fixed_tau` '
        'is the enhanced search with equal shares.',
        '',
        '## Reproductions (the model could have failed them)',
        '',
        *_claim_table(rows, enhanced, REPRODUCED),
        '',
        '## Consistency checks (hold by construction)',
        '',
        'These follow from how the model, the assumed laws or the solvers are built (or were '
        'the reason a reconstruction choice was made); they show the implementation agrees '
        'with itself, not that the paper is reproduced.',
        '',
        *_claim_table(rows, enhanced, BY_CONSTRUCTION),
        '',
        '### Numbers with the enhanced search where they differ',
        '',
        '| Fig. | Claim | Numbers (`proposed`) |', '|---|---|---|',
    ]
    lines += [f'| {e["fig"]} | {e["claim"]} | {e["numbers"]} |'
              for r, e in zip(rows, enhanced) if e['numbers'] != r['numbers']]
    lines += ['', *READING, '',
              '## Solvers against exhaustive search (Fig. 8 instances)', '',
              f'Every (draw, D_req) instance of Fig. 8 ({run["draws"]} draws × '
              f'{len(f8["x"])} requirements, N = 4, K = 20) solved by each solver and by '
              'exhaustive search (exact, pruned); gap = relative accuracy loss against the '
              'optimum, over the instances where anything is feasible.', '',
              '| Solver | What it is | worst gap | mean gap | optimal on | median solve time |',
              '|---|---|---|---|---|---|']
    roles = {'paper_literal': "Algorithm 1 as written (the paper's method)",
             'proposed': 'enhanced search (ours, default)'}
    for name, gap in gaps.items():
        lines.append(f'| `{name}` | {roles[name]} | {100 * gap["worst"]:.2f} % | '
                     f'{100 * gap["mean"]:.3f} % | {100 * gap["optimal_share"]:.0f} % of '
                     f'{gap["instances"]} | {1e3 * gap["solve_time_s"]:.1f} ms |')
    lines += [f'| `exhaustive` | reference | 0 | 0 | all | '
              f'{np.median([p["solve_time_s"] for p in f8["exhaustive"]]):.2f} s |', '',
              'Solve times are medians over the requirements of the per-draw means, on this '
              'shared, loaded machine; `python benchmarks/alloc_speed.py` times the solvers '
              'alone (`docs/alloc_speed.md`).', '',
              '## Fig. 8 in numbers (N = 4, ḡ = −100 dB)', '',
              '| D_req (s) | ' + ' | '.join(LABELS.get(n, n) for n in STYLE if n in f8) + ' |',
              '|---' * (1 + sum(n in f8 for n in STYLE)) + '|']
    for i, req in enumerate(f8['x']):
        cells = [f'{f8[n][i]["mpjpe_mm"]:.0f} ({f8[n][i]["mpjpe_robust_mm"]:.0f}) mm / '
                 f'{f8[n][i]["delay_s"]:.3f} s / {f8[n][i]["accuracy"]:.3f}'
                 for n in STYLE if n in f8]
        lines.append(f'| {req:.1f} | ' + ' | '.join(cells) + ' |')
    lines += ['', 'Cells: surrogate MPJPE with plain DLT (with outlier rejection) / model delay '
              f'/ mean accuracy, averaged over the same {run["draws"]} channel draws for every '
              'column, exhaustive search included.', '']
    for number in range(6, 13):
        lines.append(f'![Fig. {number}](figures/paper_fig{number}.png)')
    lines += ['', '## Measured on the virtual rig', '']
    if measured_rows:
        lines += [
            'The real node graph (`mec_coop.cli` runner: virtual rig, camera nodes with '
            'yolo11n-pose at 320 px, TDMA uplink emulator, edge with the same weights at 960 px, '
            'evaluator against ground truth), 4 cameras, each run '
            f'{measured_rows[0]["duration_s"]:.0f} s on this machine. Presets: the `graph.mode` '
            'thresholds; `proposed`: the allocator node (proposed solver, S_I = 128 KB, the '
            "rig's JPEG size, online score update from ground truth) setting thresholds and "
            'shares live (`paper_literal` rows: the same with Algorithm 1 as written).', '',
            '| Scheme | D_req (s) | MPJPE (mm) | delay p50 / p95 (s) | within D_req | '
            'offload ratio | skeletons / GT frames | allocator prediction (delay, accuracy) |',
            '|---|---|---|---|---|---|---|---|']
        for r in measured_rows:
            delay = r.get('delay_s') or {}
            rate = r.get('skeleton_rate')
            lines.append(
                f'| {r["scheme"]} | {r["delay_requirement_s"]:g} | {_num(r.get("mpjpe_mm"))} | '
                f'{_num(delay.get("p50"), 3)} / {_num(delay.get("p95"), 3)} | '
                f'{_num(r.get("delay_within_requirement"), 2)} | '
                f'{_num(r.get("offload_ratio"), 3)} | {_num(rate, 2)} of '
                f'{r.get("ground_truth_frames")} | {r.get("predicted") or "-"} |')
        lines += ['', f'Short runs ({os.cpu_count()} CPUs, all nodes on one machine, '
                  f'{measured_rows[0]["duration_s"]:.0f} s each including model start-up), so '
                  'MPJPE and delay carry run-to-run noise; the allocator prediction is the '
                  "model (19) with Table I times, not this machine's inference times."]
    else:
        lines += _previous_measured()
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text('\n'.join(lines).rstrip() + '\n')


def _num(value, digits=1):
    return '-' if value is None else f'{value:.{digits}f}'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--draws', type=int, default=DEFAULT_DRAWS,
                        help='channel draws per point')
    parser.add_argument('--frames', type=int, default=200, help='surrogate frames per draw')
    parser.add_argument('--measured', action='store_true',
                        help='also run the real pipeline on the virtual rig (slow)')
    parser.add_argument('--requirements', type=float, nargs='+', default=[0.3, 0.5, 1.0],
                        help='delay requirements of the measured allocator runs (s)')
    parser.add_argument('--duration', type=float, default=60.0,
                        help='seconds per measured run')
    parser.add_argument('--cameras', type=int, default=4, help='cameras of the measured runs')
    parser.add_argument('--reuse-model', action='store_true',
                        help='take the model results from the last JSON instead of recomputing')
    parser.add_argument('--reuse-measured', action='store_true',
                        help='put the last measured JSON into the document without running')
    args = parser.parse_args()

    RESULTS.mkdir(parents=True, exist_ok=True)
    model_json = RESULTS / 'paper_figures.json'
    if args.reuse_model:
        res = json.loads(model_json.read_text())
    else:
        res = model_figures(args)
        model_json.write_text(json.dumps(res, indent=1))
    plot_fig6(res['fig6'])
    plot_fig7(res['fig7'])
    plot_sweep(res['fig8'], 8, r'delay requirement $D_{req}$ (s)', requirement='x')
    plot_sweep(res['fig9'], 9, 'cameras N', requirement=0.5)
    plot_sweep(res['fig10'], 10, r'mean channel gain $\bar g$ (dB)', requirement=0.5)
    plot_sweep(res['fig11'], 11, r'image size $S_I$ (KB)', requirement=0.5)
    plot_sweep(res['fig12'], 12, r'device inference time $T_d^I$ (ms)', requirement=0.5)
    rows, enhanced = claims(res, 'paper_literal'), claims(res, 'proposed')
    for row, other in zip(rows, enhanced):
        print(f'{row["fig"]:>2} {row["kind"]:<17} {row["holds"]:<6} {other["holds"]:<6} '
              f'{row["claim"]}')

    measured_json = RESULTS / 'paper_measured.json'
    measured_rows = None
    if args.measured:
        measured_rows = measured(args.requirements, args.duration, args.cameras)
        measured_json.write_text(json.dumps(measured_rows, indent=1))
    elif args.reuse_measured and measured_json.exists():
        measured_rows = json.loads(measured_json.read_text())
    write_doc(res, rows, enhanced, measured_rows)
    print(f'wrote {DOC.relative_to(ROOT)} and docs/figures/paper_fig6..12.png')


if __name__ == '__main__':
    main()
