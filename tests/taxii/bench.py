#!/usr/bin/env python3
"""TAXII figures, side by side in one run: a hotline node and OASIS's
reference server medallion (memory back end) on the same STIX objects.

Measures the ingest of 6,000 indicators (POSTs of 500 objects, objects per
second) and the time of one page of 100 objects (the first and a later one,
median of 3; of 1 for medallion at 10,000) with 1,000, 10,000 and (hotline;
medallion only if its page at 10,000 took under 5 s) 1,000,000 objects in
the collection, and the hotline node's resident memory (VmRSS) at a million.
The million is loaded in POSTs of 1,000 objects, with a page read every
50,000 so that the node's index catches up as it grows (that time is shown).

Environment: HOTLINE_URL (http://host:port of the node's API), HOTLINE_TOKEN
(`hotline operator token`), HOTLINE_PID (the node's process, for its RSS),
MEDALLION (the medallion command). Run by scripts/taxii-bench, which sets
the two nodes up.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import requests

MEDIA = "application/taxii+json;version=2.1"
BATCH = 500


def indicator(n):
    t = "2026-03-01T12:00:00.000Z"
    return {
        "type": "indicator", "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}", "created": t, "modified": t,
        "name": f"C2 address {n}", "indicator_types": ["malicious-activity"],
        "pattern": f"[ipv4-addr:value = '10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}']",
        "pattern_type": "stix", "valid_from": t,
    }


class Target:
    def __init__(self, name, objects_url, session):
        self.name, self.url, self.s = name, objects_url, session
        self.ingest_seconds = 0.0
        self.count = 0

    def post(self, objs):
        r = self.s.post(self.url, data=json.dumps({"objects": objs}),
                        headers={"Content-Type": MEDIA, "Accept": MEDIA})
        r.raise_for_status()
        st = r.json()
        assert st.get("success_count") == len(objs), st

    def ingest(self, objs, batch=BATCH):
        t0 = time.perf_counter()
        for i in range(0, len(objs), batch):
            self.post(objs[i:i + batch])
        self.ingest_seconds += time.perf_counter() - t0
        self.count += len(objs)

    def page_ms(self, runs):
        """Median of `runs`: the first page of 100, then the page after it."""
        firsts, seconds = [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            r = self.s.get(self.url, params={"limit": 100}, headers={"Accept": MEDIA})
            r.raise_for_status()
            env = r.json()
            firsts.append(time.perf_counter() - t0)
            assert len(env.get("objects", [])) == 100, (self.name, len(env.get("objects", [])))
            if env.get("next"):
                t0 = time.perf_counter()
                r = self.s.get(self.url, params={"limit": 100, "next": env["next"]},
                               headers={"Accept": MEDIA})
                r.raise_for_status()
                seconds.append(time.perf_counter() - t0)
        return (statistics.median(firsts) * 1000,
                statistics.median(seconds) * 1000 if seconds else float("nan"))


def start_medallion(tmp):
    col = str(uuid.uuid4())
    data = {
        "/discovery": {"title": "bench", "default": "http://127.0.0.1:5510/api1/",
                       "api_roots": ["http://127.0.0.1:5510/api1/"]},
        "api1": {
            "information": {"title": "api1", "versions": [MEDIA], "max_content_length": 100000000},
            "status": [],
            "collections": [{"id": col, "title": "bench", "can_read": True, "can_write": True,
                             "media_types": ["application/stix+json;version=2.1"],
                             "objects": [], "manifest": []}],
        },
    }
    with open(os.path.join(tmp, "data.json"), "w") as f:
        json.dump(data, f)
    config = {
        "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                    "filename": os.path.join(tmp, "data.json")},
        "users": {"bench": "bench-password"},
        "taxii": {"max_page_size": 100},
    }
    with open(os.path.join(tmp, "config.json"), "w") as f:
        json.dump(config, f)
    p = subprocess.Popen([os.environ["MEDALLION"], "--port", "5510", os.path.join(tmp, "config.json")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    s = requests.Session()
    s.auth = ("bench", "bench-password")
    for _ in range(100):
        try:
            if s.get("http://127.0.0.1:5510/taxii2/", headers={"Accept": MEDIA}).ok:
                break
        except requests.ConnectionError:
            time.sleep(0.1)
    return p, Target("medallion", f"http://127.0.0.1:5510/api1/collections/{col}/objects/", s)


def hotline_target():
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {os.environ['HOTLINE_TOKEN']}"
    base = os.environ["HOTLINE_URL"]
    cols = s.get(f"{base}/taxii2/hotline/collections/", headers={"Accept": MEDIA}).json()
    col = cols["collections"][0]["id"]
    return Target("hotline", f"{base}/taxii2/hotline/collections/{col}/objects/", s)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def load_million(t):
    """Brings `t` to 1,000,000 objects in POSTs of 1,000; a page read every
    50,000. Returns (seconds posting, seconds of those reads)."""
    posting, reading = 0.0, 0.0
    n = t.count
    while n < 1_000_000:
        objs = [indicator(k) for k in range(n, n + 1000)]
        t0 = time.perf_counter()
        t.post(objs)
        posting += time.perf_counter() - t0
        n += 1000
        if n % 50_000 == 0:
            t0 = time.perf_counter()
            t.s.get(t.url, params={"limit": 100}, headers={"Accept": MEDIA}).raise_for_status()
            reading += time.perf_counter() - t0
            print(f"{t.name}: {n:,} objects, {posting:.0f} s posting, {reading:.0f} s reading",
                  file=sys.stderr, flush=True)
    t.count = n
    return posting, reading


def main():
    objs = [indicator(n) for n in range(10_000)]
    with tempfile.TemporaryDirectory() as tmp:
        proc, med = start_medallion(tmp)
        try:
            rows = []
            for t in (hotline_target(), med):
                print(f"{t.name}: ingesting", file=sys.stderr, flush=True)
                t.ingest(objs[:1000])
                print(f"{t.name}: 1,000 in {t.ingest_seconds:.1f} s", file=sys.stderr, flush=True)
                p1 = t.page_ms(3)
                t.ingest(objs[1000:6000])
                rate = 6000 / t.ingest_seconds
                print(f"{t.name}: 6,000 in {t.ingest_seconds:.1f} s", file=sys.stderr, flush=True)
                t.ingest(objs[6000:10000])
                print(f"{t.name}: 10,000 in {t.ingest_seconds:.1f} s", file=sys.stderr, flush=True)
                # medallion takes minutes a page at 10,000: one run of it.
                p10 = t.page_ms(3 if t.name == "hotline" else 1)
                print(f"{t.name}: pages {p1} {p10}", file=sys.stderr, flush=True)
                if t.name == "hotline":
                    posting, reading = load_million(t)
                    p1m = t.page_ms(3)
                    rss = rss_kib(os.environ["HOTLINE_PID"])
                    million = (f"{p1m[0]:.1f} / {p1m[1]:.1f}",
                               f"loaded 990,000 in {posting:.0f} s ({990_000 / posting:.0f} objects/s), "
                               f"index caught up in {reading:.0f} s of page reads; "
                               f"node RSS at 1,000,000: {rss / 1024:.0f} MiB")
                elif p10[0] < 5000:
                    posting, _ = load_million(t)
                    p1m = t.page_ms(1)
                    million = (f"{p1m[0]:.1f} / {p1m[1]:.1f}", f"loaded in {posting:.0f} s")
                else:
                    million = ("not measured", f"medallion's page at 10,000 took {p10[0] / 1000:.1f} s "
                               "and grows with the collection")
                print(f"{t.name}: 1,000,000: {million}", file=sys.stderr, flush=True)
                rows.append((t.name, rate, p1, p10, million))
        finally:
            proc.terminate()
    print("server     ingest 6,000 (objects/s)  page of 100 at 1,000 / 10,000 / 1,000,000 (first / next, ms)")
    for name, rate, p1, p10, million in rows:
        print(f"{name:<10} {rate:>24.0f}  {p1[0]:.1f} / {p1[1]:.1f}  |  {p10[0]:.1f} / {p10[1]:.1f}  |  {million[0]}")
    for name, _, _, _, million in rows:
        print(f"{name}: {million[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
