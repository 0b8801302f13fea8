#!/usr/bin/env python3
"""Captures golden responses from a real Meilisearch for the merger's golden tests.

Starts the binary given as argv[1] on a free loopback port with a temporary database,
indexes one corpus twice: whole in index `all` (without Miroir's field), and split by
`id % 3` into `s0`, `s1`, `s2` (each document carrying `_miroir_shard`), then saves for
every case the client's request against `all` and the node requests against each shard.
Usage: capture.py /opt/meili/target/release/meilisearch merger/tests/golden
"""
import json, os, shutil, socket, subprocess, sys, tempfile, time, urllib.error, urllib.request

BIN, OUT = sys.argv[1], sys.argv[2]

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def call(base, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as r:
            return r.read()
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{method} {path}: {e.code} {e.read().decode()}")

def wait_tasks(base):
    while True:
        tasks = json.loads(call(base, "GET", "/tasks?statuses=enqueued,processing&limit=1"))
        if tasks["total"] == 0:
            failed = json.loads(call(base, "GET", "/tasks?statuses=failed&limit=5"))
            assert failed["total"] == 0, failed
            return
        time.sleep(0.1)

GENRES = ["Drama", "Comedy", "Sci-Fi", "Horror", "Romance", "drama"]
WORDS = ["love", "space", "the", "war", "night", "river", "ship", "dark", "city", "king",
         "dream", "storm", "secret", "ocean", "lost", "fire"]

def corpus():
    docs = []
    for i in range(60):
        w = [WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(3)]
        d = {
            "id": i,
            "title": f"{w[0]} {w[1]}" if i % 4 else f"the {w[0]} of {w[2]}",
            "overview": " ".join(WORDS[(i * 5 + k) % len(WORDS)] for k in range(8)),
            "genre": [GENRES[i % len(GENRES)], GENRES[(i // 2) % len(GENRES)]],
            "rating": (i * 37) % 10 + 0.5,
            "_geo": {"lat": 48.0 + (i % 7) * 0.25, "lng": 2.0 + (i % 5) * 0.3},
        }
        # Mixed sort values: mostly numbers, some strings, some missing.
        if i % 11 == 0:
            d["year"] = f"unknown-{i % 3}"
        elif i % 13 != 0:
            d["year"] = 1960 + (i * 17) % 60
        docs.append(d)
    return docs

CASES = {
    "relevance_facets": (
        {"q": "the love", "offset": 2, "limit": 6, "facets": ["genre", "rating", "id"],
         "showRankingScore": True, "showRankingScoreDetails": True},
        {"offset": 0, "limit": 8}),
    "sort_year_asc_mixed": (
        {"q": "", "sort": ["year:asc"], "offset": 3, "limit": 12,
         "showRankingScore": True, "showRankingScoreDetails": True},
        {"offset": 0, "limit": 15}),
    "sort_then_relevance_desc": (
        {"q": "space", "sort": ["rating:desc"], "limit": 10,
         "showRankingScore": True, "showRankingScoreDetails": True},
        {"offset": 0, "limit": 10}),
    "page_mode": (
        {"q": "night", "page": 2, "hitsPerPage": 4,
         "showRankingScore": True, "showRankingScoreDetails": True},
        {"page": 1, "hitsPerPage": 8}),
    "geo_sort_asc": (
        {"q": "", "sort": ["_geoPoint(48.6, 2.5):asc", "rating:desc"], "limit": 9,
         "showRankingScore": True, "showRankingScoreDetails": True},
        {"offset": 0, "limit": 9}),
    "distinct_rating": (
        # Page mode: a node's count with distinct is exhaustive only in page mode.
        {"q": "the", "distinct": "rating", "page": 1, "hitsPerPage": 6,
         "showRankingScore": True, "showRankingScoreDetails": True},
        {"page": 1, "hitsPerPage": 100}),
    "scores_hidden_from_client": (
        {"q": "river ship", "limit": 7, "attributesToHighlight": ["title"]},
        {"offset": 0, "limit": 7}),
}

def main():
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    db = tempfile.mkdtemp(prefix="miroir-golden-")
    proc = subprocess.Popen([BIN, "--db-path", os.path.join(db, "data.ms"), "--http-addr",
                             f"127.0.0.1:{port}", "--no-analytics", "--env", "development",
                             "--dump-dir", os.path.join(db, "dumps"),
                             "--snapshot-dir", os.path.join(db, "snapshots")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                call(base, "GET", "/health"); break
            except Exception:
                time.sleep(0.1)
        settings = {"searchableAttributes": ["title", "overview", "genre"],
                    "filterableAttributes": ["id", "genre", "rating", "_miroir_shard"],
                    "sortableAttributes": ["year", "rating", "_geo"],
                    "faceting": {"sortFacetValuesBy": {"genre": "count"}}}
        docs = corpus()
        for uid in ["all", "s0", "s1", "s2"]:
            call(base, "POST", "/indexes", {"uid": uid, "primaryKey": "id"})
            call(base, "PATCH", f"/indexes/{uid}/settings", settings)
        call(base, "POST", "/indexes/all/documents", docs)
        for s in range(3):
            part = [dict(d, _miroir_shard=s) for d in docs if d["id"] % 3 == s]
            call(base, "POST", f"/indexes/s{s}/documents", part)
        wait_tasks(base)
        for name, (client, node_page) in CASES.items():
            d = os.path.join(OUT, name)
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "request.json"), "w") as f:
                json.dump(client, f, indent=2)
            with open(os.path.join(d, "single.json"), "wb") as f:
                f.write(call(base, "POST", "/indexes/all/search", client))
            node = {k: v for k, v in client.items() if k not in ("offset", "limit", "page", "hitsPerPage")}
            node.update(node_page)
            node["showRankingScore"] = True
            node["showRankingScoreDetails"] = True
            for s in range(3):
                with open(os.path.join(d, f"shard{s}.json"), "wb") as f:
                    f.write(call(base, "POST", f"/indexes/s{s}/search", node))
        # Two phases: ids and scores first, then the winners of each shard.
        client, node_page = CASES["relevance_facets"]
        d = os.path.join(OUT, "two_phase"); os.makedirs(d, exist_ok=True)
        node = dict(client, **node_page, attributesToRetrieve=["id"])
        for s in range(3):
            body = call(base, "POST", f"/indexes/s{s}/search", node)
            with open(os.path.join(d, f"phase1_shard{s}.json"), "wb") as f:
                f.write(body)
        # Phase 2 asks every shard for all its phase-1 hits (a superset of its winners):
        # the test checks that assembly picks the right ones.
        for s in range(3):
            ids = [h["id"] for h in json.load(open(os.path.join(d, f"phase1_shard{s}.json")))["hits"]]
            q2 = {k: v for k, v in client.items() if k not in ("offset", "limit", "facets")}
            q2.update(filter=f"id IN [{', '.join(map(str, ids))}]", limit=max(len(ids), 1))
            with open(os.path.join(d, f"phase2_shard{s}.json"), "wb") as f:
                f.write(call(base, "POST", f"/indexes/s{s}/search", q2))
        # Federated: Meilisearch's own federation over the three shard indexes.
        d = os.path.join(OUT, "federated"); os.makedirs(d, exist_ok=True)
        weights = [1.0, 0.8, 1.3]
        fed = {"federation": {"offset": 1, "limit": 7,
                              "facetsByIndex": {f"s{s}": ["genre"] for s in range(3)}},
               "queries": [{"indexUid": f"s{s}", "q": "the love",
                            "federationOptions": {"weight": weights[s]}} for s in range(3)]}
        with open(os.path.join(d, "request.json"), "w") as f:
            json.dump(fed, f, indent=2)
        with open(os.path.join(d, "single.json"), "wb") as f:
            f.write(call(base, "POST", "/multi-search", fed))
        for s in range(3):
            q = {"q": "the love", "facets": ["genre"], "offset": 0, "limit": 8,
                 "showRankingScore": True, "showRankingScoreDetails": True}
            with open(os.path.join(d, f"shard{s}.json"), "wb") as f:
                f.write(call(base, "POST", f"/indexes/s{s}/search", q))
        # Federated with mergeFacets: one distribution over the three indexes.
        d = os.path.join(OUT, "federated_merge_facets"); os.makedirs(d, exist_ok=True)
        fed = {"federation": {"limit": 5, "mergeFacets": {"maxValuesPerFacet": 4},
                              "facetsByIndex": {f"s{s}": ["genre", "rating"] for s in range(3)}},
               "queries": [{"indexUid": f"s{s}", "q": "the"} for s in range(3)]}
        with open(os.path.join(d, "request.json"), "w") as f:
            json.dump(fed, f, indent=2)
        with open(os.path.join(d, "single.json"), "wb") as f:
            f.write(call(base, "POST", "/multi-search", fed))
        for s in range(3):
            q = {"q": "the", "facets": ["genre", "rating"], "offset": 0, "limit": 5,
                 "showRankingScore": True, "showRankingScoreDetails": True}
            with open(os.path.join(d, f"shard{s}.json"), "wb") as f:
                f.write(call(base, "POST", f"/indexes/s{s}/search", q))
        fs = {"facetName": "genre", "facetQuery": "d"}
        d = os.path.join(OUT, "facet_search"); os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "single.json"), "wb") as f:
            f.write(call(base, "POST", "/indexes/all/facet-search", fs))
        for s in range(3):
            with open(os.path.join(d, f"shard{s}.json"), "wb") as f:
                f.write(call(base, "POST", f"/indexes/s{s}/facet-search", fs))
        d = os.path.join(OUT, "index_stats"); os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "single.json"), "wb") as f:
            f.write(call(base, "GET", "/indexes/all/stats"))
        for s in range(3):
            with open(os.path.join(d, f"shard{s}.json"), "wb") as f:
                f.write(call(base, "GET", f"/indexes/s{s}/stats"))
        with open(os.path.join(OUT, "index_stats", "global.json"), "wb") as f:
            f.write(call(base, "GET", "/stats"))
        d = os.path.join(OUT, "documents"); os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "single.json"), "wb") as f:
            f.write(call(base, "GET", "/indexes/all/documents?offset=15&limit=10&fields=id,title"))
        for s in range(3):
            with open(os.path.join(d, f"shard{s}.json"), "wb") as f:
                f.write(call(base, "GET", f"/indexes/s{s}/documents?offset=0&limit=25&fields=id,title,_miroir_shard"))
        with open(os.path.join(OUT, "VERSION"), "wb") as f:
            f.write(call(base, "GET", "/version"))
    finally:
        proc.terminate(); proc.wait(timeout=10)
        shutil.rmtree(db, ignore_errors=True)

main()
