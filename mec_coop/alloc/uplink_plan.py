# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The allocator's uplink plan: TDMA shares and each camera's JPEG quality (paper D on this uplink).

"Adaptive Compression Offloading and Resource Allocation for Edge Vision Computing" (Xiao et
al., IEEE TCCN 2024), in its TDMA form (:mod:`.cocrra_tdma`): Co-CRRA (Algorithm 1) and the
baselines of Sec. VI, FCRRA (a fixed ratio, shares from P2), FRACR (equal shares, ratios from
P1) and MSVRA (a fixed ratio, shares that maximise the sum rate). ``cocrra_instant`` is this
product's: the shares and qualities that maximise the probability that an instant has at least
:data:`~.instant.MIN_VIEWS` views on time by any route, keypoints or offload (:mod:`.instant`),
the quantity the graph measures; it replaced ``cocrra_views`` (at least two *offloads* on time),
whose objective is its special case of cameras that offload every frame. Given the cameras'
routes (:class:`~.instant.ViewRoutes`) every plan is also judged in that objective
(``UplinkPlan.instant``). ``cocrra_served`` (ours too) maximises what the recordings of the
running graph showed the instant objective leaves out (:mod:`.served`): the upload budget up to
the edge's release, no view from an image of nobody, and the measured success given how many
keypoint and image views came; every plan is judged in it as well (``UplinkPlan.served``).
``tdma`` leaves the uplink to the threshold plan of paper A (its shares, the cameras' own
quality): no plan here.

