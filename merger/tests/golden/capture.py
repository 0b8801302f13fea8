#!/usr/bin/env python3
"""Captures golden responses from a real Meilisearch for the merger's golden tests.

Starts the binary given as argv[1] on a free loopback port with a temporary database,
indexes one corpus twice: whole in index `all` (without Miroir's field), and split by
`id % 3` into `s0`, `s1`, `s2` (each document carrying `_miroir_shard`), then saves for
every case the client's request against `all` and the node requests against each shard.
Usage: capture.py /opt/meili/target/release/meilisearch merger/tests/golden
"""
import json, os, shutil, socket, subprocess, sys, tempfile, time, urllib.request

BIN, OUT = sys.argv[1], sys.argv[2]

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def call(base, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return r.read()

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
        {"q": "the love", "offset": 2, "limit": 6, "facets": ["genre", "rating"],
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
                    "filterableAttributes": ["genre", "rating", "_miroir_shard"],
                    "sortableAttributes": ["year", "rating"]}
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
