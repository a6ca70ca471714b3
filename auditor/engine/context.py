"""What every checker reads: the graph, the rules, the declared use and the policy, with shared graph
queries (ancestors, paths, effective licenses, the nodes that carry a license's terms).

The engine knows no license by name: every term comes from a `LicenseRule`.
"""

from __future__ import annotations

import datetime as dt
from bisect import insort
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from auditor.findings import bfs_tree, lineage_parents, reachable
from auditor.model import (
    Clause,
    DeclaredLicense,
    DeclaredUse,
    EffectiveLicense,
    Finding,
    LineageGraph,
    NodeRecord,
)
from auditor.policy import Policy
from auditor.rules.loader import RuleSet
from auditor.rules.normalize import Normalised, normalise_declared
from auditor.rules.schema import Citation, LicenseRule
from auditor.vocab import CODES, LICENSE_KINDS, RELATION_NATURE, FindingCode, RelationNature, Severity, remedy


def flows(rule: LicenseRule, relation: str) -> bool:
    """Do the rule's terms bind a derivative of this relation? An unknown relation is conservative:
    it carries the terms if any relation does. A distillation (trained on the parent's outputs) carries them
    only where the license makes such a model a derivative (e.g. Gemma §1.1(e) "Model Derivatives")."""
    fd = rule.flows_down
    if RELATION_NATURE.get(relation) == "data":
        return False  # training data is no model: a model license never travels along `trained-on`
    if relation == "unknown":
        return fd.finetune or fd.adapter or fd.quantized or fd.merge or fd.distillation
    return bool(getattr(fd, relation, True))


def chosen_ids(norm: Normalised | None, rules: RuleSet) -> list[str]:
    """AND ids plus, for each OR group, the most permissive alternative."""
    if norm is None:
        return []
    ids = list(norm.rule_ids)
    for group in norm.alternatives:
        ranked = sorted(group, key=lambda rid: (LICENSE_KINDS.index(rules.rules[rid].kind), rid))
        if ranked:
            ids.append(ranked[0])
    return sorted(set(ids))


def clause(cite: Citation | None) -> Clause | None:
    # Built from validated rule data: no need to validate again.
    return Clause.of({"section": cite.section, "quote": cite.quote}) if cite is not None else None