A camera compresses by choosing its JPEG quality, so P1 chooses among the ratios the qualities
of its :class:`~.cocrra_tdma.RateCurve` reach, ``o = 1 - size(q) / size(q_max)``. The curve's
shape is that of the codec the camera offloads with (:data:`RELATIVE_SIZE`, measured on the
virtual rig: plain JPEG, or region-wise whose background level does not follow the quality),
scaled by the offload size the camera's offloads show at the quality it runs
(:func:`rate_curve`). Accuracy on compressed
data is the paper's ``eta(o)`` (normalised); it knows nothing of pose, so ``min_quality`` keeps
the qualities where the measured pose error stays flat.
"""

from dataclasses import dataclass, replace
import math
from typing import Optional, Sequence

import numpy as np

from mec_coop.alloc.cocrra import eta
from mec_coop.alloc.cocrra_tdma import (at_least, best_ratios, co_crra_tdma, delivery,
                                        RateCurve, share_starts, solve_shares, TdmaLink)
from mec_coop.alloc.instant import instant_success, MIN_VIEWS, solve_instant, ViewRoutes
from mec_coop.alloc.model import SystemParams
from mec_coop.alloc.served import served_success, solve_served

UPLINK_PLANS = ('tdma', 'cocrra', 'cocrra_instant', 'cocrra_served', 'fcrra', 'fracr', 'msvra')
# The JPEG qualities whose offload sizes were measured, the ones a plan chooses from.
QUALITIES = (4, 8, 15, 30, 50, 70, 90, 95)
# Offload size per JPEG quality relative to quality 90, per offload codec (the camera's
# ``offload_codec``): the shape of every camera's size-vs-quality law, measured on the virtual
# rig's 1280x720 views as the cameras get them (the rig's JPEG at 90, decoded) by
# `python benchmarks/offload_sizes.py` (docs/figures/offload_sizes.json). ``jpeg``: OpenCV
# JPEG, 177, 129, 56, 42, 32, 23, 19, 17 KB. ``regionwise``: the people at the quality, the
# background at its fixed level, 18.6, 16.0, 11.9, 11.1, 9.9, 8.8, 8.0, 7.4 KB: lowering the
# quality saves far less than on a plain JPEG.
RELATIVE_SIZE = {
    'jpeg': {95: 1.3749, 90: 1.0, 70: 0.4375, 50: 0.3227, 30: 0.2489, 15: 0.1792, 8: 0.1457,
             4: 0.1286},
    'regionwise': {95: 1.1601, 90: 1.0, 70: 0.7442, 50: 0.6922, 30: 0.6205, 15: 0.5515,
                   8: 0.4979, 4: 0.4604},
}
# A new plan replaces the one in place only when it is better by more than this, in the
# plan's own objective (a success probability) judged on the same inputs: the measured sizes and
# t0 move between re-plans, and each change of share re-times the cameras' queues.
HOLD_MARGIN = 0.05
# Below quality 30 the 3D error of plain JPEG offloads jumps (MPJPE 66 mm at 30, 108 mm at 15,
# `python benchmarks/compression.py`).
MIN_QUALITY = 30


def _curve(codec: str) -> dict:
    if codec not in RELATIVE_SIZE:
        raise ValueError(f'no measured size curve for offload codec {codec!r}, one of '
                         f'{sorted(RELATIVE_SIZE)}')
    return RELATIVE_SIZE[codec]


def relative_size(quality: float, codec: str = 'jpeg') -> float:
    """Size at ``quality`` relative to quality 90 (log-linear between measured qualities)."""
    shape = _curve(codec)
    q = np.array(QUALITIES, dtype=float)
    if not q[0] <= quality <= 100:
        raise ValueError(f'JPEG quality must be in [{int(q[0])}, 100], got {quality}')
    logs = np.log([shape[int(k)] for k in q])
    # Above 95 the last measured slope continues.
    slope = (logs[-1] - logs[-2]) / (q[-1] - q[-2])
    value = np.interp(quality, q, logs) if quality <= q[-1] else logs[-1] + slope * (
        quality - q[-1])
    return float(np.exp(value))


def rate_curve(size_bytes: float, quality: int, min_quality: int = MIN_QUALITY,
               max_quality: int = 95, codec: str = 'jpeg') -> RateCurve:
    """
    Return a camera's size-vs-quality law for its offload ``codec``.

    The measured qualities in ``[min_quality, max_quality]``, scaled so that ``quality`` (the
    one it runs) gives ``size_bytes`` (what its offloads measured).
    """
    if not (size_bytes > 0 and math.isfinite(size_bytes)):
        raise ValueError(f'offload size must be positive, got {size_bytes}')
    shape = _curve(codec)
    qualities = tuple(q for q in QUALITIES if min_quality <= q <= max_quality)
    if not qualities:
        raise ValueError(f'no measured JPEG quality in [{min_quality}, {max_quality}]')
    scale = size_bytes / relative_size(quality, codec)
    return RateCurve(qualities, tuple(scale * shape[q] for q in qualities))


def upload_deadline(params: SystemParams) -> float:
    """
    ``t0``: the requirement less every delay term of paper A's (19) but the uplink's (s).

    At most one frame period: paper D has one upload per user and no queue, but a camera
    offloads frame after frame, and uploads longer than the period pile up in its FIFO (seen in
    the graph: with ``t0`` up to 0.85 s at 2 fps Co-CRRA chose qualities 50-70, whose uploads
    outlasted the 0.5 s frame period on a 0.2 MHz link).
    """
    return min(params.delay_req_s - (params.device_inference_s + params.device_processing_s
                                     + params.server_inference_s + params.server_processing_s
                                     + params.bs_to_server_s + params.server_to_client_s),
               1.0 / params.frame_rate_hz)


@dataclass(frozen=True)
class UplinkPlan:
    """Shares, JPEG qualities, planned offload sizes (bytes) and success ``Phi`` per camera."""

    method: str
    shares: np.ndarray
    qualities: tuple
    ratios: np.ndarray
    sizes_bytes: np.ndarray
    success: np.ndarray
    t0_s: float
    held: bool = False   # the plan in place, kept because the new one was not clearly better
    # The same shares and qualities under paper D's literal model (exp(-x^2/2)), beside
    # ``success`` (the link's own model, :data:`~.cocrra_tdma.DELIVERY_MODELS`).
    paper_success: Optional[np.ndarray] = None
    model: str = 'paper'   # the delivery model ``success`` was computed with
    # The probability that an instant has MIN_VIEWS views on time by any route (None: the
    # cameras' routes were not known), :func:`~.instant.instant_success`.
    instant: Optional[float] = None
    routes: Optional[ViewRoutes] = None   # the routes ``instant`` was judged with
    # The probability that an instant succeeds as the edge serves it (None: routes not known),
    # :func:`~.served.served_success` with the upload budget up to the edge's release.
    served: Optional[float] = None
    release_t0_s: Optional[float] = None   # that budget (s)

    @property
    def mean_success(self) -> float:
        return float(np.mean(self.success))

    @property
    def mean_paper_success(self) -> float:
        """Mean success of the plan under paper D's literal model."""
        return float(np.mean(self.success if self.paper_success is None else self.paper_success))

    @property
    def value(self) -> float:
        """Return the objective of the plan's method: instant success or mean success."""
        if self.method == 'cocrra_instant':
            assert self.instant is not None   # plan_uplink needs the routes for it
            return self.instant
        if self.method == 'cocrra_served':
            assert self.served is not None
            return self.served
        return self.mean_success

    @property
    def views_success(self) -> float:
        """Probability that at least two cameras' offloads succeed (independently)."""
        return at_least(self.success, MIN_VIEWS)


