# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Several people: cross-view association, births, deaths and stable ids (pure core)."""

import itertools

import numpy as np
import pytest

from mec_coop.fusion.association import AssociationSettings, Associator, ViewDetections
from mec_coop.rig.detections import detect, DetectorModel
from mec_coop.rig.virtual import Humanoid, make_cameras

CAMERAS = make_cameras(4)
# A standing person at the origin facing +x; scenarios translate it.
TEMPLATE = Humanoid(0, actions=('stand',), start=(0.0, 0.0), heading=0.0).pose(0.0).joints
RATE_HZ = 10.0


def crossing(t: float) -> np.ndarray:
    """Two people walking towards each other along x, 0.5 m apart in y; they pass at t = 2 s."""
    a = TEMPLATE + [-2.0 + t, -0.25, 0.0]
    b = TEMPLATE + [2.0 - t, 0.25, 0.0]
    return np.stack([a, b])


def run(scenario, seconds, model=DetectorModel(), hidden=None, seed=0,
        settings=AssociationSettings(), rate_hz=RATE_HZ):
    """Per instant: (ground truth, views, result); ``hidden(t) -> (V, P)`` or None."""
    rng = np.random.default_rng(seed)
    associator = Associator(settings)
    out = []
    for k in range(int(seconds * rate_hz)):
        t = k / rate_hz
        truth = scenario(t)
        views = detect(CAMERAS, truth, model, rng, None if hidden is None else hidden(t))
        result = associator.step(t, [ViewDetections(v.camera, v.pixels, v.weights)
                                     for v in views])
        out.append((truth, views, result))
    return out


def labels_of(person, views):
    """Ground-truth labels of the detections a person estimate was built from."""
    return {int(views[v].labels[n]) for v, n in enumerate(person.person_indices) if n >= 0}


def identity(truth, person):
    """Index of the ground-truth person nearest to the estimate (mean joint distance)."""
    d = np.nanmean(np.linalg.norm(truth - person.triangulation.points, axis=-1), axis=-1)
    return int(np.argmin(d)), float(np.min(d))


def test_two_people_crossing_keep_their_ids():
    steps = run(crossing, 4.0, DetectorModel(noise_px=3.0))
    ids = {0: set(), 1: set()}
    for truth, views, result in steps[2:]:
        assert len(result.people) == 2
        for person in result.people:
            gt, error = identity(truth, person)
            # Where the two overlap in a camera their detections count as one (duplicates),
            # so one person has a view less at the crossing: 70 mm there, 33 mm median.
            assert error < 0.08
            assert labels_of(person, views) == {gt}
            ids[gt].add(person.track_id)
    assert ids == {0: {1}, 1: {2}} or ids == {0: {2}, 1: {1}}


def test_person_seen_by_one_camera_is_neither_triangulated_nor_fused():
    # Person 1 is hidden from every camera but cam0 for the whole run.
    hidden = np.zeros((4, 2), dtype=bool)
    hidden[1:, 1] = True
    steps = run(crossing, 3.0, hidden=lambda t: hidden)
    for truth, views, result in steps[2:]:
        assert [identity(truth, p)[0] for p in result.people] == [0]
        assert all(labels_of(p, views) == {0} for p in result.people)


def test_false_detections_make_no_ghost():
    # One false detection per camera and instant on average, on top of two real people.
    steps = run(crossing, 4.0, DetectorModel(false_rate=1.0), seed=3)
    for truth, views, result in steps[2:]:
        assert len(result.people) == 2
        for person in result.people:
            gt, error = identity(truth, person)
            assert error < 0.08
            # A false detection is used only where it lies on the person (it then is them, for
            # any detector): once in this run, 13 px from the true keypoints.
            for v, n in enumerate(person.person_indices):
                if n >= 0 and views[v].labels[n] == -1:
                    off = views[v].pixels[n] - CAMERAS[v].project(truth[gt])
                    assert np.nanmedian(np.linalg.norm(off, axis=-1)) < 20.0


def test_false_detection_in_one_view_alone_is_ignored():
    rng = np.random.default_rng(0)
    associator = Associator()
    for k in range(20):
        views = detect(CAMERAS, crossing(k / RATE_HZ), DetectorModel(), rng)
        first = views[0]
        extra = first.pixels[:1] + [300.0, 0.0]
        views[0] = type(first)(first.camera, np.concatenate([first.pixels, extra]),
                               np.concatenate([first.weights, first.weights[:1]]),
                               np.append(first.labels, -1))
        result = associator.step(k / RATE_HZ, [ViewDetections(v.camera, v.pixels, v.weights)
                                               for v in views])
    assert len(result.people) == 2
    assert len(associator.tracks) == 2