@dataclass
class Ctx:
    graph: LineageGraph
    rules: RuleSet
    use: DeclaredUse
    policy: Policy | None
    today: dt.date
    nodes: dict[str, NodeRecord] = field(default_factory=dict)
    parents: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # child -> [(parent, relation)]
    # child -> the datasets it was trained on (`trained-on` edges): kept out of `parents`, so a dataset is never a
    # model ancestor (effective licenses, conflicts, relabelling); `auditor.engine.datasets` reads them.
    datasets: dict[str, list[str]] = field(default_factory=dict)
    declared: dict[str, Normalised] = field(default_factory=dict)
    curated: set[str] = field(default_factory=set)  # nodes whose license comes from a curated fact
    # (a node's own licenses, an inherited rule id) -> does the rule accept one of them for a derivative (checks.py)
    accepted: dict[tuple[tuple[str, ...], str], bool] = field(default_factory=dict)
    # node -> what the node checkers say about it (model you ship or ancestor alike); node -> what any model holding
    # it as an ancestor has (engine `_node_store`); the stores of the nodes inheriting models hold (the result's
    # `lineage_findings`)
    node_same: dict[str, tuple[Finding, ...]] = field(default_factory=dict)
    node_store: dict[str, tuple[Finding, ...]] = field(default_factory=dict)
    stored: dict[str, tuple[Finding, ...]] = field(default_factory=dict)
    node_worst: dict[str, int] = field(default_factory=dict)  # node -> its store's highest severity rank (or -1)
    # rule id -> its term templates as every model holding it has them (engine `_license_store`), their highest
    # severity rank, and the stores the inheriting models hold (the result's `license_findings`)
    license_store: dict[str, tuple[Finding, ...]] = field(default_factory=dict)
    license_worst: dict[str, int] = field(default_factory=dict)
    license_stored: dict[str, tuple[Finding, ...]] = field(default_factory=dict)
    # rule id -> what its term checkers add for any model holding it (checks.py `term_steps`)
    term_steps: dict[str, tuple[object, ...]] = field(default_factory=dict)
    # (a scoped territory term (its id: the rule set outlives the context), node) -> does the term name the node
    in_scope: dict[tuple[int, str], bool] = field(default_factory=dict)
    _effective: dict[str, list[EffectiveLicense]] = field(default_factory=dict)
    _inherited: dict[str, list[tuple[str, list[str]]]] = field(default_factory=dict)
    # node -> {rule id: the path that brings it}, by one pass in topological order (`_vias`); None once a cycle
    # or a relicensing licensor makes the breadth-first search the only exact answer.
    _via: dict[str, dict[str, list[str]]] | None = field(default_factory=dict)
    _via_checked: bool = False  # `_relicensing` asked once
    _carriers: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    _orgs: dict[str, frozenset[str]] = field(default_factory=dict)  # rule id -> its licensor orgs, lower-cased
    _ancestors: dict[str, list[str]] = field(default_factory=dict)
    _trees: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    _chosen: dict[str, list[str]] = field(default_factory=dict)
    # id of a reading in `declared` (held there as long as the context lives) -> its chosen ids (`chosen`)
    _chosen_by_reading: dict[int, list[str]] = field(default_factory=dict)
    _clauses: dict[tuple[str, str], Clause] = field(default_factory=dict)
    _replaces: dict[tuple[str, str], bool] = field(default_factory=dict)
    relations: set[str] = field(default_factory=set)  # every relation of the graph's edges
    # Parts of findings' messages, by everything each depends on (a code first): the same for the siblings of a large
    # family, built once (checks.py `_conflict_text`, derivatives.py `_relabelled`).
    texts: dict[tuple[object, ...], str] = field(default_factory=dict)
    # node -> the positions in `graph.disagreements` / `graph.cycles` of those about it / through it
    disagreements_at: dict[str, list[int]] = field(default_factory=dict)
    cycles_at: dict[str, list[int]] = field(default_factory=dict)
    _flowing: dict[str, frozenset[str]] = field(default_factory=dict)  # rule id -> the relations its terms flow along
    # node -> (inherited license's path, its rule, (nature, message, path) of a relabelled copy) (engine/derivatives.py)
    relabellings: dict[str, list[tuple[list[str], LicenseRule, tuple[RelationNature, str, list[str]] | None]]] \
        = field(default_factory=dict)

    def clause(self, cite: Citation | None) -> Clause | None:
        """The clause a citation quotes, one shared (immutable) object per citation for every finding and
        obligation that quotes it."""
        if cite is None:
            return None
        key = (cite.section, cite.quote)
        found = self._clauses.get(key)
        if found is None:
            found = self._clauses[key] = Clause.built({"quote": cite.quote, "section": cite.section})
        return found

    # ------------------------------------------------------------------ graph queries

    def chosen(self, node_id: str) -> list[str]:
        """The rule ids a node declares (OR groups resolved to their most permissive branch), once per node."""
        ids = self._chosen.get(node_id)
        if ids is None:
            norm = self.declared.get(node_id)
            # Nodes declaring the same value share one reading (`declared_map`) and its ids: one list for all of them.
            ids = self._chosen_by_reading.get(id(norm))
            if ids is None:
                ids = self._chosen_by_reading[id(norm)] = chosen_ids(norm, self.rules)
            self._chosen[node_id] = ids
        return ids

    def ancestors(self, model_id: str) -> list[str]:
        """Every model the given one derives from, sorted (the nodes its breadth-first tree reaches). A node with
        one parent (most models: fine-tunes, adapters, quantizations) has its parent's ancestors and the parent."""
        found = self._ancestors.get(model_id)
        if found is None:
            parents = self.parents.get(model_id, ())
            if len(parents) == 1 and model_id not in self._trees:
                found = self._ancestors[model_id] = self._one_up(model_id, parents[0][0])
            else:
                found = self._ancestors[model_id] = self._reached(model_id)
        return found

    def _reached(self, model_id: str) -> list[str]:
        tree = self._trees.get(model_id)
        reached = set(tree) if tree is not None else reachable(self.parents, model_id)
        reached.discard(model_id)
        return sorted(reached)

    def _one_up(self, model_id: str, parent: str) -> list[str]:
        """The ancestors of a model with one parent: the parent's (searched, not derived again: no recursion along
        a long chain) and the parent, without the model itself (a cycle through it)."""
        up = self._ancestors.get(parent)
        if up is None:
            up = self._ancestors[parent] = self._reached(parent)
        found = [node_id for node_id in up if node_id != model_id] if model_id in up else list(up)
        if parent != model_id:
            insort(found, parent)
        return found

    def path_to(self, model_id: str, target: str) -> list[str]:
        """The first shortest child -> parent path from the model to `target`, parents taken in sorted
        order (the model alone if there is none). One shared list per (model, target): never mutate it."""
        path = self._bfs_tree(model_id).get(target)
        return path if path is not None else [model_id]

    def _bfs_tree(self, model_id: str) -> dict[str, list[str]]:
        """Breadth-first from the model (parents in sorted order), computed once per model: each node reached,
        with the path that first reached it (its tree path, so a query is one lookup, not a walk back)."""
        tree = self._trees.get(model_id)
        if tree is None:
            tree = self._trees[model_id] = bfs_tree(self.parents, model_id)
        return tree

    def replaces(self, node_id: str, rule: LicenseRule) -> bool:
        """The licensor's own release under another license replaces `rule`'s terms for it and everything
        downstream (e.g. Llama 3.3 §1.b.i: "a copy of *this* Agreement"): the node is in one of the rule's
        `licensor_orgs` and declares licenses of its own, not this one."""
        key = (node_id, rule.id)
        found = self._replaces.get(key)
        if found is None:
            own = self.chosen(node_id)
            found = self._replaces[key] = (node_id.split("/", 1)[0].lower() in self.licensor_orgs(rule)
                                           and bool(own) and rule.id not in own)
        return found

    def licensor_orgs(self, rule: LicenseRule) -> frozenset[str]:
        """The rule's `licensor_orgs`, lower-cased (Hub org names are case-insensitive), once per rule."""
        found = self._orgs.get(rule.id)
        if found is None:
            found = self._orgs[rule.id] = frozenset(o.lower() for o in rule.derivative_licensing.licensor_orgs)
        return found

    def effective(self, model_id: str) -> list[EffectiveLicense]:
        """Own licenses plus flowing-down ancestor licenses, each with the shortest path that carries it."""
        found = self._effective.get(model_id)
        if found is None:
            found = self._effective[model_id] = (self._compute_effective(model_id) if self._vias(model_id) is None
                                                 else self._built(self.inherited(model_id)))
        return found

    def inherited(self, node_id: str) -> list[tuple[str, list[str]]]:
        """(rule id, path) of each of `effective`'s licenses, in its order (an own license's path is the node
        alone), without building the result's objects: what the node checkers ask of every lineage node. Shared
        lists: never mutate them."""
        found = self._inherited.get(node_id)
        if found is None:
            vias = self._vias(node_id)
            found = self._inherited[node_id] = (sorted(vias.items(), key=_via_order) if vias is not None
                                                else [(e.license, e.via) for e in self.effective(node_id)])
        return found

    def _built(self, inherited: list[tuple[str, list[str]]]) -> list[EffectiveLicense]:
        rules = self.rules.rules
        out = []
        for rid, via in inherited:
            rule = rules[rid]
            out.append(_built_effective({  # in EffectiveLicense.SORTED_FIELDS order
                "kind": rule.kind, "license": rid, "name": rule.name, "own": len(via) == 1, "spdx": rule.spdx,
                "url": rule.url, "via": via}))
        return out

    def _vias(self, model_id: str) -> dict[str, list[str]] | None:
        """For each license reaching the model, the path `_compute_effective`'s breadth-first search finds, from
        its parents' answers: a node's own licenses, else through the first parent (sorted) with the shortest
        path whose edge lets the license flow. The same answer where the graph below the model has no cycle and
        no licensor relicenses its own release (`replaces`); None elsewhere (the search is then the answer)."""
        if self._via is None:
            return None
        found = self._via.get(model_id)
        if found is not None:
            return found
        if not self._via_checked:
            self._via_checked = True
            if self._relicensing():
                self._via = None
                return None
        done, open_ = self._via, set()
        stack = [(model_id, False)]
        while stack:
            node_id, expanded = stack.pop()
            if expanded:
                open_.discard(node_id)
                done[node_id] = self._combine(node_id, done)
            elif node_id not in done:
                if node_id in open_:  # a cycle
                    self._via = None
                    return None
                open_.add(node_id)
                stack.append((node_id, True))
                stack.extend((p, False) for p, _ in self.parents.get(node_id, ()) if p not in done)
        return done[model_id]

    def _combine(self, node_id: str, done: dict[str, dict[str, list[str]]]) -> dict[str, list[str]]:
        vias = {rid: [node_id] for rid in self.chosen(node_id)}
        for parent, relation in self.parents.get(node_id, ()):
            for rid, via in done[parent].items():
                current = vias.get(rid)
                if (current is None or len(via) + 1 < len(current)) and relation in self._flows_along(rid):
                    vias[rid] = [node_id, *via]
        return vias

    def _flows_along(self, rid: str) -> frozenset[str]:
        flowing = self._flowing.get(rid)
        if flowing is None:
            rule = self.rules.rules[rid]
            flowing = self._flowing[rid] = frozenset(r for r in self.relations if flows(rule, r))
        return flowing

    def _relicensing(self) -> bool:
        """Does some node of the graph release under its own licenses what a rule names it the licensor of?"""
        orgs = {o.lower() for rule in self.rules.rules.values() for o in rule.derivative_licensing.licensor_orgs}
        return any(node_id.split("/", 1)[0].lower() in orgs and self.chosen(node_id) for node_id in self.nodes)

    def _compute_effective(self, model_id: str) -> list[EffectiveLicense]:
        found: dict[str, EffectiveLicense] = {}
        # BFS over (node, path, relations); a license held by a node flows if every edge on the path lets it flow
        # and no node before its holder replaces it.
        queue: deque[tuple[str, list[str], tuple[str, ...]]] = deque([(model_id, [model_id], ())])
        visited: set[tuple[str, tuple[str, ...]]] = set()
        while queue:
            node_id, path, relations = queue.popleft()
            for rid in self.chosen(node_id):
                if rid not in found and self._reaches(self.rules.rules[rid], path, relations):
                    rule = self.rules.rules[rid]
                    found[rid] = EffectiveLicense.built({  # in EffectiveLicense.SORTED_FIELDS order
                        "kind": rule.kind, "license": rid, "name": rule.name, "own": node_id == model_id,
                        "spdx": rule.spdx, "url": rule.url, "via": path})
            for parent, relation in self.parents.get(node_id, ()):
                if parent in path:
                    continue  # a cycle
                key = (parent, (*relations, relation))
                if key in visited:
                    continue  # a path already queued
                visited.add(key)
                queue.append((parent, [*path, parent], key[1]))
        return sorted(found.values(), key=lambda e: (not e.own, len(e.via), e.license))

    def _reaches(self, rule: LicenseRule, path: list[str], relations: tuple[str, ...]) -> bool:
        """Do the terms of `rule`, held by the last node of `path`, reach its first node along it?"""
        if not relations:
            return True
        if not self._flows_along(rule.id).issuperset(relations):
            return False
        return not (rule.derivative_licensing.licensor_orgs and any(self.replaces(n, rule) for n in path[:-1]))

    def carriers(self, model_id: str, rule: LicenseRule) -> set[str]:
        """Every node on some path from the model to a holder of `rule` along which its terms flow.

        A scoped term (e.g. a territory clause for one kind of model) applies if any of these nodes is in
        scope, not only the nodes of the shortest path shown as `via`.
        """
        key = (model_id, rule.id)
        found = self._carriers.get(key)
        if found is None:
            if self._vias(model_id) is not None:  # nothing below is cyclic and no licensor relicenses
                found = self._carried(model_id, rule.id)
            else:
                found = self._carriers[key] = self._holders(self._flowing_reach(model_id, rule), rule)
        return found

    def _carried(self, model_id: str, rid: str) -> set[str]:
        """`carriers` from the parents' answers, in one pass in topological order: a node carries the license if
        it holds it or a parent it flows from carries it, and then so does every carrier of those parents. The
        same answer where nothing below the model is cyclic and no node `replaces` a license (the `_vias`
        conditions). Each answer is shared: never mutate it."""
        memo, flowing = self._carriers, self._flows_along(rid)
        stack = [(model_id, False)]
        while stack:
            node_id, expanded = stack.pop()
            if (node_id, rid) in memo:
                continue
            parents = [p for p, relation in self.parents.get(node_id, ()) if relation in flowing]
            if expanded:
                found: set[str] = set().union(*(memo[(p, rid)] for p in parents))
                if found or rid in self.chosen(node_id):
                    found.add(node_id)
                memo[(node_id, rid)] = found
            else:
                stack.append((node_id, True))
                stack.extend((p, False) for p in parents if (p, rid) not in memo)
        return memo[(model_id, rid)]

    def _flowing_reach(self, model_id: str, rule: LicenseRule) -> set[str]:
        reach: set[str] = set()
        stack = [model_id]
        while stack:
            node_id = stack.pop()
            if node_id not in reach:
                reach.add(node_id)
                if not self.replaces(node_id, rule):
                    stack.extend(p for p, relation in self.parents.get(node_id, []) if flows(rule, relation))
        return reach

    def _holders(self, reach: set[str], rule: LicenseRule) -> set[str]:
        """Nodes of `reach` that hold the license themselves or through a flowing edge."""
        children: dict[str, list[str]] = {}
        for child in reach:
            for parent, relation in self.parents.get(child, []):
                if parent in reach and flows(rule, relation):
                    children.setdefault(parent, []).append(child)
        pending = [n for n in reach if rule.id in self.chosen(n)]
        holds: set[str] = set()
        while pending:
            node_id = pending.pop()
            if node_id not in holds:
                holds.add(node_id)
                pending.extend(children.get(node_id, []))
        return holds


