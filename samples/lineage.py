"""Lineage graph of a sample as server-side inline SVG, laid out by generation.

No JS library: the graph is small (tens of nodes), a column per generation reads well on a
tablet, and the page works without scripts."""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass

from django.db.models import Q
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from core.access import restrict

from .models import Sample, SampleParent

NODE_W, NODE_H, COL_GAP, ROW_GAP, PAD = 150, 40, 60, 14, 12
KIND_COLOURS = {
    "cs_oleate": "#fde7c8", "qd_batch": "#fbd3d0", "qd_ink": "#f8c7dd", "precursor_solution": "#dfe3fb",
    "solution": "#e7e7e7", "substrate": "#d8eef0", "film": "#dff1dc", "device": "#fff0b8",
}


@dataclass
class Lineage:
    nodes: list[Sample]
    links: list[SampleParent]
    depth: dict[int, int]
    svg: SafeString


def _generations(me: int, links: list[SampleParent]) -> dict[int, int]:
    """Generation of every node relative to ``me`` (parents −1, children +1), by breadth-first
    walks up and down; the longest path wins so a grandparent that is also a parent sits left."""
    up, down = defaultdict(list), defaultdict(list)
    for link in links:
        up[link.child_id].append(link.parent_id)
        down[link.parent_id].append(link.child_id)
    depth = {me: 0}
    for graph, step in ((up, -1), (down, 1)):
        queue = deque([me])
        seen_depth = {me: 0}
        while queue:
            node = queue.popleft()
            for nxt in graph[node]:
                d = seen_depth[node] + step
                if nxt not in seen_depth or abs(d) > abs(seen_depth[nxt]):
                    if abs(d) > 50:  # guard against a malformed cycle
                        continue
                    seen_depth[nxt] = d
                    queue.append(nxt)
        depth.update({k: v for k, v in seen_depth.items() if k != me})
    return depth


def sample_lineage(sample: Sample, user) -> Lineage:
    """Ancestors and descendants the user may see (3 queries), laid out left (older) to right."""
    related = list(restrict(sample.ancestors() | sample.descendants(), user).only("id", "label", "kind", "name", "status"))
    nodes = [sample, *[s for s in related if s.pk != sample.pk]]
    ids = [n.pk for n in nodes]
    links = list(SampleParent.objects.filter(Q(child_id__in=ids) & Q(parent_id__in=ids)))
    depth = _generations(sample.pk, links)
    nodes = [n for n in nodes if n.pk in depth]
    return Lineage(nodes=nodes, links=links, depth=depth, svg=_render(sample, nodes, links, depth))


def _render(me: Sample, nodes: list[Sample], links: list[SampleParent], depth: dict[int, int]) -> SafeString:
    columns: dict[int, list[Sample]] = defaultdict(list)
    for node in sorted(nodes, key=lambda n: n.label):
        columns[depth[node.pk]].append(node)
    first = min(columns)
    tallest = max(len(c) for c in columns.values())
    height = PAD * 2 + tallest * NODE_H + (tallest - 1) * ROW_GAP
    width = PAD * 2 + len(columns) * NODE_W + (len(columns) - 1) * COL_GAP
    pos = {}
    for d, col in columns.items():
        x = PAD + (d - first) * (NODE_W + COL_GAP)
        col_h = len(col) * NODE_H + (len(col) - 1) * ROW_GAP
        y0 = (height - col_h) / 2
        for i, node in enumerate(col):
            pos[node.pk] = (x, y0 + i * (NODE_H + ROW_GAP))
    out = [f'<svg class="lineage" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" role="img" aria-label="Lineage of {escape(me.label)}">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#8a94a6"/></marker></defs>']
    for link in links:
        if link.parent_id not in pos or link.child_id not in pos:
            continue
        (px, py), (cx, cy) = pos[link.parent_id], pos[link.child_id]
        x1, y1, x2, y2 = px + NODE_W, py + NODE_H / 2, cx, cy + NODE_H / 2
        mid = (x1 + x2) / 2
        title = f"<title>{escape(link.role)}</title>" if link.role else ""
        out.append(f'<path d="M{x1:.0f},{y1:.0f} C{mid:.0f},{y1:.0f} {mid:.0f},{y2:.0f} {x2 - 2:.0f},{y2:.0f}" '
                   f'fill="none" stroke="#8a94a6" stroke-width="1.5" marker-end="url(#arrow)">{title}</path>')
    for node in nodes:
        x, y = pos[node.pk]
        is_me = node.pk == me.pk
        fill = KIND_COLOURS.get(node.kind, "#eee")
        stroke, sw = ("#3b4cca", 2.5) if is_me else ("#9aa3b2", 1)
        url = reverse("sample-detail", args=[node.label])
        out.append(
            f'<a href="{escape(url)}" class="lineage-node{" me" if is_me else ""}" data-label="{escape(node.label)}">'
            f'<title>{escape(node.label)} · {escape(node.get_kind_display())}{" · " + escape(node.name) if node.name else ""}</title>'
            f'<rect x="{x}" y="{y:.0f}" width="{NODE_W}" height="{NODE_H}" rx="6" fill="{fill}" stroke="{stroke}" stroke-width="{sw}"/>'
            f'<text x="{x + 10}" y="{y + 17:.0f}" font-size="13" font-weight="600" fill="#1d2330">{escape(node.label)}</text>'
            f'<text x="{x + 10}" y="{y + 32:.0f}" font-size="11" fill="#4b5563">{escape(node.get_kind_display())}</text>'
            f'</a>')
    out.append("</svg>")
    return mark_safe("".join(out))  # every interpolated string above is escaped