@pytest.mark.parametrize('away_s,same_id', [(0.5, True), (3.0, False)])
def test_leaving_and_reentering(away_s, same_id):
    """Back within ``death_timeout_s`` (1.5 s): same id; later: a new id, the old one died."""
    def standing(t):
        return np.stack([TEMPLATE + [1.0, -1.0, 0.0]])

    def hidden(t):
        return np.full((4, 1), 1.0 <= t < 1.0 + away_s)

    steps = run(standing, 2.0 + away_s + 1.0, hidden=hidden)
    before = {p.track_id for _, _, r in steps[:10] for p in r.people}
    after = {p.track_id for _, _, r in steps[-5:] for p in r.people}
    assert before == {1}
    assert after == ({1} if same_id else {2})
    died = [i for _, _, r in steps for i in r.died]
    assert died == ([] if same_id else [1])


def walking_apart(t: float) -> np.ndarray:
    """Two people 3 m apart walking at 1.2 m/s, one along x, the other back along y."""
    a = TEMPLATE + [-2.5 + 1.2 * t, -1.5, 0.0]
    b = TEMPLATE + [1.5, 2.5 - 1.2 * t, 0.0]
    return np.stack([a, b])


@pytest.mark.parametrize('max_speed_mps,confirmed', [(1.5, True), (1e-3, False)])
def test_at_one_instant_per_second_walkers_are_confirmed_and_keep_their_ids(
        max_speed_mps, confirmed):
    """
    At 1 fps a track measured once reaches a walker 1.2 m on (``max_speed_mps``).

    Without, the two were confirmed late and swapped ids.
    """
    steps = run(walking_apart, 4.0, DetectorModel(noise_px=2.0), rate_hz=1.0,
                settings=AssociationSettings(max_speed_mps=max_speed_mps))
    published = [[(identity(truth, p)[0], p.track_id) for p in r.people]
                 for truth, _, r in steps]
    # Both published from the second instant on, one id per person throughout.
    stable = [len(p) for p in published] == [0, 2, 2, 2] and \
        len({pair for instant in published for pair in instant}) == 2
    assert stable == confirmed


@pytest.mark.parametrize('death_instants,same_id', [(3, True), (0, False)])
def test_at_one_instant_per_second_a_missed_instant_keeps_the_id(death_instants, same_id):
    """
    Hidden from every camera at one instant (1 fps), a walker keeps the id.

    With ``death_instants`` 0 the timeout alone (1.5 s) ended the track before the next
    instant, where the track's gate, widened by 2 s of walking, takes the person back.
    """
    def hidden(t):
        return np.full((4, 2), t == 3.0)

    steps = run(walking_apart, 6.0, DetectorModel(noise_px=2.0), hidden=hidden, rate_hz=1.0,
                settings=AssociationSettings(death_instants=death_instants))
    ids = [{identity(truth, p)[0]: p.track_id for p in r.people} for truth, _, r in steps]
    assert ids[3] == {}
    assert ids[2] == {0: 1, 1: 2} or ids[2] == {0: 2, 1: 1}
    assert (ids[5] == ids[2]) == same_id
    assert sum(len(r.died) for _, _, r in steps) == (0 if same_id else 2)


def test_birth_needs_k_consistent_instants():
    steps = run(crossing, 0.5, settings=AssociationSettings(birth_instants=3))
    assert [len(r.people) for _, _, r in steps] == [0, 0, 2, 2, 2]
    assert steps[0][2].tentative == 2


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match='pixels'):
        ViewDetections(CAMERAS[0], np.zeros((2, 17)), np.zeros((2, 17)))
    with pytest.raises(ValueError, match='finite'):
        Associator().step(float('nan'), [])
    with pytest.raises(ValueError, match='match_gate'):
        AssociationSettings(match_gate=0.0)
    with pytest.raises(ValueError, match='max_speed_mps'):
        AssociationSettings(max_speed_mps=0.0)
    with pytest.raises(ValueError, match='death_instants >= 0'):
        AssociationSettings(death_instants=-1)


