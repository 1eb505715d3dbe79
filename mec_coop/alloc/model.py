# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
System model: score CDFs, accuracy (3)-(9), delay (10)-(19), schemes (20)-(25).

Equation numbers and symbols are those of "Cooperative Inference for Real-Time 3D Human Pose
Estimation in Multi-Device Edge Networks",
as reconstructed: the paper's own equations were lost in text extraction, and every
reconstructed choice (notes A-1 ... A-5 below) is a parameter here:

* Class prior (note A-1): the confusion entries (3)-(6) are joint probabilities weighted by the
  positive share :attr:`CameraModel.pi`; ``pi=0.5`` gives per-class-normalised entries.
* Uplink volume (A-2): :attr:`SystemParams.tx_model` ``'per_second'`` (default) uses
  ``T^{D->B} = sum_n Dbar_n / r_n`` as written; ``'per_frame'`` divides by the frame rate.
* Sharing the uplink (A-3): :attr:`SystemParams.uplink_combine` ``'sum'`` (default; the airtime
  of all cameras adds up, which the KKT form (39) needs) or ``'max'`` (only the slowest camera
  counts).
* ``T^{B->S}`` and ``T^{S->C}`` are the Table I constants, not (17)-(18) (A-4).
* Server-centric delay (23) keeps ``T_d^I`` (A-5):
  :attr:`SystemParams.server_centric_device_inference`.
* Server queue (12): forwarded images are re-inferred one after the other, ``t_s sum_n P^U_n``.
* Given the class, the server score is independent of the device score ((7)-(9) use the
  unconditional ``Y`` laws).
* Score laws: :mod:`mec_coop.alloc.scores` (:class:`~mec_coop.alloc.scores.CameraModel`).

All functions are vectorised: thresholds broadcast with numpy, and in multi-camera functions
the last axis indexes the cameras.
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from mec_coop.coop.routing import MODES
from mec_coop.coop.uplink import LinkBudget

TX_MODELS = ('per_second', 'per_frame')
UPLINK_COMBINES = ('sum', 'max')

# (theta^L, theta^H) of server-centric inference (23), shared with the routing presets:
# theta^H lies above every score, so no frame is kept at the camera.
SERVER_CENTRIC_THETA = (MODES['server_centric']['theta_low'],
                        MODES['server_centric']['theta_high'])


@dataclass(frozen=True)
class SystemParams:
    """
    Constants of the delay model (defaults: the paper, Table I) and the reconstructed switches.

    Sizes are in bytes (1 KB = 1024 B, note A-10), times in seconds.

    ``tx_model`` (note A-2): ``'per_second'`` takes (15) as written, ``sum_n Dbar_n / r_n`` with
    ``Dbar_n`` in bit/s; only this reproduces the paper's "server-centric misses 0.5 s even at
    -60 dB". ``'per_frame'`` uses the bits of one frame, ``sum_n Dbar_n / (lambda r_n)``.
    ``uplink_combine`` (A-3): ``'sum'`` adds the cameras' airtimes, ``'max'`` keeps the largest.
    ``server_centric_device_inference`` (A-5): whether (23) keeps ``T_d^I``.
    """

    frame_rate_hz: float = 2.0
    image_bytes: float = 32 * 1024
    message_bytes: float = 68.0
    device_inference_s: float = 0.1
    server_inference_s: float = 0.02
    device_processing_s: float = 0.01
    server_processing_s: float = 0.005
    bs_to_server_s: float = 0.0005
    server_to_client_s: float = 0.02
    delay_req_s: float = 0.5
    link: LinkBudget = LinkBudget()
    tx_model: str = 'per_second'
    uplink_combine: str = 'sum'
    server_centric_device_inference: bool = True

    def __post_init__(self):
        if self.tx_model not in TX_MODELS:
            raise ValueError(f'tx_model must be one of {TX_MODELS}, got {self.tx_model!r}')
        if self.uplink_combine not in UPLINK_COMBINES:
            raise ValueError(f'uplink_combine must be one of {UPLINK_COMBINES}, '
                             f'got {self.uplink_combine!r}')

    @property
    def fixed_delay_s(self):
        """Return the delay terms of (19) that no decision variable changes."""
        return (self.device_processing_s + self.device_inference_s + self.bs_to_server_s
                + self.server_processing_s + self.server_to_client_s)


