# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
SROS2 permissions policy of a graph, from what its nodes really publish and subscribe.

The graph of a config is started (the runner), every node of its description is asked over the
ROS graph API for its publications, subscriptions, services and clients, and the policy XML
(``sros2`` policy format 0.2.0) gets one enclave per node (``NodeSpec.enclave``,
``/mec_coop<node's fully qualified name>``; the launch files pass it as ``--enclave``) that allows
exactly those. Names are fully qualified. Nothing is listed by hand, so the
policy cannot drift from the code; a node that is not up within the timeout is an error.

Run: ``python -m mec_coop.ros.sros2 virtual_rig --out policy.xml [--set section.key=value]``.
Use with a ROS 2 install that has ``sros2`` (the wheels here have no DDS Security):
``ros2 security create_permission``/``create_enclave`` per enclave, or
``ros2 security generate_artifacts -k keystore -p policy.xml`` (README, "Security").
"""

import argparse
import pathlib
import sys
import time
from typing import Iterable, Optional
import xml.etree.ElementTree as ET

import rclpy
from rclpy.node import Node, NodeNameNonExistentError

from mec_coop.graph import build_graph, load_config, NodeSpec
from mec_coop.runner import GraphProcesses

# Kinds of access, as the policy names them, and the rclpy query that lists each.
ACCESS = (('topics', 'publish', 'get_publisher_names_and_types_by_node'),
          ('topics', 'subscribe', 'get_subscriber_names_and_types_by_node'),
          ('services', 'reply', 'get_service_names_and_types_by_node'),
          ('services', 'request', 'get_client_names_and_types_by_node'))


def _endpoints(probe: Node, spec) -> Optional[dict]:
    namespace = f'/{spec.namespace.strip("/")}' if spec.namespace else '/'
    try:
        return {(kind, access): sorted({name for name, _ in getattr(probe, query)(
            spec.name, namespace)}) for kind, access, query in ACCESS}
    except NodeNameNonExistentError:   # not up yet
        return None


def _ready(access: Optional[dict]) -> bool:
    if access is None or not access[('services', 'reply')]:
        return False
    # A lifecycle node creates its publishers on configure (after its model loaded) and its
    # subscriptions on activate; /diagnostics comes with the configure step.
    lifecycle = any(name.endswith('/get_state') for name in access[('services', 'reply')])
    return not lifecycle or '/diagnostics' in access[('topics', 'publish')]


def observe(probe: Node, specs: Iterable[NodeSpec], timeout_s: float = 180.0,
            stable_s: float = 3.0) -> dict:
    """Return ``enclave -> {(kind, access): names}`` of the nodes of ``specs`` once settled."""
    specs = list(specs)
    deadline = time.monotonic() + timeout_s
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        found = {s.enclave: _endpoints(probe, s) for s in specs}
        if found != last:
            last, since = found, time.monotonic()
        elif all(_ready(a) for a in found.values()) and \
                time.monotonic() - since >= stable_s:
            return found
        time.sleep(0.5)
    missing = sorted(k for k, a in (last or {}).items() if not _ready(a))
    raise TimeoutError(f'nodes not up and active within {timeout_s} s: {missing}')


def policy_xml(found: dict) -> str:
    """Render :func:`observe`'s result as a policy document."""
    root = ET.Element('policy', version='0.2.0')
    enclaves = ET.SubElement(root, 'enclaves')
    for path, access in sorted(found.items()):
        namespace, _, name = path.removeprefix('/mec_coop').rpartition('/')
        profiles = ET.SubElement(ET.SubElement(enclaves, 'enclave', path=path), 'profiles')
        profile = ET.SubElement(profiles, 'profile', ns=namespace or '/', node=name)
        for (kind, mode), names in access.items():
            if names:
                group = ET.SubElement(profile, kind, **{mode: 'ALLOW'})
                for item in names:
                    ET.SubElement(group, kind[:-1]).text = item
    ET.indent(root)
    return ET.tostring(root, encoding='unicode', xml_declaration=True) + '\n'


def main(argv: Optional[list[str]] = None) -> int:
    """Start the graph of a config, observe its nodes and write the policy."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='config path or name in config/ (e.g. virtual_rig)')
    parser.add_argument('--set', action='append', default=[], metavar='SECTION.KEY=VALUE')
    parser.add_argument('--out', type=pathlib.Path, default=pathlib.Path('policy.xml'))
    args = parser.parse_args(argv)
    specs = build_graph(load_config(args.config, args.set))
    rclpy.init()
    probe = rclpy.create_node('mec_coop_policy_probe')
    try:
        with GraphProcesses(specs, args.out.parent / f'{args.out.stem}_logs'):
            found = observe(probe, specs)
    finally:
        probe.destroy_node()
        rclpy.try_shutdown()
    args.out.write_text(policy_xml(found))
    print(f'wrote {args.out}: {len(found)} enclaves')
    return 0


if __name__ == '__main__':
    sys.exit(main())