def test_crossing_scenario_paths_are_clear_and_people_meet():
    from mec_coop.rig.virtual import VirtualRig
    from mec_coop.rig.virtual.rig import crossing_line
    for n in (2, 3, 4):
        rig = VirtualRig(4, num_people=n, scenario='crossing')
        for i in range(n):
            a, b = crossing_line(i, n)
            assert not any(box.footprint_hits(a, b, 0.3) for box in rig.boxes)
        hips = np.array([rig.frame(t).joints_world[:, 11:13].mean(1)
                         for t in np.arange(0.0, 20.0, 0.25)])
        closest = min(np.linalg.norm(hips[:, i] - hips[:, j], axis=-1).min()
                      for i in range(n) for j in range(i + 1, n))
        assert closest < 0.8     # they pass close by each other
    with pytest.raises(ValueError, match='scenario'):
        VirtualRig(4, scenario='dance')


def test_two_camera_groups_need_a_clear_partner_and_cliques_need_every_pair():
    from mec_coop.fusion.grouping import clique_groups
    inf = np.inf
    view = np.array([0, 0, 1, 1, 2])
    cost = np.full((5, 5), inf)

    def pair(i, j, c):
        cost[i, j] = cost[j, i] = c
    pair(0, 2, 0.001)
    pair(0, 3, 0.0015)        # detection 0 fits both of camera 1's people: ambiguous
    pair(1, 3, 0.004)
    assert clique_groups(cost, view, 0.03, 0.5) == []
    pair(0, 3, 0.01)          # now clearly the second choice (for 3 too: 0.004 vs 0.01)
    assert sorted(map(sorted, clique_groups(cost, view, 0.03, 0.5))) == [[0, 2], [1, 3]]
    pair(2, 4, 0.002)         # a third camera agrees with 2 but not with 0: no 3-clique
    assert sorted(map(sorted, clique_groups(cost, view, 0.03, 0.5))) == [[0, 2], [1, 3]]
    pair(0, 4, 0.002)         # ... and now with both: one group of three
    assert sorted(map(sorted, clique_groups(cost, view, 0.03, 0.5))) == [[0, 2, 4], [1, 3]]


def test_a_person_reported_twice_by_one_camera_counts_once():
    from mec_coop.fusion.detections import duplicates
    px = CAMERAS[0].project(TEMPLATE)
    people = np.stack([px, px + 2.0, px + [300.0, 0.0]])
    good = np.ones((3, 17), dtype=bool)
    weights = np.stack([np.full(17, 0.5), np.full(17, 0.9), np.full(17, 0.5)])
    assert duplicates(people, good, weights, 0.1).tolist() == [True, False, False]


def test_a_claim_another_track_may_own_is_contested():
    from mec_coop.fusion.grouping import contested
    gate, ratio, size = 0.5, 0.5, np.zeros((2, 2))
    # Track 0 holds detection 0; track 1 (no detection here) fits it nearly as well.
    cost = np.array([[0.10, 0.90], [0.15, 0.80]])
    claims = np.array([0, -1])
    assert contested(claims, cost, np.array([7.0, 6.9]), size, gate, ratio).tolist() == [
        True, False]
    # ... unless track 0 is in front: the detector sees the person in front ...
    front = np.array([6.5, 7.0])
    assert not contested(claims, cost, front, size, gate, ratio).any()
    # ... if the detection's size fits track 0 (log size ratio 0.05) not clearly worse than
    # track 1 (0.0); at 0.3 against 0.0 it is the person behind's.
    size[0, 0] = 0.05
    assert not contested(claims, cost, front, size, gate, ratio).any()
    size[0, 0] = 0.3
    assert contested(claims, cost, front, size, gate, ratio).tolist() == [True, False]
    # Track 1 fitting it clearly worse (0.10 < 0.5 x 0.25) contests nothing.
    cost[1, 0] = 0.25
    assert not contested(claims, cost, np.array([7.0, 6.9]), size, gate, ratio).any()
    # Two tracks with a detection each: swapping them costs 1.2x the chosen pairing (<= 1.25),
    # so both are left out; at 2x they are clearly apart.
    cost = np.array([[0.10, 0.12], [0.12, 0.10]])
    claims, size = np.array([0, 1]), np.zeros((2, 2))
    assert contested(claims, cost, np.array([7.0, 7.0]), size, gate, ratio).tolist() == [
        True, True]
    cost = np.array([[0.10, 0.20], [0.20, 0.10]])
    assert not contested(claims, cost, np.array([7.0, 7.0]), size, gate, ratio).any()