class Confusion(NamedTuple):
    """Device-side decision probabilities (3)-(6), joint over the class (note A-1)."""

    tp: np.ndarray
    fn: np.ndarray
    fp: np.ndarray
    tn: np.ndarray
    up: np.ndarray
    un: np.ndarray


class ServerConfusion(NamedTuple):
    """Server-side rates (7)-(8) on forwarded images, conditional on the class."""

    tp: np.ndarray
    fn: np.ndarray
    fp: np.ndarray
    tn: np.ndarray


def confusion(camera, theta_low, theta_high):
    """
    Evaluate eqs. (3)-(6) for one camera.

    :param camera: :class:`CameraModel`.
    :param theta_low: device low threshold(s), broadcast with ``theta_high``.
    :param theta_high: device high threshold(s).
    :return: :class:`Confusion` of arrays with the broadcast shape.
    """
    pos_low, pos_high = camera.x_pos(theta_low), camera.x_pos(theta_high)
    neg_low, neg_high = camera.x_neg(theta_low), camera.x_neg(theta_high)
    pi = camera.pi
    return Confusion(tp=pi * (1.0 - pos_high), fn=pi * pos_low,
                     fp=(1.0 - pi) * (1.0 - neg_high), tn=(1.0 - pi) * neg_low,
                     up=pi * (pos_high - pos_low), un=(1.0 - pi) * (neg_high - neg_low))


def server_confusion(camera, theta_server):
    """
    Evaluate eqs. (7)-(8) for the images one camera forwards.

    :param camera: :class:`CameraModel`.
    :param theta_server: server threshold(s).
    :return: :class:`ServerConfusion` of arrays shaped like ``theta_server``.
    """
    pos, neg = camera.y_pos(theta_server), camera.y_neg(theta_server)
    return ServerConfusion(tp=1.0 - pos, fn=pos, fp=1.0 - neg, tn=neg)


def accuracy(camera, theta_low, theta_high, theta_server, late=0.0):
    """
    Evaluate the inference accuracy ``A_n`` of eq. (9).

    Under the joint-probability convention the normaliser of (9) is identically 1, so it is
    left out; per-class-normalised entries correspond to ``camera.pi = 0.5``.

    ``late`` (ours; 0: eq. (9)) is the share of the offloaded images that miss the edge's
    deadline: the edge releases the instant without them, so a late positive loses the view
    and a late negative is as good as dropped (4 cameras, 0.3 s: views 0.27 s after capture,
    deadline 0.25 s).

    :param camera: :class:`CameraModel`.
    :param theta_low: device low threshold(s); the three thresholds broadcast together.
    :param theta_high: device high threshold(s).
    :param theta_server: server threshold(s).
    :param late: share of the offloaded images the deadline beats, in [0, 1].
    :return: accuracy array with the broadcast shape.
    """
    dev = confusion(camera, theta_low, theta_high)
    srv = server_confusion(camera, theta_server)
    return dev.tp + dev.tn + dev.up * srv.tp * (1.0 - late) + dev.un * (
        srv.tn * (1.0 - late) + late)


def route_probabilities(camera, theta_low, theta_high):
    """
    Evaluate eqs. (11) and (13): the probabilities that a frame is uncertain / positive.

    With measured frame scores (``camera.frame_scores``, see
    :class:`~mec_coop.alloc.scores.CameraModel`) both are read from them; the camera's audits
    then send a share ``audit_share`` of the other frames up as images too, and its searches
    a share ``search_share`` of the dropped frames no audit took (ours, :func:`_images`).

    :param camera: :class:`CameraModel`.
    :param theta_low: device low threshold(s).
    :param theta_high: device high threshold(s).
    :return: ``(p_uncertain, p_positive)``, i.e. ``(P^U_n, P^P_n)``.
    """
    uncertain, positive = _routes(camera, theta_low, theta_high)
    kept, dropped = _images(camera)
    return (uncertain + kept * positive + dropped * (1.0 - uncertain - positive),
            (1.0 - kept) * positive)


def held_probability(camera, theta_low, theta_high):
    """
    Return the share of frames that go up as images an instant waits for (ours).

    ``P^U_n`` (:func:`route_probabilities`) less the audits of frames the thresholds keep as
    keypoints: those carry the camera's keypoints as its final report, and their image only
    loads the link and the edge (``ros/conversions.py`` ``labels_only``). Audits and searches of
    dropped frames are waited for like uncertain frames.
    """
    uncertain, positive = _routes(camera, theta_low, theta_high)
    return uncertain + _images(camera)[1] * (1.0 - uncertain - positive)