class Findings:
    """The findings of one model, built by the checkers."""

    def __init__(self, ctx: Ctx, model: str) -> None:
        self.ctx = ctx
        self.model = model
        self.items: list[Finding] = []

    def add(
        self,
        code: FindingCode,
        severity: Severity,
        message: str,
        *,
        license: str | None = None,
        cite: Citation | None = None,
        via: list[str] | None = None,
        field: str | None = None,
    ) -> None:
        self._keep(_fields(self.ctx, code, severity, message, license, cite, field, self.model, via or [self.model]))

    def _keep(self, values: SharedFinding) -> None:
        # Every value is typed by `add`'s signature and the vocabulary: constructed without re-validation.
        self.items.append(_built_finding(values))

    def add_shared(self, template: SharedFinding, via: list[str]) -> None:
        """A finding made from `template` (`shared_finding`) for this model, with its path `via`."""
        values = template.copy()  # keeps Finding.SORTED_FIELDS order
        values["model"] = self.model
        values["via"] = via
        self.items.append(_built_finding(values))

    def add_term(self, template: SharedFinding, label: str, cut: int, via: list[str]) -> None:
        """A finding made from a term template (`TermTemplates`): the template's message with its first `cut`
        characters (the template's label) replaced by `label`, for this model, with its path `via`."""
        values = template.copy()  # keeps Finding.SORTED_FIELDS order
        values["message"] = label + template["message"][cut:]  # type: ignore[index]
        values["model"] = self.model
        values["via"] = via
        self.items.append(_built_finding(values))