def test_size_mismatch_is_the_log_ratio_of_the_common_joints_boxes():
    from mec_coop.fusion.detections import size_mismatch
    px = CAMERAS[0].project(TEMPLATE)
    centre = px.mean(0)
    ideal = np.stack([px, centre + 0.75 * (px - centre)])
    ok = np.ones((2, 17), dtype=bool)
    ok[1, :10] = False
    got = size_mismatch(px[None], ideal, ok)
    assert got == pytest.approx(np.array([[0.0, -np.log(0.75)]]))
    ok[1, 11:] = False      # one common joint: no size
    assert np.isnan(size_mismatch(px[None], ideal, ok)[0, 1])


def test_every_camera_in_one_call_equals_one_call_per_camera():
    from mec_coop.fusion.detections import (depths, duplicates, keypoint_costs, padded,
                                            project, size_mismatch)
    rng = np.random.default_rng(3)
    P = np.stack([c.P for c in CAMERAS])
    tracks = TEMPLATE + rng.normal(0.0, 0.3, (3, 1, 3)) * [1.0, 1.0, 0.0]
    px = project(P, tracks).swapaxes(0, 1)                                     # (V, T, J, 2)
    ideal, ok, weights = [], [], []
    for v, n in enumerate((3, 0, 1, 5)):            # one count per camera
        found = px[v, rng.integers(0, 3, n)] + rng.normal(0.0, 4.0, (n, 17, 2))
        if n > 1:
            found[1] = found[0] + 1.0        # a repeat of the first detection
        ideal.append(found)
        ok.append(rng.random((n, 17)) > 0.2)
        weights.append(rng.uniform(0.3, 1.0, (n, 17)))
    pad = padded(ideal, ok, weights)
    costs, sizes, repeats = (keypoint_costs(px, *pad, 5), size_mismatch(px, *pad[:2]),
                             duplicates(*pad, 0.1))
    for v, n in enumerate(len(i) for i in ideal):
        assert np.array_equal(costs[v, :, :n], keypoint_costs(px[v], ideal[v], ok[v],
                                                              weights[v], 5))
        assert np.isinf(costs[v, :, n:]).all()
        assert np.array_equal(sizes[v, :, :n], size_mismatch(px[v], ideal[v], ok[v]),
                              equal_nan=True)
        assert np.array_equal(repeats[v, :n], duplicates(ideal[v], ok[v], weights[v], 0.1))
        assert not repeats[v, n:].any()
        assert depths(P, tracks)[v] == pytest.approx(depths(P[v], tracks))
    assert repeats.sum() >= 2      # the planted repeats were found


def slowing_crossing(t: float) -> np.ndarray:
    """Two people 0.5 m apart who slow to 0.3 m/s where they pass (t = 1.5-2.5 s)."""
    x = t - 0.7 * np.clip(t - 1.5, 0.0, 1.0)
    return np.stack([TEMPLATE + [-2.0 + x, -0.25, 0.0], TEMPLATE + [2.0 - x, 0.25, 0.0]])


def occluded(truth: np.ndarray) -> np.ndarray:
    """``(V, P)``: a person is hidden where a nearer one covers 30% of their image box."""
    hidden = np.zeros((len(CAMERAS), len(truth)), dtype=bool)
    for v, cam in enumerate(CAMERAS):
        px = [cam.project(p) for p in truth]
        lo, hi = np.array([p.min(0) for p in px]), np.array([p.max(0) for p in px])
        depth = [np.median(cam.to_camera(p)[:, 2]) for p in truth]
        for i, j in itertools.permutations(range(len(truth)), 2):
            inter = np.prod(np.clip(np.minimum(hi[i], hi[j]) - np.maximum(lo[i], lo[j]), 0, None))
            hidden[v, i] |= depth[i] > depth[j] and inter > 0.3 * np.prod(hi[i] - lo[i])
    return hidden


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_a_hidden_persons_track_does_not_take_the_other_persons_detection(seed):
    """
    A person covered by another in a view: their track leaves the other's detection alone.

    At 2 Hz the constant-velocity tracks of people who slow down where they cross run ahead of
    them; where one covers the other in a camera, the hidden person's track fits the visible
    person's detection well enough to take it. Measured: 3 of 14 skeletons mixed two people
    without contested views (each seed), none with them; 10-11 of the 14 people measured then
    (where the two overlap two of the four cameras see one person: a view left out leaves a
    person with one, unmeasured; with ``firm_views`` 9-12).
    """
    counts = {}
    for contested_views in (False, True):
        rng = np.random.default_rng(seed)
        associator = Associator(AssociationSettings(contested_views=contested_views))
        mixed = people = 0
        for k in range(10):
            truth = slowing_crossing(k / 2.0)
            views = detect(CAMERAS, truth, DetectorModel(noise_px=6.0), rng, occluded(truth))
            result = associator.step(k / 2.0, [ViewDetections(v.camera, v.pixels, v.weights)
                                               for v in views])
            mixed += sum(len(labels_of(p, views)) > 1 for p in result.people)
            people += len(result.people)
        counts[contested_views] = mixed, people
    assert counts[False][0] >= 2 and counts[False][1] == 14
    assert counts[True][0] == 0 and counts[True][1] >= 9