def empty_probability(camera, theta_low, theta_high):
    """
    Return the share of frames sent up as images in which the camera found nobody (ours).

    Such a frame scores exactly 0 and goes up whole (a region-wise offload without people is a
    plain JPEG: about 125 KB against 15 KB here): routed when ``theta_low <= 0 < theta_high``,
    else as an audit or a search of a dropped frame (as an audit only when ``theta_high`` is 0).
    Known only from measured frame scores (0 without them). Every such image is waited for (it
    carries no keypoints).
    """
    if camera.frame_scores is None:
        return np.zeros(np.broadcast(theta_low, theta_high).shape)
    nobody = camera.frame_scores(np.nextafter(0.0, 1.0))
    low, high = np.asarray(theta_low), np.asarray(theta_high)
    kept, dropped = _images(camera)
    return nobody * np.where(high <= 0.0, kept, np.where(low <= 0.0, 1.0, dropped))


def _images(camera):
    """
    Return the shares of kept and of dropped frames that still go up as images.

    A kept frame only as a random audit (``audit_share``); a dropped one as an audit, or else
    as a search for the people the camera lost (``search_share``, ``coop/feedback.py``
    ``RoiPolicy.search``). One share for both missed the held images (46 searches and 28 audits
    in a loaded run: the replay held half the images measured).
    """
    audit = camera.audit_share
    return audit, audit + (1.0 - audit) * camera.search_share


def _routes(camera, theta_low, theta_high):
    """Return the threshold routes alone: uncertain and positive shares of the frames."""
    if camera.frame_scores is None:
        dev = confusion(camera, theta_low, theta_high)
        return dev.up + dev.un, dev.tp + dev.fp
    below_high = camera.frame_scores(theta_high)
    return below_high - camera.frame_scores(theta_low), 1.0 - below_high


def spectral_rates(cameras, params):
    """Return ``R_n = B log2(1 + P g_n / (N0 B))`` of every camera (bit/s, eq. (16))."""
    return np.array([params.link.spectral_rate_bps(c.gain_db) for c in cameras])


def uplink_load(cameras, params, p_uncertain, p_positive):
    """
    Return ``a_n``, the uplink delay each camera would cause with the whole airtime.

    Eqs. (14)-(16): ``a_n = Dbar_n / R_n`` with ``Dbar_n = lambda (P^U_n S_I + P^P_n S_M)``
    (``tx_model='per_second'``), or ``a_n = Dbar_n / (lambda R_n)`` (``'per_frame'``). With
    share ``tau_n`` the camera's term of (15) is ``a_n / tau_n``.

    :param cameras: sequence of :class:`CameraModel` (the last axis of the arrays).
    :param params: :class:`SystemParams`.
    :param p_uncertain: ``P^U_n``, shape ``(..., N)``.
    :param p_positive: ``P^P_n``, shape ``(..., N)``.
    :return: ``a_n`` in seconds, shape ``(..., N)``.
    """
    bits = uplink_bits_per_s(params, p_uncertain, p_positive) / params.frame_rate_hz
    frames_per_s = params.frame_rate_hz if params.tx_model == 'per_second' else 1.0
    return frames_per_s * bits / spectral_rates(cameras, params)


def uplink_bits_per_s(params: SystemParams, p_uncertain: np.ndarray,
                      p_positive: np.ndarray) -> np.ndarray:
    """Return ``Dbar_n = lambda (P^U_n S_I + P^P_n S_M)`` in bit/s, eq. (14)."""
    return 8.0 * params.frame_rate_hz * (np.asarray(p_uncertain) * params.image_bytes
                                         + np.asarray(p_positive) * params.message_bytes)