def _successes(achieved: np.ndarray, tau, d: np.ndarray, link: TdmaLink
               ) -> tuple[np.ndarray, np.ndarray]:
    """Per-camera success under the link's model and under paper D's literal model."""
    return tuple(eta(achieved) * delivery(achieved, tau, d, lk)
                 for lk in (link, replace(link, model='paper')))


def _ratio(curve: RateCurve, quality: int) -> float:
    return 1.0 - curve.sizes[curve.qualities.index(quality)] * 8.0 / curve.full_bits


def plan_uplink(method: str, curves: Sequence[RateCurve], link: TdmaLink,
                fixed_quality: int = 90, routes: Optional[ViewRoutes] = None,
                release_t0_s: Optional[float] = None) -> UplinkPlan:
    """
    Solve the uplink plan ``method`` (one of :data:`UPLINK_PLANS` but ``tdma``).

    :param curves: each camera's size-vs-quality law (:func:`rate_curve`).
    :param link: the band, power, gains, ``t0`` and the least share.
    :param fixed_quality: the quality of FCRRA and MSVRA (their fixed ratio); it must be one of
        every curve's qualities.
    :param routes: the cameras' routes; ``cocrra_instant`` and ``cocrra_served`` need them,
        and with them every plan carries its instant and served success.
    :param release_t0_s: the upload budget up to the edge's release (the served objective's
        ``t0``; None: ``link.t0_s``).
    """
    if method not in UPLINK_PLANS or method == 'tdma':
        raise ValueError(f'uplink plan must be one of {UPLINK_PLANS[1:]}, got {method!r}')
    if method in ('cocrra_instant', 'cocrra_served') and routes is None:
        raise ValueError(f"{method} needs the cameras' routes")
    if len(curves) != len(link.gains):
        raise ValueError(f'{len(curves)} rate curves for {len(link.gains)} cameras')
    d = np.array([c.full_bits for c in curves])
    # Most compression first: where no ratio can make t0 (every Phi 0), the smallest offload
    # wins the tie, not the largest, which would only lengthen the camera's uplink queue.
    grid = np.unique(np.concatenate([[_ratio(c, q) for q in c.qualities] for c in curves]))[::-1]
    u = len(curves)
    if method in ('fcrra', 'msvra'):
        missing = [i for i, c in enumerate(curves) if fixed_quality not in c.qualities]
        if missing:
            raise ValueError(f'fixed quality {fixed_quality} is not on the rate curves of '
                             f'cameras {missing}')
        o = np.array([_ratio(c, fixed_quality) for c in curves])
        if method == 'fcrra':
            tau = max((solve_shares(o, d, link, eta(o), start)
                       for start in share_starts(u, link.min_share)),
                      key=lambda t: float(np.sum(eta(o) * delivery(o, t, d, link))))
        else:
            # The sum rate is linear in the shares: all spare airtime to the strongest channel.
            tau = np.full(u, link.min_share)
            tau[int(np.argmax(link.gains))] += 1.0 - u * link.min_share
    elif method == 'fracr':
        tau = np.full(u, 1.0 / u)
        o = best_ratios(d, tau, link, grid)
    elif method == 'cocrra':
        o, tau, _ = co_crra_tdma(d, link, grid=grid)
    elif method == 'cocrra_served':
        assert routes is not None
        o, tau, _ = solve_served(d, _release_link(link, release_t0_s), routes, grid,
                                 _baseline_shares(curves, link, fixed_quality))
    else:
        # Started from (and never below) the paper's plans and the baselines' shares.
        assert routes is not None
        o, tau, _ = solve_instant(d, link, routes, grid,
                                  _baseline_shares(curves, link, fixed_quality))
    qualities = tuple(c.quality_for(r) for c, r in zip(curves, o))
    tau = np.asarray(tau, dtype=float)
    return UplinkPlan(method, tau, qualities,
                      **_scored(qualities, tau, curves, link, routes, release_t0_s))