class TemplateFindings(Findings):
    """What a term checker adds, kept as `SharedFinding`s to be instantiated per model (`Findings.add_term`)."""

    def __init__(self, ctx: Ctx) -> None:
        super().__init__(ctx, TEMPLATE_VIA[0])
        self.templates: list[SharedFinding] = []

    def _keep(self, values: SharedFinding) -> None:
        self.templates.append(values)


# The path of the license a term template is made for: a model and a holder no id can equal (ids never hold NUL).
TEMPLATE_VIA = ("\x00model", "\x00holder")

# A finding's fields without its model and path: what a finding about a node says to every model that holds it.
SharedFinding = dict[str, object]


def shared_finding(ctx: Ctx, code: FindingCode, severity: Severity, message: str, *, license: str | None = None,
                   cite: Citation | None = None, field: str | None = None) -> SharedFinding:
    """A finding's fields, built once, for `Findings.add_shared` to copy for each model: the same finding as
    `Findings.add` with the same arguments."""
    return _fields(ctx, code, severity, message, license, cite, field, "", [])


def _fields(ctx: Ctx, code: FindingCode, severity: Severity, message: str, license: str | None,
            cite: Citation | None, field: str | None, model: str, via: list[str]) -> dict[str, object]:
    return {  # in Finding.SORTED_FIELDS order
        "clause": ctx.clause(cite) if cite is not None else None, "code": code, "default_severity": None,
        "field": field, "license": license, "message": message, "model": model, "remedy": _REMEDIES[code],
        "severity": severity, "via": via, "waived": False, "waiver": None}


