# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
EMH-PPO (Algorithm 2, eqs. (16)-(20) of the TMC 2026 paper) and its PPO baselines, in torch.

* ``'emh'``: a shared embedding (state -> 512 -> 256, GELU) feeds one agent network per MD
  (256 -> 128 -> 64, ReLU) with six heads: partition point, channel and server per task slot
  (categorical), power mean and std per slot (Gaussian), window size (categorical).
* ``'mahppo'``: independent agents, each with its own encoder of the state (no shared
  embedding). The paper's MAHPPO also uses a time-based MDP and linear cuts; here it shares our
  task-aware MDP (its cut set is whatever profile it is given).
* ``'hppo'``: one agent (one network) that outputs every MD's hybrid action.

The clipped surrogate follows the reconstruction C-6: a task slot's ratio is the product of its
s, c, m, P ratios; the clipped terms of the used slots and of the window head are summed per
agent and divided by ``W_max``; one scalar critic gives GAE (lambda 0.95).
"""

import copy
from dataclasses import dataclass
import time
from typing import Callable, Dict, List, Optional

import numpy as np
import torch
from torch import nn

from mec_coop.split.mdp import Actions, CollabEnv


def _mlp(sizes: List[int], act) -> nn.Sequential:
    layers: List[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), act()]
    return nn.Sequential(*layers)


class HybridActors(nn.Module):
    """The actors of ``mode`` ('emh', 'mahppo', 'hppo') for ``N`` MDs."""

    def __init__(self, state_dim: int, N: int, S: int, C: int, M: int, Wm: int, mode='emh',
                 local_bias: float = 0.0, window_bias: float = 0.0):
        super().__init__()
        self.N, self.S, self.C, self.M, self.Wm, self.mode = N, S, C, M, Wm, mode
        if mode == 'emh':
            self.embed = _mlp([state_dim, 512, 256], nn.GELU)
            self.agents = nn.ModuleList([_mlp([256, 128, 64], nn.ReLU) for _ in range(N)])
        elif mode == 'mahppo':
            self.agents = nn.ModuleList([_mlp([state_dim, 256, 128, 64], nn.ReLU)
                                         for _ in range(N)])
        elif mode == 'hppo':
            self.trunk = _mlp([state_dim, 512, 256, 128, 64], nn.ReLU)
        else:
            raise ValueError(f"mode must be 'emh', 'mahppo' or 'hppo', got {mode!r}")
        sizes = {'s': Wm * S, 'c': Wm * C, 'm': Wm * M, 'mu': Wm, 'log_std': Wm, 'w': Wm}
        heads: Dict[str, List[nn.Linear]] = {k: [nn.Linear(64, v) for _ in range(N)]
                                             for k, v in sizes.items()}
        # Power starts low (mean 0.3 W, std 0.37); ``local_bias`` > 0 starts near local
        # inference (a random cut of a 1 MHz channel can cost seconds), ``window_bias`` > 0
        # near full windows (eq. (8) sums per-task costs once per window).
        with torch.no_grad():
            for k in range(N):
                heads['log_std'][k].bias.fill_(-1.0)
                heads['mu'][k].bias.fill_(0.3)
                heads['s'][k].bias.view(Wm, S)[:, -1] += local_bias
                heads['w'][k].bias[-1] += window_bias
        self.heads = heads
        self._modules_of_heads = nn.ModuleDict({k: nn.ModuleList(v) for k, v in heads.items()})

    def forward(self, state: torch.Tensor) -> Dict[str, torch.Tensor]:
        B, N, Wm = state.shape[0], self.N, self.Wm
        if self.mode == 'emh':
            z = self.embed(state)
            feats = [agent(z) for agent in self.agents]
        elif self.mode == 'mahppo':
            feats = [agent(state) for agent in self.agents]
        else:
            feats = [self.trunk(state)] * N
        out = {k: torch.stack([h(f) for h, f in zip(heads, feats)], 1)
               for k, heads in self.heads.items()}
        return {'s': out['s'].view(B, N, Wm, self.S), 'c': out['c'].view(B, N, Wm, self.C),
                'm': out['m'].view(B, N, Wm, self.M), 'mu': out['mu'],
                'std': out['log_std'].clamp(-4, 1).exp(), 'w': out['w']}


def _clipped(ratio: torch.Tensor, A: torch.Tensor, clip: float) -> torch.Tensor:
    """Clipped surrogate terms, eq. (17)."""
    return torch.min(ratio * A, ratio.clamp(1 - clip, 1 + clip) * A)


def _dists(out):
    cat = torch.distributions.Categorical
    return (cat(logits=out['s']), cat(logits=out['c']), cat(logits=out['m']),
            torch.distributions.Normal(out['mu'], out['std']), cat(logits=out['w']))


def log_probs(out, a: Dict[str, torch.Tensor]):
    """Per-slot log-probability (B, N, Wm) of (s, c, m, P) and of the window size (B, N)."""
    ds, dc, dm, dp, dw = _dists(out)
    slot = ds.log_prob(a['s']) + dc.log_prob(a['c']) + dm.log_prob(a['m']) + dp.log_prob(a['p'])
    ent = ds.entropy() + dc.entropy() + dm.entropy() + dp.entropy()
    return slot, dw.log_prob(a['w']), ent.mean() + dw.entropy().mean()


@dataclass
class PPOConfig:
    """
    Settings of Algorithm 2.

    gamma, clip, batch and lambda are the paper's (Table III; lambda assumed 0.95); lr (paper
    1e-4), 4 epochs per rollout (10 recommended) and the rollout size are ours, for minutes on a
    CPU instead of the paper's 1.5 M steps.
    """

    gamma: float = 0.95
    lam: float = 0.95
    clip: float = 0.2
    lr: float = 1e-3
    epochs: int = 4
    batch: int = 256
    envs: int = 32
    horizon: int = 8
    entropy: float = 0.01
    reward_floor: float = -20.0      # training signal only: ~10x local inference's window cost
    local_bias: float = 0.0          # initial logit of the all-local point over the others
    window_bias: float = 0.0         # initial logit of W_max over the other window sizes
    seconds: float = 60.0
    max_iterations: int = 10_000
    # [OURS] Keep the policy that scored best on validation episodes (other seeds than the
    # test's), checked every ``validate_every`` iterations; 0: the last policy (the paper's).
    validate_every: int = 0


class Trainer:
    """Trains ``HybridActors`` + critic on :class:`CollabEnv` episodes (Algorithm 2)."""

    def __init__(self, env: CollabEnv, mode: str = 'emh', cfg: PPOConfig = PPOConfig(),
                 seed: int = 0):
        torch.manual_seed(seed)
        sc, pf = env.sc, env.pf
        self.env, self.cfg, self.sc = env, cfg, sc
        self.actors = HybridActors(env.state_dim, sc.num_mds, pf.num_points, sc.num_channels,
                                   sc.num_servers, sc.w_max, mode, cfg.local_bias,
                                   cfg.window_bias)
        self.critic = nn.Sequential(_mlp([env.state_dim, 256, 128, 64], nn.ReLU),
                                    nn.Linear(64, 1))
        self.opt_a = torch.optim.Adam(self.actors.parameters(), lr=cfg.lr)
        self.opt_c = torch.optim.Adam(self.critic.parameters(), lr=cfg.lr)
        self.history: List[float] = []

    def _to_env(self, a) -> Actions:
        return Actions(a['s'].numpy(), a['c'].numpy(), a['m'].numpy(),
                       a['p'].numpy().astype(float) * self.sc.p_limit_w, a['w'].numpy() + 1)

    @torch.no_grad()
    def act(self, state: np.ndarray, greedy: bool = True) -> Actions:
        out = self.actors(torch.as_tensor(state))
        if greedy:
            a = {k: out[k].argmax(-1) for k in ('s', 'c', 'm', 'w')}
            a['p'] = out['mu']
        else:
            ds, dc, dm, dp, dw = _dists(out)
            a = {'s': ds.sample(), 'c': dc.sample(), 'm': dm.sample(), 'p': dp.sample(),
                 'w': dw.sample()}
        return self._to_env(a)

    def _rollout(self):
        env, cfg = self.env, self.cfg
        buf: Dict[str, list] = {k: [] for k in ('x', 's', 'c', 'm', 'p', 'w', 'used', 'lp_slot',
                                                'lp_w', 'r', 'done', 'v')}
        state = env.state()
        for _ in range(cfg.horizon):
            x = torch.as_tensor(state)
            with torch.no_grad():
                out = self.actors(x)
                ds, dc, dm, dp, dw = _dists(out)
                a = {'s': ds.sample(), 'c': dc.sample(), 'm': dm.sample(), 'p': dp.sample(),
                     'w': dw.sample()}
                lp_slot, lp_w, _ = log_probs(out, a)
                v = self.critic(x).squeeze(-1)
            used = torch.arange(self.sc.w_max)[None, None, :] < \
                torch.as_tensor(np.minimum(a['w'].numpy() + 1, env.X))[..., None]
            state, reward, done, _ = env.step(self._to_env(a))
            for k, val in (('x', x), ('lp_slot', lp_slot), ('lp_w', lp_w), ('v', v),
                           ('used', used), *a.items()):
                buf[k].append(val)
            buf['r'].append(torch.as_tensor(np.maximum(reward, cfg.reward_floor),
                                            dtype=torch.float32))
            buf['done'].append(torch.as_tensor(done, dtype=torch.float32))
            self.history.extend(reward[done].tolist())
            if done.any():     # finished episodes restart (auto-reset, per episode)
                keep_X, keep_d = env.X.copy(), env.d.copy()
                env.reset()
                env.X[~done], env.d[~done] = keep_X[~done], keep_d[~done]
                state = env.state()
        with torch.no_grad():
            last_v = self.critic(torch.as_tensor(state)).squeeze(-1)
        return {k: torch.stack(v) for k, v in buf.items()}, last_v

    def _gae(self, b, last_v):
        cfg = self.cfg
        adv = torch.zeros_like(b['r'])
        running = torch.zeros_like(last_v)
        next_v = last_v
        for t in reversed(range(len(b['r']))):
            nonterminal = 1.0 - b['done'][t]
            delta = b['r'][t] + cfg.gamma * next_v * nonterminal - b['v'][t]     # (18)
            running = delta + cfg.gamma * cfg.lam * nonterminal * running
            adv[t] = running
            next_v = b['v'][t]
        return adv, adv + b['v']

    def update(self) -> None:
        cfg = self.cfg
        b, last_v = self._rollout()
        adv, ret = self._gae(b, last_v)
        flat = {k: v.flatten(0, 1) for k, v in b.items()}
        adv, ret = adv.flatten(), ret.flatten()
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        n = len(adv)
        for _ in range(cfg.epochs):
            for idx in torch.randperm(n).split(cfg.batch):
                out = self.actors(flat['x'][idx])
                a = {k: flat[k][idx] for k in ('s', 'c', 'm', 'p', 'w')}
                lp_slot, lp_w, entropy = log_probs(out, a)
                A = adv[idx][:, None]
                used = flat['used'][idx].float()
                slot_ratio = torch.exp(lp_slot - flat['lp_slot'][idx])       # (B, N, Wm)
                w_ratio = torch.exp(lp_w - flat['lp_w'][idx])                # (B, N)
                surrogate = ((_clipped(slot_ratio, A[..., None], cfg.clip) * used).sum(-1)
                             + _clipped(w_ratio, A, cfg.clip)) / self.sc.w_max
                loss_a = -(surrogate.sum(1).mean() + cfg.entropy * entropy)        # (19)
                self.opt_a.zero_grad()
                loss_a.backward()
                nn.utils.clip_grad_norm_(self.actors.parameters(), 0.5)
                self.opt_a.step()
                loss_c = 0.5 * (self.critic(flat['x'][idx]).squeeze(-1) - ret[idx]).pow(2).mean()
                self.opt_c.zero_grad()
                loss_c.backward()                                                   # (20)
                self.opt_c.step()

    def imitate(self, policy: Callable[[np.ndarray], Actions], points: np.ndarray,
                steps: int = 200) -> float:
        """
        [OURS] Warm start: fit the actors to ``policy``'s actions (behaviour cloning).

        States come from this trainer's episodes run under ``policy``; ``points`` maps the
        policy's partition points to this trainer's profile (a vertical-cut policy indexes the
        singleton cuts only). Returns the final negative log-likelihood per MD.
        """
        env, sc = self.env, self.sc
        states, actions = [], []
        state = env.reset()
        for _ in range(steps // 4 + 1):
            a = policy(state)
            states.append(torch.as_tensor(state))
            actions.append({'s': torch.as_tensor(points[a.s]), 'c': torch.as_tensor(a.c),
                            'm': torch.as_tensor(a.m),
                            'p': torch.as_tensor(a.p / sc.p_limit_w, dtype=torch.float32),
                            'w': torch.as_tensor(a.w - 1)})
            state, _, done, _ = env.step(a)
            if done.all():
                state = env.reset()
        x = torch.cat(states)
        target = {k: torch.cat([a[k] for a in actions]) for k in actions[0]}
        loss = torch.zeros(())
        for _ in range(steps):
            idx = torch.randint(len(x), (min(len(x), self.cfg.batch),))
            picked = {k: v[idx] for k, v in target.items()}
            lp_slot, lp_w, _ = log_probs(self.actors(x[idx]), picked)
            loss = -(lp_slot.sum(-1) + lp_w).mean() / sc.num_mds
            self.opt_a.zero_grad()
            loss.backward()
            self.opt_a.step()
        env.reset()
        return float(loss.detach())

    def train(self, validate: Optional[Callable[['Trainer'], float]] = None
              ) -> Dict[str, float]:
        """
        Train for ``cfg.seconds`` (or ``max_iterations``); return time and window count.

        With ``validate`` (the reward of the current greedy policy on validation episodes)
        and ``cfg.validate_every`` > 0, the best validated actors are kept at the end.
        """
        start, it = time.perf_counter(), 0
        best: Optional[tuple] = None
        if validate is not None and self.cfg.validate_every:
            best = (validate(self), copy.deepcopy(self.actors.state_dict()))
        self.env.reset()
        while time.perf_counter() - start < self.cfg.seconds and it < self.cfg.max_iterations:
            self.update()
            it += 1
            if validate is not None and best is not None and it % self.cfg.validate_every == 0:
                score = validate(self)
                if score > best[0]:
                    best = (score, copy.deepcopy(self.actors.state_dict()))
        stats = {'seconds': time.perf_counter() - start, 'iterations': it,
                 'windows': it * self.cfg.envs * self.cfg.horizon}
        if best is not None:
            self.actors.load_state_dict(best[1])
            stats['validation_reward'] = best[0]
        return stats

    def decision_time_s(self, repeats: int = 200) -> float:
        """Median wall time of one decision (one state, greedy) on this CPU."""
        state = self.env.state()[:1]
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            self.act(state)
            times.append(time.perf_counter() - t0)
        return float(np.median(times))
