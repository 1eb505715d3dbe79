# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Operator DAG of a DNN and its partition points.

"Task-Aware Collaborative Inference and Fine-Grained DNN Partitioning in MEC Networks" (Zhang et
al., IEEE TMC 2026, doi 10.1109/TMC.2025.3650680), Section III-B and Algorithm 1: every operator
is a node with parent and child links (the "bidirectional graph linked list"), its MACs, the size
of its output and its latency; cheap operators are merged into their producer; a partition point
is a set of operators whose outputs are all the local part sends onwards.

Two enumerations, selectable:

* ``'paper'``: Algorithm 1 as the paper writes it (each operator plus one operator of every
  branch parallel to it), deduplicated and filtered with the valid-cut test (antichain, and every
  edge leaving the local part starts at a cut member), plus the raw input and the all-local point.
* ``'prefix'`` (ours): every downward-closed local part along one topological order, sending its
  whole frontier. A tensor a skip connection still needs is sent too, so networks whose skips
  span the cut (U-Net/FPN necks, the pose model's) get cut points the antichain test refuses.

The graph holds optional callables, so the same object runs a model split in two
(:meth:`OpDag.run`); it imports no torch.
"""

from dataclasses import dataclass, field
import itertools
from typing import Any, Callable, Dict, FrozenSet, Iterable, List, Optional, Sequence, Set, Tuple

INPUT = 'input'


@dataclass
class OpNode:
    """One operator: ``fn(*parent outputs)`` gives its output."""

    name: str
    parents: List[str]
    kind: str = ''
    macs: float = 0.0            # multiply-accumulates of one forward pass
    out_bytes: int = 0           # bytes of its output at float32
    latency_s: float = 0.0       # measured on this machine
    fn: Optional[Callable[..., Any]] = None
    members: List[str] = field(default_factory=list)   # operators merged into this one


@dataclass(frozen=True)
class Cut:
    """A partition point: the head computes ``local`` and sends the outputs of ``members``."""

    members: Tuple[str, ...]
    local: FrozenSet[str]
    sent_bytes: int
    local_macs: float
    local_latency_s: float

    @property
    def is_input(self) -> bool:
        return self.members == (INPUT,)


class OpDag:
    """Operators in topological order with parent/child links, one source (``input``)."""

    def __init__(self, nodes: Sequence[OpNode], input_bytes: int = 0):
        self.nodes: Dict[str, OpNode] = {}
        for node in nodes:
            missing = [p for p in node.parents if p not in self.nodes and p != INPUT]
            if missing:
                raise ValueError(f'operator {node.name!r}: parents {missing} are not earlier '
                                 'operators (the list must be in topological order)')
            if node.name in self.nodes or node.name == INPUT:
                raise ValueError(f'duplicate operator name {node.name!r}')
            self.nodes[node.name] = node
        self.input_bytes = int(input_bytes)
        self._closure()

    def _closure(self) -> None:
        self.children: Dict[str, List[str]] = {INPUT: []}
        self.children.update({n: [] for n in self.nodes})
        for node in self.nodes.values():
            for p in node.parents:
                self.children[p].append(node.name)
        self.anc: Dict[str, Set[str]] = {INPUT: set()}
        for node in self.nodes.values():
            self.anc[node.name] = set().union(*([{p} | self.anc[p] for p in node.parents]
                                                or [set()]))
        self.desc: Dict[str, Set[str]] = {n: set() for n in self.children}
        for name in reversed(list(self.nodes)):
            for c in self.children[name]:
                self.desc[name] |= {c} | self.desc[c]
        self.desc[INPUT] = set(self.nodes)

    @property
    def order(self) -> List[str]:
        return list(self.nodes)

    @property
    def sinks(self) -> List[str]:
        return [n for n in self.nodes if not self.children[n]]

    @property
    def total_macs(self) -> float:
        return sum(n.macs for n in self.nodes.values())

    def merge_cheap(self, max_macs_fraction: float = 0.01) -> 'OpDag':
        """
        Fold cheap operators into their producer (paper, Section III-B: e.g. pooling).

        An operator with one parent, whose parent feeds only it, and with fewer than
        ``max_macs_fraction`` of the largest operator's MACs joins that parent: MACs and
        latency add up, the merged node outputs the later tensor. Cut points inside such a chain
        would only send the same or a larger tensor later for no saved work.
        """
        limit = max_macs_fraction * max([n.macs for n in self.nodes.values()] + [0.0])
        merged: Dict[str, OpNode] = {}
        rename: Dict[str, str] = {}
        for node in self.nodes.values():
            parents = [rename.get(p, p) for p in node.parents]
            head = merged.get(parents[0]) if len(parents) == 1 else None
            alone = len(self.children[node.parents[0]]) == 1
            if head is not None and node.macs <= limit and alone:
                head.fn = _compose(head.fn, node.fn)
                head.macs += node.macs
                head.latency_s += node.latency_s
                head.out_bytes = node.out_bytes
                head.members.append(node.name)
                rename[node.name] = head.name
                continue
            merged[node.name] = OpNode(node.name, parents, node.kind, node.macs, node.out_bytes,
                                       node.latency_s, node.fn,
                                       list(node.members or [node.name]))
        return OpDag(list(merged.values()), self.input_bytes)

    # ----- partition points -----------------------------------------------------------------

    def local_part(self, members: Iterable[str]) -> FrozenSet[str]:
        """Return the cut members and all their ancestors (the input excluded)."""
        local = set()
        for m in members:
            local |= {m} | self.anc[m]
        local.discard(INPUT)
        return frozenset(local)

    def frontier(self, local: Iterable[str]) -> Tuple[str, ...]:
        """Operators of ``local`` (or the input) with an edge leaving it, in graph order."""
        local = set(local)
        inside = local | {INPUT}
        out = [n for n in [INPUT] + self.order
               if n in inside and any(c not in local for c in self.children[n])]
        return tuple(out)

    def is_valid_cut(self, members: Iterable[str], antichain: bool = True) -> Tuple[bool, str]:
        """
        Test a cut: an antichain, and every edge leaving the local part starts at a member.

        ``antichain=False`` drops the first condition (the ``'prefix'`` cuts' test).
        """
        members = set(members)
        if not members:
            return False, 'empty cut'
        unknown = members - set(self.children)
        if unknown:
            return False, f'unknown operators {sorted(unknown)}'
        for a in members if antichain else ():
            if members & self.anc[a]:
                return False, f'not an antichain: {sorted(members & self.anc[a])} precede {a}'
        local = self.local_part(members)
        for u in local | {INPUT}:
            for v in self.children[u]:
                if v not in local and u not in members:
                    return False, f'edge {u}->{v} leaves the local part from a non-member'
        return True, ''

    def cut(self, members: Iterable[str]) -> Cut:
        """Return the :class:`Cut` of ``members`` (local part, bytes sent, local MACs/latency)."""
        members = tuple(n for n in [INPUT] + self.order if n in set(members))
        local = self.local_part(members)
        sent = sum(self.input_bytes if m == INPUT else self.nodes[m].out_bytes
                   for m in members)
        return Cut(members, local, sent, sum(self.nodes[n].macs for n in local),
                   sum(self.nodes[n].latency_s for n in local))

    def paper_candidates(self, max_combinations: int = 4096) -> Set[FrozenSet[str]]:
        """Return Algorithm 1's candidates before the validity filter (one node per branch)."""
        out: Set[FrozenSet[str]] = set()
        pool = set(self.nodes)
        for p in self.order:
            p1 = pool - ({p} | self.anc[p] | self.desc[p])
            if not p1:
                out.add(frozenset({p}))
                continue
            groups = {frozenset(p1 - (p1 - ({n} | self.anc[n] | self.desc[n]))) for n in p1}
            combos = itertools.islice(itertools.product(*[sorted(g) for g in groups]),
                                      max_combinations)
            out.update(frozenset({p, *c}) for c in combos)
        return out

    def partition_points(self, method: str = 'paper') -> List[Cut]:
        """
        Enumerate partition points, sorted by local MACs (index 0: send the raw input).

        ``method`` is ``'paper'`` (Algorithm 1 + valid-cut test) or ``'prefix'`` (frontiers of
        topological prefixes); both end with the all-local point (members = the sinks).
        """
        if method == 'paper':
            sets = [c for c in self.paper_candidates() if self.is_valid_cut(c)[0]]
        elif method == 'prefix':
            sets = [frozenset(self.frontier(self.order[:k])) for k in range(1, len(self.order))]
        else:
            raise ValueError(f"unknown enumeration {method!r} (expected 'paper' or 'prefix')")
        cuts = {self.cut(s).members: self.cut(s) for s in sets}
        cuts.pop(tuple(self.sinks), None)
        cuts.pop((INPUT,), None)
        ordered = sorted(cuts.values(), key=lambda c: (c.local_macs, len(c.local), c.members))
        return [self.cut([INPUT])] + ordered + [self.cut(self.sinks)]

    # ----- execution ------------------------------------------------------------------------

    def run(self, values: Dict[str, Any], names: Iterable[str]) -> Dict[str, Any]:
        """Run the operators ``names`` (graph order) on ``values`` (at least their inputs)."""
        values = dict(values)
        wanted = set(names)
        for name in self.order:
            if name in wanted:
                node = self.nodes[name]
                if node.fn is None:
                    raise ValueError(f'operator {name!r} has no callable')
                values[name] = node.fn(*[values[p] for p in node.parents])
        return values

    def head(self, x: Any, cut: Cut) -> Dict[str, Any]:
        """Run the local part of ``cut`` on ``x``; return the tensors it sends, by operator."""
        values = self.run({INPUT: x}, cut.local)
        return {m: values[m] for m in cut.members}

    def tail(self, sent: Dict[str, Any], cut: Cut) -> Dict[str, Any]:
        """Run the remote part of ``cut`` from the sent tensors; return the sinks' outputs."""
        missing = [m for m in cut.members if m not in sent]
        if missing:
            raise ValueError(f'tail of cut {cut.members} misses tensors {missing}')
        values = self.run(sent, set(self.nodes) - cut.local)
        return {s: values[s] for s in self.sinks}


def _compose(first: Optional[Callable[..., Any]],
             second: Optional[Callable[..., Any]]) -> Optional[Callable[..., Any]]:
    if first is None or second is None:
        return None
    return lambda *args: second(first(*args))