def test_a_doubtful_view_is_left_out_where_the_track_has_firm_ones():
    """
    Crossing replay, seed 3 server-centric, t = 29.0 s, camera 0 (docs/people.md).

    Track 2, in front (6.65 m against 8.83 m), claimed the detection of the person behind
    (track 1, whose person it is, has no detection there): 0.254 against 0.36, sizes alike, so
    :func:`contested` lets the one in front keep it and the skeleton mixed two people. It is
    doubtful, and track 2 has three firm views: it is left out.
    """
    from mec_coop.fusion.grouping import contested, doubtful, firm_only
    cost = np.array([[0.057, 0.51], [0.913, 0.36], [0.391, 0.254]])
    claims = np.array([0, -1, 1])
    depth, size = np.array([5.35, 8.83, 6.65]), np.zeros((3, 2))
    assert not contested(claims, cost, depth, size, 0.5, 0.5).any()
    assert doubtful(claims, cost, 0.5, 0.5).tolist() == [False, False, True]
    # Track 0 fits its own detection clearly better (0.057 < 0.5 x 0.36): not doubtful.
    cost[1, 0] = 0.12
    assert doubtful(claims, cost, 0.5, 0.5).tolist() == [False, False, True]
    all_claims = np.array([[0, 0, -1, 3], [-1, 2, 0, 1], [1, 1, 1, 0]])
    doubt = np.zeros((3, 4), dtype=bool)
    doubt[2, 0] = True
    assert np.argwhere(firm_only(all_claims, doubt, 2)).tolist() == [[2, 0]]
    # With one firm view the track keeps the doubtful one (else it would go unmeasured).
    all_claims[2, 1:3] = -1
    assert not firm_only(all_claims, doubt, 2).any()


def test_a_clique_member_another_detection_could_replace_is_dropped():
    """
    Crossing replay, seed 0 cooperative, t = 5.0 s: a three-camera birth of two people.

    Detections 0, 3, 4 (persons 2, 0, 2 in cameras 0, 1, 3) form a clique within the gate, but
    detection 2 (person 1, camera 1) fits 0 and 4 as well as 3 does (mean 0.020 against 0.019):
    3 is not clearly the one, so it leaves the group, and the pair 0-4 then fails the two-camera
    ratio test (detection 1 fits 4 at 0.008 against 0.0054). The pair 1-2 (person 1) stays.
    """
    from mec_coop.fusion.grouping import clique_groups
    cost = np.array([[0, 0, 0.0104, 0.0100, 0.0054, 0.0217],
                     [0, 0, 0.0037, 0.0141, 0.0080, 0.0082],
                     [0.0104, 0.0037, 0, 0, 0.0291, 0.0314],
                     [0.0100, 0.0141, 0, 0, 0.0283, 0.0138],
                     [0.0054, 0.0080, 0.0291, 0.0283, 0, 0],
                     [0.0217, 0.0082, 0.0314, 0.0138, 0, 0]])
    cost = np.where(cost > 0, cost, np.inf)
    view = np.array([0, 0, 1, 1, 2, 2])
    assert clique_groups(cost, view, 0.03, 0.5) == [{1, 2}]
    # A member with a clearly worse rival stays (0.0055 against 0.0225 in the mean); one with a
    # close rival (0.0085) leaves, and the other two stand on their own.
    cost = np.full((4, 4), np.inf)
    for (i, j), c in {(0, 1): 0.005, (0, 2): 0.005, (1, 2): 0.006, (0, 3): 0.02,
                      (2, 3): 0.025}.items():
        cost[i, j] = cost[j, i] = c
    view = np.array([0, 1, 2, 1])
    assert clique_groups(cost, view, 0.03, 0.5) == [{0, 1, 2}]
    cost[0, 3] = cost[3, 0] = cost[2, 3] = cost[3, 2] = 0.0085
    assert clique_groups(cost, view, 0.03, 0.5) == [{0, 2}]