def _baseline_shares(curves: Sequence[RateCurve], link: TdmaLink, fixed_quality: int) -> list:
    """List the shares of paper D's plans and baselines (the product's plans start from them)."""
    return [plan_uplink(m, curves, link, fixed_quality).shares
            for m in ('cocrra', 'fracr', 'fcrra', 'msvra')]


def _release_link(link: TdmaLink, release_t0_s: Optional[float]) -> TdmaLink:
    return link if release_t0_s is None else replace(link, t0_s=max(release_t0_s, 1e-3))


def _scored(qualities: tuple, tau: np.ndarray, curves: Sequence[RateCurve], link: TdmaLink,
            routes: Optional[ViewRoutes], release_t0_s: Optional[float] = None) -> dict:
    """Return the :class:`UplinkPlan` fields that shares and qualities give on these inputs."""
    d = np.array([c.full_bits for c in curves])
    sizes = np.array([c.sizes[c.qualities.index(q)] for c, q in zip(curves, qualities)])
    achieved = 1.0 - 8.0 * sizes / d
    success, paper = _successes(achieved, tau, d, link)
    instant = served = None
    if routes is not None:
        instant = float(instant_success(achieved, tau, d, link, routes))
        served = float(served_success(achieved, tau, d, _release_link(link, release_t0_s),
                                      routes))
    return {'ratios': achieved, 'sizes_bytes': sizes, 'success': success, 't0_s': link.t0_s,
            'paper_success': paper, 'model': link.model, 'instant': instant, 'routes': routes,
            'served': served, 'release_t0_s': release_t0_s}


def judged(plan: UplinkPlan, curves: Sequence[RateCurve], link: TdmaLink,
           routes: Optional[ViewRoutes] = None,
           release_t0_s: Optional[float] = None) -> Optional[UplinkPlan]:
    """
    Return ``plan``'s shares and qualities with their success on other inputs.

    None where they cannot run there: another number of cameras, a quality off a camera's
    curve, or a share under the link's least share.
    """
    if len(curves) != len(plan.qualities) or len(link.gains) != len(plan.qualities) or any(
            q not in c.qualities for c, q in zip(curves, plan.qualities)) or np.any(
            plan.shares < link.min_share - 1e-12):
        return None
    return replace(plan, **_scored(plan.qualities, plan.shares, curves, link, routes,
                                   release_t0_s))


def hold_plan(previous: Optional[UplinkPlan], new: UplinkPlan, curves: Sequence[RateCurve],
              link: TdmaLink, margin: float = HOLD_MARGIN,
              routes: Optional[ViewRoutes] = None,
              release_t0_s: Optional[float] = None) -> UplinkPlan:
    """
    Keep ``previous`` unless ``new`` is clearly better on the current inputs (hysteresis).

    Both are judged on ``curves``, ``link`` and ``routes`` (``new`` was solved on them) in the
    plan's own objective (:attr:`UplinkPlan.value`); ``new`` replaces
    the plan in place when its objective exceeds the old plan's by more than ``margin``, when
    the method changed or when the old plan cannot run on these inputs. With unchanged inputs
    the solver returns the same plan, so the shares stay as they are either way.
    """
    if previous is None or previous.method != new.method:
        return new
    old = judged(previous, curves, link, routes, release_t0_s)
    if old is None or new.value > old.value + margin:
        return new
    return replace(old, held=True)
