#!/usr/bin/env python3
"""check_graph_readers.py - read a trace's GEXF and GraphML back with networkx.

    python3 tests/support/check_graph_readers.py FLOW.json FLOW.gexf FLOW.graphml

The three files are one gl_flow written three ways (test_trace.c writes
them).  networkx's read_gexf and read_graphml are parsers written
independently of gpuledger's libxml2 writer, so what they read back is
compared with the JSON (whose own fields test_trace checks against the
hand-built store): the same nodes and directed edges, node attributes
entity / kind / label / flag_score with the declared types, and the edge
weight equal to the JSON edge's transfer_count (weight = number of
transfers: per-token amounts are 256-bit integers in several tokens, which
no single float can hold; they travel exact in the `amounts` attribute,
compared here too).

Exit status: 0 all agree; 1 a difference (each printed); 77 networkx is not
installed (the caller skips, saying so).
"""
import json
import sys

try:
    import networkx as nx
except ImportError:
    print("networkx is not installed (apt-get install python3-networkx)", file=sys.stderr)
    sys.exit(77)

problems = []


def expect(cond, what):
    if not cond:
        problems.append(what)


def short_addr(a):
    # graph_export.c's short_addr: the display label of an unlabelled wallet.
    return f"{a[:6]}..{a[-4:]}"


def amounts_text(edge):
    # graph_export.c's amounts_text, rebuilt from the JSON amounts.
    return "; ".join(f"{x['amount']} {x['token']}" for x in edge["amounts"])


def check(reader, g, flow):
    nodes = {n["address"]: n for n in flow["nodes"]}
    expect(g.is_directed(), f"{reader}: the graph is not directed")
    expect(g.number_of_nodes() == len(nodes), f"{reader}: {g.number_of_nodes()} nodes, JSON has {len(nodes)}")
    expect(set(g.nodes) == set(nodes), f"{reader}: node ids differ from the JSON addresses")
    for addr, want in nodes.items():
        if addr not in g.nodes:
            continue
        got = g.nodes[addr]
        # entity: an integer when the analysis gave one, else absent.
        if want["entity"] is None:
            expect("entity" not in got, f"{reader}: {addr} has entity {got.get('entity')!r}, JSON none")
        else:
            expect(type(got.get("entity")) is int and got["entity"] == want["entity"],
                   f"{reader}: {addr} entity {got.get('entity')!r}, JSON {want['entity']}")
        if want["kind"] is None:
            expect("kind" not in got, f"{reader}: {addr} has kind {got.get('kind')!r}, JSON none")
        else:
            expect(got.get("kind") == want["kind"], f"{reader}: {addr} kind {got.get('kind')!r}, JSON {want['kind']!r}")
        # label: GEXF readers fold the `label` attribute into the node's own
        # label, which is the stored label or else the short address.
        want_label = want["label"]
        if reader == "gexf" and want_label is None:
            want_label = short_addr(addr)
        if want_label is None:
            expect("label" not in got, f"{reader}: {addr} has label {got.get('label')!r}, JSON none")
        else:
            expect(got.get("label") == want_label, f"{reader}: {addr} label {got.get('label')!r}, want {want_label!r}")
        if want["flag_score"] is None:
            expect("flag_score" not in got, f"{reader}: {addr} has flag_score {got.get('flag_score')!r}, JSON none")
        else:
            fs = got.get("flag_score")
            expect(type(fs) is float and fs == want["flag_score"],
                   f"{reader}: {addr} flag_score {fs!r}, JSON {want['flag_score']}")
        for b in ("flagged", "hub", "root"):
            expect(got.get(b) is want[b], f"{reader}: {addr} {b} {got.get(b)!r}, JSON {want[b]}")
        expect(type(got.get("hop")) is int and got["hop"] == want["hop"], f"{reader}: {addr} hop {got.get('hop')!r}")
    edges = {(e["source"], e["target"]): e for e in flow["edges"]}
    expect(g.number_of_edges() == len(edges), f"{reader}: {g.number_of_edges()} edges, JSON has {len(edges)}")
    for (s, t), want in edges.items():
        if not g.has_edge(s, t):
            problems.append(f"{reader}: no edge {s} -> {t}")
            continue
        got = g.edges[s, t]
        w = got.get("weight")
        expect(isinstance(w, (int, float)) and float(w) == float(want["transfer_count"]),
               f"{reader}: {s} -> {t} weight {w!r}, JSON transfer_count {want['transfer_count']}")
        expect(got.get("amounts") == amounts_text(want),
               f"{reader}: {s} -> {t} amounts {got.get('amounts')!r}, JSON {amounts_text(want)!r}")
        expect(type(got.get("transfers")) is int and got["transfers"] == want["transfer_count"],
               f"{reader}: {s} -> {t} transfers {got.get('transfers')!r}")
        for k in ("first_time", "last_time"):
            if want[k] is None:
                expect(k not in got, f"{reader}: {s} -> {t} has {k}")
            else:
                expect(type(got.get(k)) is int and got[k] == want[k], f"{reader}: {s} -> {t} {k} {got.get(k)!r}")


def main():
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        flow = json.load(f)
    # version="1.3": networkx reads only the namespace of the version it is
    # told, so this also checks the file declares GEXF 1.3.
    check("gexf", nx.read_gexf(sys.argv[2], version="1.3"), flow)
    check("graphml", nx.read_graphml(sys.argv[3]), flow)
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