_built_finding = Finding.built
_built_effective = EffectiveLicense.built
_REMEDIES: Mapping[str, str] = MappingProxyType({code: remedy(code) for code in CODES})


def _via_order(item: tuple[str, list[str]]) -> tuple[int, str]:
    """`_compute_effective`'s order of (rule id, path) pairs: own licenses (a path of one) first, then by the
    path's length, then by id."""
    return len(item[1]), item[0]


def declared_map(
    graph: LineageGraph, rules: RuleSet, fallback: dict[str, DeclaredLicense]
) -> tuple[dict[str, Normalised], set[str]]:
    """Each node's declared license, normalised; curated facts stand in where a node can't be read.

    Most nodes declare one of a few values: each value is normalised once and its (read-only) reading shared. The
    node's id matters only through a curated license fact for it (a shared name's text), so such a node is read
    on its own."""
    out: dict[str, Normalised] = {}
    curated: set[str] = set()
    readings: dict[tuple[tuple[str, ...], str | None, str | None, tuple[str, ...]], Normalised] = {}
    for node in graph.nodes:
        declared = node.facts.declared if node.facts is not None else None
        if (declared is None or declared.is_empty) and node.id in fallback:
            declared = fallback[node.id]
            curated.add(node.id)
        if declared is None:
            continue
        if node.id.lower() in rules.license_facts:
            out[node.id] = normalise_declared(declared, rules, node.id)
            continue
        key = (tuple(declared.license), declared.license_name, declared.license_link, tuple(declared.tag_licenses))
        found = readings.get(key)
        if found is None:
            found = readings[key] = normalise_declared(declared, rules, node.id)
        out[node.id] = found
    return out, curated


def build_ctx(graph: LineageGraph, rules: RuleSet, use: DeclaredUse, policy: Policy | None, today: dt.date,
              fallback: dict[str, DeclaredLicense]) -> Ctx:
    ctx = Ctx(graph=graph, rules=rules, use=use, policy=policy, today=today)
    ctx.nodes = {n.id: n for n in graph.nodes}
    ctx.parents = lineage_parents(graph)  # the same the result's readers walk (auditor/findings.py)
    for edge in graph.edges:
        if RELATION_NATURE.get(edge.relation) == "data":
            ctx.datasets.setdefault(edge.child, []).append(edge.parent)
        else:
            ctx.relations.add(edge.relation)
    for datasets in ctx.datasets.values():
        datasets.sort()
    ctx.declared, ctx.curated = declared_map(graph, rules, fallback)
    for index, disagreement in enumerate(graph.disagreements):
        ctx.disagreements_at.setdefault(disagreement.model, []).append(index)
    for index, cycle in enumerate(graph.cycles):
        for node_id in dict.fromkeys(cycle):
            ctx.cycles_at.setdefault(node_id, []).append(index)
    return ctx
