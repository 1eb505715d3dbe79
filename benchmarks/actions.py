# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Action events from skeleton sequences, and seed 001's allocation, in one command.

Part "models" (virtual rig, no images rendered; :mod:`mec_coop.action`): sequences of the
training, validation and held-out test seeds (`StudySetup`), the 3D (edge) and 2D (camera) models
trained for every m in FRAME_COUNTS (written to ``mec_coop/action/models/`` with
``--write-models``), frame accuracy vs m on the test seeds with the fit of eq. (15), MACs and
measured CPU time per inference vs m with the fit of eq. (14), the event detector's thresholds
picked on the validation seeds, and event F1 / latency per action on the test seeds.

Part "alloc" (:mod:`mec_coop.alloc.video`): Fig. 5 (average cost vs N, every scheme and the
search bound), Fig. 6 (runtime vs N), Fig. 7 (ADMM convergence), Fig. 8 (offloading rate, delay,
energy, accuracy vs N) and Table I, with the paper's numbers beside ours.

Writes ``docs/figures/actions*.png``, ``docs/figures/actions.json`` and
``docs/actions_results.md`` (from both parts' JSON).

Run:  . scripts/env.sh && python benchmarks/actions.py [--part models|alloc|doc|all]
      [--write-models]
"""

import argparse
import json
import pathlib
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIGURES = ROOT / 'docs' / 'figures'
CACHE = ROOT / 'results' / 'actions'


def _timing(model, points, stamps, repeats=200):
    """Median CPU seconds of one on-line inference (window selection, features, MLP)."""
    times = []
    for i in range(repeats):
        end = len(points) - repeats + i
        start = time.perf_counter()
        model.predict_last(points[:end + 1][-80:], stamps[:end + 1][-80:])
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def models_part(args):
    from mec_coop.action.study import (bundled_path, evaluate, FRAME_COUNTS, select_detector,
                                       sequences, StudySetup, train_model)
    from mec_coop.action.data import streams
    from mec_coop.alloc.video_model import fit_accuracy, fit_linear
    setup = StudySetup()
    t0 = time.time()
    training = sequences(setup.train_seeds, setup, CACHE)
    validation = sequences(setup.validation_seeds, setup, CACHE)
    test = sequences(setup.test_seeds, setup, CACHE)
    print(f'sequences ready in {time.time() - t0:.0f} s', flush=True)
    out = {'setup': {k: getattr(setup, k) for k in setup.__dataclass_fields__},
           'kinds': {}}
    for kind in ('3d', '2d'):
        points, stamps, _ = streams(test[:1], kind)[0]
        rows = []
        for m in FRAME_COUNTS:
            t1 = time.time()
            model = train_model(kind, m, training, setup)
            if args.write_models:
                model.save(bundled_path(kind, m))
            result = evaluate(model, test)
            rows.append({'m': m, 'accuracy': result.accuracy, 'frames': result.frames,
                         'macs': model.macs, 'time_s': _timing(model, points, stamps),
                         'train_s': time.time() - t1,
                         'f1': {a: s.f1 for a, s in result.events.items()}})
            print(kind, rows[-1], flush=True)
        m = np.array([r['m'] for r in rows])
        accuracy_model, accuracy_fit = fit_accuracy(m, [r['accuracy'] for r in rows])
        _, mac_fit = fit_linear(m, [r['macs'] for r in rows])
        _, time_fit = fit_linear(m, [r['time_s'] for r in rows])
        model = train_model(kind, args.m, training, setup)
        settings = select_detector(model, validation)
        result = evaluate(model, test, settings)
        events = {a: {'f1': s.f1, 'tp': s.tp, 'fp': s.fp, 'fn': s.fn,
                      'latency_mean_s': float(np.mean(s.latencies)) if s.latencies else None,
                      'latency_p95_s': float(np.percentile(s.latencies, 95))
                      if s.latencies else None,
                      'onset_error_mean_s': float(np.mean(s.onset_errors))
                      if s.onset_errors else None}
                  for a, s in result.events.items()}
        out['kinds'][kind] = {
            'sweep': rows, 'accuracy_fit': {'a': accuracy_model.a, 'b': accuracy_model.b,
                                            'c': accuracy_model.c, 'rmse': accuracy_fit.rmse},
            'mac_fit': {'s1': mac_fit.params[0], 's0': mac_fit.params[1], 'rmse': mac_fit.rmse},
            'time_fit': {'s1': time_fit.params[0], 's0': time_fit.params[1],
                         'rmse_s': time_fit.rmse},
            'default_m': args.m, 'detector': settings.__dict__ | {'actions':
                                                                  list(settings.actions)},
            'test_accuracy': result.accuracy, 'events': events}
        print(kind, json.dumps(out['kinds'][kind]['events']), settings, flush=True)
    FIGURES.mkdir(parents=True, exist_ok=True)
    (FIGURES / 'actions_models.json').write_text(json.dumps(out, indent=1, default=float))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('--part', choices=('models', 'alloc', 'doc', 'all'), default='all')
    parser.add_argument('--write-models', action='store_true',
                        help='write the trained models to mec_coop/action/models/')
    parser.add_argument('--m', type=int, default=8, help='frames of the event models')
    args = parser.parse_args()
    if args.part in ('models', 'all'):
        models_part(args)


if __name__ == '__main__':
    main()
