# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The pipeline over a real, rate-limited network: each camera in its own network namespace.

Topology (TEST-NET-1 addresses, 192.0.2.0/24): namespace ``mec_edge`` holds a bridge
(192.0.2.254) with the rig, the edge and the evaluator; namespace ``mec_cam<i>`` holds camera
``cam<i>`` (192.0.2.(10+i)), joined to the bridge by a veth pair. The camera side of each veth
has a ``tbf`` qdisc at ``rate x tdma_share`` (equal shares), so each camera's uplink is shaped as
the TDMA shares would; the rig's images reach the cameras unshaped (they stand in for the
camera's own sensor). The uplink emulator is off (``graph.uplink=false``): the link is real.
Fast DDS runs on UDPv4 only (``FASTDDS_BUILTIN_TRANSPORTS=UDPv4``), otherwise its shared-memory
transport would bypass the namespaces.

Run (root; needs ``ip`` and ``tc``):
    . scripts/env.sh && python benchmarks/shaped_link.py --rates 2 8 --duration 60
Writes ``results/benchmarks/shaped_link.json``: per rate, skeleton rate (per second and per
ground-truth instant), delay percentiles, MPJPE, routes, and the bytes the camera uplinks sent
and the packets ``tbf`` dropped over the whole run (start-up included). Without root or
``ip netns`` it exits with status 77 and the reason.
"""

import argparse
import contextlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

from mec_coop.graph import build_graph, camera_names, load_config
from mec_coop.runner import GraphProcesses

ROOT = pathlib.Path(__file__).resolve().parents[1]
EDGE_NS = 'mec_edge'
SKIP = 77   # the automake/pytest convention for "skipped"


def _ip(*args):
    subprocess.run(['ip', *args], check=True, capture_output=True, text=True)


def unavailable():
    """Why the namespaces cannot be made here, or '' when they can."""
    if os.geteuid() != 0:
        return 'network namespaces need root (run as root or in a privileged container)'
    missing = [tool for tool in ('ip', 'tc') if shutil.which(tool) is None]
    if missing:
        return f'{missing} not installed (iproute2)'
    probe = subprocess.run(['ip', 'netns', 'add', 'mec_probe'], capture_output=True, text=True)
    if probe.returncode:
        return f'ip netns does not work here: {probe.stderr.strip()}'
    subprocess.run(['ip', 'netns', 'del', 'mec_probe'], capture_output=True)
    return ''


@contextlib.contextmanager
def namespaces(cameras, rate_mbit):
    """Make the edge and camera namespaces with shaped camera uplinks; remove them after."""
    made = []
    try:
        _ip('netns', 'add', EDGE_NS)
        made.append(EDGE_NS)
        _ip('-n', EDGE_NS, 'link', 'add', 'mecbr', 'type', 'bridge')
        _ip('-n', EDGE_NS, 'addr', 'add', '192.0.2.254/24', 'dev', 'mecbr')
        for dev in ('lo', 'mecbr'):
            _ip('-n', EDGE_NS, 'link', 'set', dev, 'up')
        share = 1.0 / len(cameras)
        for i, cam in enumerate(cameras):
            ns = f'mec_{cam}'
            _ip('netns', 'add', ns)
            made.append(ns)
            _ip('link', 'add', f'mc{i}', 'netns', ns, 'type', 'veth', 'peer', 'name', f'mb{i}',
                'netns', EDGE_NS)
            _ip('-n', EDGE_NS, 'link', 'set', f'mb{i}', 'master', 'mecbr', 'up')
            _ip('-n', ns, 'addr', 'add', f'192.0.2.{10 + i}/24', 'dev', f'mc{i}')
            for dev in ('lo', f'mc{i}'):
                _ip('-n', ns, 'link', 'set', dev, 'up')
            # Multicast (DDS discovery) leaves by the veth, as on a real host.
            _ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', f'mc{i}')
            rate = f'{rate_mbit * share * 1000:.0f}kbit'
            subprocess.run(['ip', 'netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', f'mc{i}',
                            'root', 'tbf', 'rate', rate, 'burst', '32kbit', 'latency', '400ms'],
                           check=True, capture_output=True)
        _ip('-n', EDGE_NS, 'route', 'add', '224.0.0.0/4', 'dev', 'mecbr')
        yield
    finally:
        for ns in made:
            subprocess.run(['ip', 'netns', 'del', ns], capture_output=True)


def link_stats(cameras):
    """Bytes sent and packets dropped by the cameras' tbf qdiscs (``tc -s``), summed."""
    sent = dropped = 0
    for i, cam in enumerate(cameras):
        text = subprocess.run(['ip', 'netns', 'exec', f'mec_{cam}', 'tc', '-s', 'qdisc', 'show',
                               'dev', f'mc{i}'], capture_output=True, text=True).stdout
        match = re.search(r'Sent (\d+) bytes \d+ pkt \(dropped (\d+)', text)
        if match:
            sent += int(match.group(1))
            dropped += int(match.group(2))
    return {'uplink_bytes': sent, 'tbf_dropped_packets': dropped}


