"""Effective licenses by one pass in topological order (`Ctx._vias`) give exactly the breadth-first search's answer
(`Ctx._compute_effective`): the same licenses, each with the same path. Where a cycle or a licensor relicensing its
own release could make them differ, the search answers."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from auditor.engine.context import Ctx, build_ctx
from auditor.model import DeclaredLicense, DeclaredUse, EdgeRecord, LineageGraph, ModelFacts, NodeRecord
from auditor.rules.loader import RuleSet, load_rules
from auditor.vocab import RELATIONS

LICENSES = ["apache-2.0", "mit", "llama3.1", "gemma", "cc-by-nc-4.0", "cc-by-sa-4.0", "openrail", "cc-by-nd-4.0",
            "qwen", "made-up-license", "gpl-3.0"]


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules()


def _random_graph(seed: int, nodes: int, org: str = "example-org", cycle: bool = False) -> LineageGraph:
    """Parents among earlier nodes (so no cycle unless asked), up to three of them, sometimes the same parent
    twice under two relations, relations of every kind, some nodes declaring nothing or two licenses."""
    rng = random.Random(seed)
    ids = [f"{org}/n{i:03d}" for i in range(nodes)]
    records, edges = [], []
    for i, rid in enumerate(ids):
        declared = rng.sample(LICENSES, rng.choice([0, 1, 1, 1, 2]))
        facts = ModelFacts(id=rid, requested=rid, source="hub", declared=DeclaredLicense(license=declared))
        records.append(NodeRecord(id=rid, facts=facts))
        for parent in rng.sample(ids[:i], min(i, rng.choice([0, 1, 1, 2, 3]))):
            for relation in rng.sample(RELATIONS, rng.choice([1, 1, 1, 2])):
                edges.append(EdgeRecord(child=rid, parent=parent, relation=relation, evidence=[]))
    if cycle:  # the last node and the second derive from each other
        edges.append(EdgeRecord(child=ids[1], parent=ids[-1], relation="finetune", evidence=[]))
        edges.append(EdgeRecord(child=ids[-1], parent=ids[1], relation="adapter", evidence=[]))
    return LineageGraph(roots=ids[::-1], nodes=records, edges=edges)


def _ctx(graph: LineageGraph, rules: RuleSet) -> Ctx:
    return build_ctx(graph, rules, DeclaredUse(), None, dt.date(2026, 1, 1), {})


@pytest.mark.parametrize("seed", range(12))
def test_the_topological_pass_finds_the_searchs_paths(rules: RuleSet, seed: int) -> None:
    graph = _random_graph(seed, 120)
    ctx = _ctx(graph, rules)
    inherited = 0
    for node in reversed(graph.nodes):  # from the leaves: most answers come from the pass, not the search
        fast = ctx.effective(node.id)
        assert ctx._via is not None and node.id in ctx._via  # answered by the pass
        assert fast == ctx._compute_effective(node.id), node.id
        inherited += sum(not e.own for e in fast)
    assert inherited > 100  # licenses flowed down many paths


def test_a_cycle_hands_the_answer_back_to_the_search(rules: RuleSet) -> None:
    ctx = _ctx(_random_graph(5, 60, cycle=True), rules)
    assert ctx.effective("example-org/n000") == ctx._compute_effective("example-org/n000")
    assert ctx._via is not None  # nothing below n000: answered by the pass
    leaf = "example-org/n059"
    assert ctx.effective(leaf) == ctx._compute_effective(leaf)
    assert ctx._via is None
    assert any(not e.own for e in ctx.effective(leaf))


def test_a_licensor_relicensing_its_release_hands_the_answer_back_to_the_search(rules: RuleSet) -> None:
    orgs = sorted({o for r in rules.rules.values() for o in r.derivative_licensing.licensor_orgs})
    graph = _random_graph(7, 40, org=orgs[0])
    ctx = _ctx(graph, rules)
    for node in graph.nodes:
        assert ctx.effective(node.id) == ctx._compute_effective(node.id)
    assert ctx._via is None


@pytest.mark.parametrize("seed", range(8))
def test_the_topological_pass_finds_the_searchs_carriers(rules: RuleSet, seed: int) -> None:
    """`Ctx.carriers` from the parents' answers: the nodes the search (`_flowing_reach`, then `_holders`) finds."""
    graph = _random_graph(seed, 80)
    ctx = _ctx(graph, rules)
    carried = 0
    declared = sorted({rid for node in graph.nodes for rid in ctx.chosen(node.id)})
    for node in reversed(graph.nodes):
        for rid in declared:
            rule = rules.rules[rid]
            fast = ctx.carriers(node.id, rule)
            assert fast == ctx._holders(ctx._flowing_reach(node.id, rule), rule), (node.id, rid)
            carried += len(fast) > 1
    assert ctx._via is not None  # every answer came from the pass
    assert carried > 50  # licenses were carried along paths of several nodes


def test_a_cycle_hands_the_carriers_back_to_the_search(rules: RuleSet) -> None:
    ctx = _ctx(_random_graph(5, 60, cycle=True), rules)
    leaf = "example-org/n059"
    for rid in sorted({rid for node in ctx.nodes for rid in ctx.chosen(node)}):
        rule = rules.rules[rid]
        assert ctx.carriers(leaf, rule) == ctx._holders(ctx._flowing_reach(leaf, rule), rule)
    assert ctx._via is None