def test_firm_views_leave_out_a_hidden_persons_doubtful_views(monkeypatch):
    """
    The slowing crossing of the test above, 10 seeds from t = 0 and from t = 0.5 s.

    Measured: with ``firm_views`` 0 (never) 11 skeletons mixed two people in 7 of the 20 runs
    (264 people measured), with 2 (default) 1 (215): a fifth fewer people for nearly no mixing.
    """
    counts = {}
    for firm_views in (0, 2):
        mixed = people = 0
        for seed, start in itertools.product(range(10), (0.0, 0.5)):
            rng = np.random.default_rng(seed)
            associator = Associator(AssociationSettings(firm_views=firm_views))
            for k in range(10):
                t = start + k / 2.0
                truth = slowing_crossing(t)
                views = detect(CAMERAS, truth, DetectorModel(noise_px=6.0), rng, occluded(truth))
                result = associator.step(t, [ViewDetections(v.camera, v.pixels, v.weights)
                                             for v in views])
                mixed += sum(len(labels_of(p, views)) > 1 for p in result.people)
                people += len(result.people)
        counts[firm_views] = mixed, people
    assert counts[0][0] >= 8 and counts[2][0] <= 1
    assert counts[2][1] >= 0.75 * counts[0][1]


def appearing_behind(t: float) -> np.ndarray:
    """
    Person 0 walks +x at 1 m/s; person 1 stands behind where person 0 started.

    Person 0 starts at (1, -1.5); person 1 stands 1.2 m behind that place on camera 0's ray
    through it (scripts hide them until t = 0.5 s): in camera 0 they cover person 0's old place.
    """
    start = np.array([1.0, -1.5, 0.0])
    ray = start - [*CAMERAS[0].center[:2], 0.0]
    return np.stack([TEMPLATE + start + [t, 0.0, 0.0],
                     TEMPLATE + start + 1.2 * ray / np.linalg.norm(ray)])


def test_a_young_tracks_view_its_other_views_place_elsewhere_is_corrected():
    """
    A track measured once has no velocity (docs/people.md, seed 0 cooperative t = 4.5 s).

    Its prediction stays where person 0 was, and in camera 0 person 1, who appears behind that
    place, fits it better than person 0 does. Measured over 10 seeds (3 instants at 2 Hz):
    with ``young_instants`` 0 (never) 6 skeletons mix the two people, with the default none,
    30 people measured both ways.
    """
    counts = {}
    for young in (0, 3):
        mixed = people = 0
        for seed in range(10):
            rng = np.random.default_rng(seed)
            associator = Associator(AssociationSettings(young_instants=young))
            for k in range(3):
                truth = appearing_behind(k / 2.0)
                hidden = np.zeros((4, 2), dtype=bool)
                hidden[:, 1] = k == 0
                views = detect(CAMERAS, truth, DetectorModel(noise_px=3.0), rng, hidden)
                result = associator.step(k / 2.0, [ViewDetections(v.camera, v.pixels, v.weights)
                                                   for v in views])
                mixed += sum(len(labels_of(p, views)) > 1 for p in result.people)
                people += len(result.people)
        counts[young] = mixed, people
    assert counts[0][0] >= 4 and counts[3][0] == 0
    assert counts[3][1] >= counts[0][1]


def test_an_outvoted_view_takes_the_detection_the_others_point_at_if_free():
    from mec_coop.fusion.grouping import young_claims
    truth = appearing_behind(0.5)
    views = detect(CAMERAS, truth, DetectorModel(noise_px=3.0), np.random.default_rng(0))
    ideal = [v.pixels for v in views]
    ok = [w > 0 for w in (v.weights for v in views)]
    P = np.stack([c.P for c in CAMERAS])
    own = [int(np.flatnonzero(v.labels == 0)[0]) for v in views]
    other = int(np.flatnonzero(views[0].labels == 1)[0])
    claims = np.array([[other, *own[1:]]])
    assert young_claims(P, ideal, ok, views, claims, [np.zeros(0, int)] * 4, 0, 0.5, 5) == 1
    assert claims[0].tolist() == own
    # Held by another track: the view is left out instead.
    claims = np.array([[other, *own[1:]], [own[0], -1, -1, -1]])
    young_claims(P, ideal, ok, views, claims, [np.zeros(0, int)] * 4, 0, 0.5, 5)
    assert claims[0].tolist() == [-1, *own[1:]]
    # Right views stay as they are.
    claims = np.array([own])
    assert young_claims(P, ideal, ok, views, claims, [np.zeros(0, int)] * 4, 0, 0.5, 5) == 0