def run_rate(rate_mbit, cameras, duration, out, domain):
    config = load_config('virtual_rig', [
        f'graph.cameras={cameras}', 'graph.uplink=false', f'evaluator.output_dir={out}',
        'evaluator.record=false', 'evaluator.status_period_s=2.0'])
    names = camera_names(config)
    env = dict(os.environ, ROS_DOMAIN_ID=str(domain), ROS_AUTOMATIC_DISCOVERY_RANGE='SUBNET',
               FASTDDS_BUILTIN_TRANSPORTS='UDPv4')

    def wrap(spec):
        ns = f'mec_{spec.namespace}' if spec.namespace in names else EDGE_NS
        return ['ip', 'netns', 'exec', ns]

    with namespaces(names, rate_mbit):
        with GraphProcesses(build_graph(config), out / 'logs', env=env, wrap=wrap) as graph:
            start = time.monotonic()
            first = None
            while first is None or time.monotonic() - start - first < duration:
                lost = graph.supervise(print)
                if lost:
                    raise RuntimeError(f'{lost}: {graph.log_tail(next(iter(lost)))}')
                path = out / 'summary.json'
                summary = json.loads(path.read_text()) if path.exists() else {}
                if first is None and summary.get('skeletons', 0) > 0:
                    # Counting starts at the first skeleton (models load first).
                    first, base = time.monotonic() - start, summary
                if first is None and time.monotonic() - start > 300:
                    raise RuntimeError('no skeleton within 300 s')
                time.sleep(1.0)
        link = link_stats(names)
    summary = json.loads((out / 'summary.json').read_text())
    delay = summary.get('delay_s', {})
    return {'rate_mbit': rate_mbit, 'cameras': cameras, 'duration_s': duration,
            'first_skeleton_s': first,
            'skeletons_per_s': (summary['skeletons'] - base['skeletons']) / duration,
            'skeleton_rate': summary['skeleton_rate'], 'delay_p50_s': delay.get('p50'),
            'delay_p95_s': delay.get('p95'), 'mpjpe_mm': summary['mpjpe_mm'],
            'routes': summary['routes'], 'delay_requirement_s': summary['delay_requirement_s'],
            **link}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--rates', type=float, nargs='+', default=[2.0, 8.0],
                        help='total uplink rate in Mbit/s, split by the TDMA shares')
    parser.add_argument('--cameras', type=int, default=4)
    parser.add_argument('--duration', type=float, default=60.0)
    parser.add_argument('--out', type=pathlib.Path, default=ROOT / 'results' / 'benchmarks')
    args = parser.parse_args()
    reason = unavailable()
    if reason:
        print(f'skipped: {reason}')
        return SKIP
    results = []
    for k, rate in enumerate(args.rates):
        out = args.out / f'shaped_link_{rate:g}mbit'
        shutil.rmtree(out, ignore_errors=True)
        result = run_rate(rate, args.cameras, args.duration, out, 150 + k)
        print(json.dumps(result))
        results.append(result)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / 'shaped_link.json').write_text(json.dumps(results, indent=2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
