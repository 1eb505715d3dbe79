# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
System model of multi-frame inference on devices or the edge (seed 001, part B.2-B.3).

"Joint Optimization of Video-based AI Inference Tasks in MEC-assisted Augmented Reality
Systems": per device n, a model with m_n input frames runs locally (x_n = 0, CPU frequency f^L_n)
or on the edge (x_n = 1: m_n frames sent in a TDMA share tau_n, edge frequency f^E_n). Costs
(11)-(12), accuracy model (15) A(m) = a - b exp(-c m), MAC model (14) M(m) = s1 m + s0, the
per-device costs (16)-(17), and the fits of (14)-(15) to measurements. Pure numpy/scipy.

Parameters that the paper lost are the [ASSUMPTION] values of the reconstruction (B-4): 10 MHz,
-174 dBm/Hz, 0.1 W, kappa 1e-28, D = 112x112x3x8 bit, m_max 32, A_min 0.80, a, b, c = 0.90,
0.50, 0.35, s1 = 0.5e9 MAC/frame, s0 = 0.
"""

from dataclasses import dataclass

import numpy as np
from scipy.optimize import curve_fit


@dataclass(frozen=True)
class AccuracyModel:
    """Eq. (15): A(m) = a - b exp(-c m), non-decreasing and concave."""

    a: float = 0.90
    b: float = 0.50
    c: float = 0.35

    def __call__(self, m):
        return self.a - self.b * np.exp(-self.c * np.asarray(m, dtype=np.float64))

    def inverse(self, accuracy: float) -> float:
        """m_min = A^-1(A_min) (inf when A_min >= a: unreachable)."""
        if accuracy >= self.a:
            return np.inf
        return float(np.log(self.b / (self.a - accuracy)) / self.c)

    def monomial(self, m_lo: float, m_hi: float) -> tuple[float, float]:
        """
        Fit the GP surrogate of eq. (28).

        ``(b~, c~)`` of b e^{-cm} ~ b~ m^{-c~} on [m_lo, m_hi] (eq. (28)):
        least squares of ln b~ - c~ ln m against ln b - c m.
        """
        m = np.linspace(m_lo, m_hi, 64)
        slope, intercept = np.polyfit(np.log(m), np.log(self.b) - self.c * m, 1)
        return float(np.exp(intercept)), float(-slope)


@dataclass(frozen=True)
class MacModel:
    """Eq. (14): M(m) = s1 m + s0 multiply-accumulates."""

    s1: float = 0.5e9
    s0: float = 0.0

    def __call__(self, m):
        return self.s1 * np.asarray(m, dtype=np.float64) + self.s0


@dataclass(frozen=True)
class Fit:
    """A fitted model and its RMSE on the points it was fitted to."""

    params: tuple[float, ...]
    rmse: float


def fit_accuracy(m: np.ndarray, accuracy: np.ndarray) -> tuple[AccuracyModel, Fit]:
    """Least-squares fit of eq. (15) to measured accuracy per frame count."""
    m, accuracy = np.asarray(m, dtype=np.float64), np.asarray(accuracy, dtype=np.float64)

    def law(x, a, b, c):
        return a - b * np.exp(-c * x)
    p0 = (accuracy.max(), max(accuracy.max() - accuracy.min(), 1e-3) * 2, 0.5)
    params, _ = curve_fit(law, m, accuracy, p0=p0, bounds=([0, 0, 1e-3], [1.5, 5, 10]),
                          maxfev=20000)
    rmse = float(np.sqrt(np.mean((law(m, *params) - accuracy) ** 2)))
    return AccuracyModel(*map(float, params)), Fit(tuple(map(float, params)), rmse)


def fit_linear(m: np.ndarray, values: np.ndarray) -> tuple[MacModel, Fit]:
    """Least-squares fit of eq. (14) (slope, intercept) to values per frame count."""
    m, values = np.asarray(m, dtype=np.float64), np.asarray(values, dtype=np.float64)
    s1, s0 = np.polyfit(m, values, 1)
    rmse = float(np.sqrt(np.mean((s1 * m + s0 - values) ** 2)))
    return MacModel(float(s1), float(s0)), Fit((float(s1), float(s0)), rmse)


@dataclass(frozen=True)
class VideoSystem:
    """
    One cell (seed 001, Sec. VI defaults; lost values as in the module docstring).

    ``rates`` (bit/s, eq. (8)) per device; the rest are scalars shared by the devices.
    """

    rates: np.ndarray
    accuracy: AccuracyModel = AccuracyModel()
    macs: MacModel = MacModel()
    xi: float = 0.12                 # cycles per MAC
    f_edge: float = 22e9             # F^E (B-3: the capacities printed swapped)
    f_local: float = 1.8e9           # F^L_n
    kappa: float = 1e-28
    power_w: float = 0.1
    frame_bits: float = 112 * 112 * 3 * 8
    weights: tuple[float, float, float] = (0.2, 0.2, 0.6)   # w_T, w_E, w_A
    a_min: float = 0.80
    m_max: int = 32
    on_air_energy: bool = False      # B-2: E^tr = p m D / R instead of p T^tr

    @property
    def n(self) -> int:
        """Return the number of devices."""
        return len(self.rates)

    @property
    def m_min(self) -> float:
        """Relaxed lower frame bound A^-1(A_min), at least 1 (13a)-(13b)."""
        return max(1.0, self.accuracy.inverse(self.a_min))

    @property
    def frame_range(self) -> np.ndarray:
        """Integer frame counts allowed by (13a)-(13b)."""
        lo = int(np.ceil(self.m_min - 1e-9))
        if lo > self.m_max:
            raise ValueError(f'A_min={self.a_min} needs m >= {self.m_min:.2f} > m_max='
                             f'{self.m_max}: infeasible')
        return np.arange(lo, self.m_max + 1)

    @property
    def omega(self) -> np.ndarray:
        """omega_n = w_T + w_E p_n (17); w_T alone with on-air transmit energy (B-2)."""
        w_t, w_e, _ = self.weights
        return np.full(self.n, w_t + (0.0 if self.on_air_energy else w_e * self.power_w))

    def local_cost(self, m, f):
        """C^L_n(m, f^L), eq. (16)."""
        w_t, w_e, w_a = self.weights
        return self.xi * self.macs(m) * (w_t / f + w_e * self.kappa * f ** 2) \
            - w_a * self.accuracy(m)

    def edge_cost(self, m, tau, f, n):
        """C^E_n(m, tau, f^E) of devices ``n``, eq. (17) (plus w_E p m D / R on air, B-2)."""
        w_t, w_e, w_a = self.weights
        bits = np.asarray(m, dtype=np.float64) * self.frame_bits / self.rates[n]
        on_air = w_e * self.power_w * bits if self.on_air_energy else 0.0
        return self.omega[n] * bits / tau + on_air + w_t * self.xi * self.macs(m) / f \
            - w_a * self.accuracy(m)

    def metrics(self, x, m, tau, f_local, f_edge) -> dict[str, np.ndarray]:
        """Per-device delay (11), energy (12), accuracy of a complete decision."""
        x, m = np.asarray(x, dtype=bool), np.asarray(m, dtype=np.float64)
        cycles = self.xi * self.macs(m)
        with np.errstate(divide='ignore', invalid='ignore'):
            tx = np.where(x, m * self.frame_bits / (np.where(x, tau, 1.0) * self.rates), 0.0)
            delay = np.where(x, tx + cycles / np.where(x, f_edge, 1.0),
                             cycles / np.where(x, 1.0, f_local))
            on_air = m * self.frame_bits / self.rates
            energy = np.where(x, self.power_w * (on_air if self.on_air_energy else tx),
                              self.kappa * cycles * np.asarray(f_local) ** 2)
        return {'delay': delay, 'energy': energy, 'accuracy': self.accuracy(m)}

    def cost(self, x, m, tau, f_local, f_edge) -> float:
        """Objective (13): sum over devices of w_T T + w_E E - w_A A."""
        w_t, w_e, w_a = self.weights
        q = self.metrics(x, m, tau, f_local, f_edge)
        return float(np.sum(w_t * q['delay'] + w_e * q['energy'] - w_a * q['accuracy']))


def channel_rates(n: int, rng: np.random.Generator, bandwidth_hz: float = 10e6,
                  power_w: float = 0.1, noise_dbm_per_hz: float = -174.0,
                  side_m: float = 500.0) -> np.ndarray:
    """Rates (8) of n devices uniform in a side x side square around the base station."""
    xy = rng.uniform(-side_m / 2, side_m / 2, (n, 2))
    d_km = np.maximum(np.linalg.norm(xy, axis=1), 10.0) / 1000.0
    gain = 10 ** (-(128.1 + 37.6 * np.log10(d_km)) / 10)
    noise_w = 10 ** ((noise_dbm_per_hz - 30) / 10) * bandwidth_hz
    return bandwidth_hz * np.log2(1.0 + gain * power_w / noise_w)