def optimal_shares(load, combine='sum'):
    """
    Return the TDMA shares that minimise the uplink delay, the closed form of (39).

    Derivation (``combine='sum'``): (P2-1) minimises ``C + sum_n a_n / tau_n`` subject to
    ``sum_n tau_n <= 1``, which is convex for ``tau > 0``. The KKT condition of the Lagrangian
    (36) is ``(1 + mu) a_n / tau_n^2 = nu``, i.e. (39) ``tau_n = sqrt((1 + mu) a_n / nu)``. The
    delay falls in every ``tau_n``, so ``sum_n tau_n = 1`` binds, which fixes
    ``nu = (1 + mu) (sum_m sqrt(a_m))^2`` and gives ``tau_n = sqrt(a_n) / sum_m sqrt(a_m)``
    whatever ``mu`` is: the delay constraint (28) only scales the multipliers, so the dual
    iteration (40)-(41) is not needed. The minimum is ``(sum_n sqrt(a_n))^2``; by
    Cauchy-Schwarz no other shares do better. With ``combine='max'`` the delay is
    ``max_n a_n / tau_n``, minimised by equalising the terms: ``tau_n = a_n / sum_m a_m``.

    Cameras that send nothing get no airtime; if no camera sends anything the shares are equal.

    :param load: ``a_n`` from :func:`uplink_load`, shape ``(..., N)``.
    :param combine: ``'sum'`` or ``'max'`` (:attr:`SystemParams.uplink_combine`).
    :return: shares of shape ``(..., N)``, each row summing to 1.
    """
    weight = np.sqrt(load) if combine == 'sum' else np.asarray(load, dtype=float)
    total = weight.sum(axis=-1, keepdims=True)
    equal = np.full_like(weight, 1.0 / weight.shape[-1])
    return np.divide(weight, total, out=equal, where=total > 0.0)


def uplink_delay(load, tau=None, combine='sum'):
    """
    Evaluate ``T^{D->B}`` of eq. (15) for the loads ``a_n`` and shares ``tau_n``.

    :param load: ``a_n`` from :func:`uplink_load`, shape ``(..., N)``.
    :param tau: shares, shape ``(..., N)``; ``None`` means the optimal shares of
        :func:`optimal_shares`, in closed form ``(sum_n sqrt(a_n))^2`` (``'sum'``) or
        ``sum_n a_n`` (``'max'``).
    :param combine: ``'sum'`` or ``'max'``.
    :return: delay in seconds, shape ``(...)``; infinite if a camera with load has no share.
    """
    load = np.asarray(load, dtype=float)
    if tau is None:
        return np.sqrt(load).sum(-1) ** 2 if combine == 'sum' else load.sum(-1)
    terms = airtime_terms(load, tau)
    return terms.sum(-1) if combine == 'sum' else terms.max(-1)


def airtime_terms(load, tau):
    """
    Return the per-camera terms ``a_n / tau_n`` of (15).

    A camera that sends nothing costs nothing, whatever its share (0/0 counts as 0); one that
    sends without a share costs forever (infinity).

    :param load: ``a_n``, shape ``(..., N)``.
    :param tau: shares, broadcast with ``load``.
    :return: array of the broadcast shape.
    """
    load, tau = np.broadcast_arrays(np.asarray(load, dtype=float), np.asarray(tau, dtype=float))
    with np.errstate(divide='ignore'):
        return np.divide(load, tau, out=np.zeros(load.shape), where=load > 0.0)


def delay_from_routes(cameras, params, p_uncertain, p_positive, tau=None):
    """
    Evaluate the end-to-end delay (19) from the routing probabilities of every camera.

    :param cameras: sequence of :class:`CameraModel`.
    :param params: :class:`SystemParams`.
    :param p_uncertain: ``P^U_n``, shape ``(..., N)``.
    :param p_positive: ``P^P_n``, shape ``(..., N)``.
    :param tau: shares ``(..., N)``, or ``None`` for the optimal shares (39).
    :return: delay in seconds, shape ``(...)``.
    """
    load = uplink_load(cameras, params, p_uncertain, p_positive)
    return (params.fixed_delay_s + params.server_inference_s * np.sum(p_uncertain, axis=-1)
            + uplink_delay(load, tau, params.uplink_combine))


def _per_camera(fn, cameras, *thresholds):
    """Stack ``fn(camera, *thresholds[..., n])`` over the cameras on a new last axis."""
    arrays = np.broadcast_arrays(*[np.asarray(t, dtype=float) for t in thresholds])
    if arrays[0].shape[-1:] != (len(cameras),):
        raise ValueError(f'threshold arrays need a last axis of {len(cameras)} cameras, '
                         f'got shape {arrays[0].shape}')
    results = [fn(c, *[t[..., n] for t in arrays]) for n, c in enumerate(cameras)]
    return tuple(np.stack(parts, axis=-1) for parts in zip(*results))


def end_to_end_delay(cameras, params, theta_low, theta_high, tau=None):
    """
    Evaluate the end-to-end delay (19) for per-camera device thresholds.

    :param cameras: sequence of N :class:`CameraModel`.
    :param params: :class:`SystemParams`.
    :param theta_low: shape ``(..., N)`` (broadcast with ``theta_high``).
    :param theta_high: shape ``(..., N)``.
    :param tau: shares ``(..., N)``, or ``None`` for the optimal shares (39).
    :return: delay in seconds, shape ``(...)``.
    """
    p_uncertain, p_positive = _per_camera(route_probabilities, cameras, theta_low, theta_high)
    return delay_from_routes(cameras, params, p_uncertain, p_positive, tau)


def device_centric_accuracy(camera, theta):
    """Evaluate eq. (20), ``A^dev_n = TP_n + TN_n`` at ``theta^L = theta^H = theta``."""
    return camera.pi * (1.0 - camera.x_pos(theta)) + (1.0 - camera.pi) * camera.x_neg(theta)


def device_centric_delay(cameras, params, theta, tau=None):
    """
    Evaluate eq. (21): only keypoint messages go up, the server re-infers nothing.

    :param cameras: sequence of N :class:`CameraModel`.
    :param params: :class:`SystemParams`.
    :param theta: the single device threshold per camera, shape ``(..., N)``.
    :param tau: shares ``(..., N)``, or ``None`` for the optimal shares.
    :return: delay in seconds, shape ``(...)``.
    """
    theta = np.asarray(theta, dtype=float)
    p_positive = np.stack([c.pi * (1.0 - c.x_pos(theta[..., n]))
                           + (1.0 - c.pi) * (1.0 - c.x_neg(theta[..., n]))
                           for n, c in enumerate(cameras)], axis=-1)
    load = uplink_load(cameras, params, np.zeros_like(p_positive), p_positive)
    return params.fixed_delay_s + uplink_delay(load, tau, params.uplink_combine)


def server_centric_accuracy(camera, theta_server):
    """Evaluate eq. (22), ``A^srv_n = pi_n TP^S_n + (1 - pi_n) TN^S_n``."""
    srv = server_confusion(camera, theta_server)
    return camera.pi * srv.tp + (1.0 - camera.pi) * srv.tn


def server_centric_delay(cameras, params, tau=None):
    """
    Evaluate eq. (23): every image goes up and is re-inferred (``P^U_n = 1``).

    ``T_d^I`` stays in unless ``params.server_centric_device_inference`` is false (note A-5).

    :param cameras: sequence of N :class:`CameraModel`.
    :param params: :class:`SystemParams`.
    :param tau: shares ``(..., N)``, or ``None`` for the optimal shares.
    :return: delay in seconds.
    """
    load = uplink_load(cameras, params, np.ones(len(cameras)), np.zeros(len(cameras)))
    skipped = 0.0 if params.server_centric_device_inference else params.device_inference_s
    return (params.fixed_delay_s - skipped + len(cameras) * params.server_inference_s
            + uplink_delay(load, tau, params.uplink_combine))


def cascade_accuracy(camera, theta_high, theta_server):
    """
    Evaluate eq. (24), ``A^cas_n = TP_n + UP_n TP^S_n + UN_n TN^S_n`` at ``theta^L = 0``.

    :param camera: :class:`CameraModel`.
    :param theta_high: device threshold(s), broadcast with ``theta_server``.
    :param theta_server: server threshold(s).
    :return: accuracy array.
    """
    pos, neg = camera.x_pos(theta_high), camera.x_neg(theta_high)
    srv = server_confusion(camera, theta_server)
    return camera.pi * (1.0 - pos + pos * srv.tp) + (1.0 - camera.pi) * neg * srv.tn


def cascade_delay(cameras, params, theta_high, tau=None):
    """
    Evaluate eq. (25): (19) at ``theta^L = 0``, where every frame below ``theta^H`` goes up.

    :param cameras: sequence of N :class:`CameraModel`.
    :param params: :class:`SystemParams`.
    :param theta_high: device threshold per camera, shape ``(..., N)``.
    :param tau: shares ``(..., N)``, or ``None`` for the optimal shares.
    :return: delay in seconds, shape ``(...)``.
    """
    theta_high = np.asarray(theta_high, dtype=float)
    p_uncertain = np.stack([c.pi * c.x_pos(theta_high[..., n])
                            + (1.0 - c.pi) * c.x_neg(theta_high[..., n])
                            for n, c in enumerate(cameras)], axis=-1)
    return delay_from_routes(cameras, params, p_uncertain, 1.0 - p_uncertain, tau)
