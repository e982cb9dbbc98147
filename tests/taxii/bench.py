#!/usr/bin/env python3
"""TAXII figures, side by side in one run: a hotline node and OASIS's
reference server medallion (memory back end) on the same STIX objects.

Measures the ingest of 6,000 indicators in POSTs of 500 (objects per
second; three rounds of fresh objects, the two servers alternately, medallion
on a fresh memory back end each round, the median of each), the time of one
page of 100 objects (the first and a later one, median of 3; of 1 for
medallion at 10,000) with 1,000, 10,000 and (hotline; medallion only if its
page at 10,000 took under 5 s) 1,000,000 objects in the collection, and the
hotline node's resident memory (VmRSS) at a million. The million is loaded
in POSTs of 1,000 objects, with a page read every 50,000 so that the node's
index catches up as it grows (that time is shown).

What the ingest clock counts is the servers' work: each envelope is encoded
before the clock starts and each status resource is checked after it stops,
for both servers alike (the client's own JSON encoding is about 1 ms a POST
of 500 here, a tenth of hotline's time and under 1 % of medallion's). After
the rounds, the counterpart's collection must serve every object sent, so
the delivery that the timed POSTs set off is shown to have happened.

Environment: HOTLINE_URL (http://host:port of the node's API), HOTLINE_TOKEN
(`hotline operator token`), HOTLINE_PID (the node's process, for its RSS),
COUNTERPART_URL and COUNTERPART_TOKEN (the same for the counterpart's node),
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
    HEADERS = {"Content-Type": MEDIA, "Accept": MEDIA}

    def __init__(self, name, objects_url, session):
        self.name, self.url, self.s = name, objects_url, session
        self.count = 0

    def check(self, r, n):
        """The status answering a POST of `n` objects counts them all."""
        r.raise_for_status()
        assert r.json().get("success_count") == n, r.text[:300]

    def post(self, objs):
        self.check(self.s.post(self.url, data=json.dumps({"objects": objs}), headers=self.HEADERS),
                   len(objs))

    def ingest_encoded(self, objs, batch=BATCH):
        """Objects per second for `objs`, in POSTs of `batch`: the envelopes
        are encoded before the clock starts, the answers checked after."""
        bodies = [(json.dumps({"objects": objs[i:i + batch]}), len(objs[i:i + batch]))
                  for i in range(0, len(objs), batch)]
        t0 = time.perf_counter()
        answers = [self.s.post(self.url, data=body, headers=self.HEADERS) for body, _ in bodies]
        seconds = time.perf_counter() - t0
        for r, (_, n) in zip(answers, bodies):
            self.check(r, n)
        self.count += len(objs)
        return len(objs) / seconds

    def ingest(self, objs, batch=BATCH):
        """`objs` in POSTs of `batch`, untimed (the page figures' collections)."""
        for i in range(0, len(objs), batch):
            self.post(objs[i:i + batch])
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
    os.makedirs(tmp, exist_ok=True)
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


def hotline_target(url="HOTLINE_URL", token="HOTLINE_TOKEN", name="hotline"):
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {os.environ[token]}"
    base = os.environ[url]
    cols = s.get(f"{base}/taxii2/hotline/collections/", headers={"Accept": MEDIA}).json()
    col = cols["collections"][0]["id"]
    return Target(name, f"{base}/taxii2/hotline/collections/{col}/objects/", s)


def served(t, last_id, want, timeout=300):
    """Seconds until `t`'s collection serves `last_id` (entries arrive in
    log order, so the last one's arrival means all have), after which every
    page is read and the objects counted: `want` or the run fails."""
    t0 = time.perf_counter()
    while True:
        r = t.s.get(t.url, params={"match[id]": last_id}, headers={"Accept": MEDIA})
        r.raise_for_status()
        if r.json().get("objects"):
            break
        if time.perf_counter() - t0 > timeout:
            raise SystemExit(f"{t.name}: {last_id} not served after {timeout} s")
        time.sleep(0.2)
    waited = time.perf_counter() - t0
    n, params = 0, {"limit": 1000}
    while True:
        r = t.s.get(t.url, params=params, headers={"Accept": MEDIA})
        r.raise_for_status()
        env = r.json()
        n += len(env.get("objects", []))
        if not env.get("more"):
            break
        params = {"limit": 1000, "next": env["next"]}
    assert n == want, f"{t.name} serves {n} objects, {want} were sent"
    return waited


def ingest_rounds(hotline, tmp, first, rounds=3):
    """`rounds` of 6,000 fresh objects into each server, alternately, and
    the median rate of each; medallion starts empty every round."""
    rates = {"hotline": [], "medallion": []}
    n = first
    for r in range(rounds):
        objs = [indicator(k) for k in range(n, n + 6000)]
        n += 6000
        proc, med = start_medallion(os.path.join(tmp, f"round{r}"))
        try:
            for t in ([hotline, med] if r % 2 == 0 else [med, hotline]):
                rates[t.name].append(t.ingest_encoded(objs))
                print(f"{t.name}: round {r + 1}: {rates[t.name][-1]:,.0f} objects/s",
                      file=sys.stderr, flush=True)
        finally:
            proc.terminate()
            proc.wait()
    return {k: statistics.median(v) for k, v in rates.items()}, rates, objs[-1]["id"]


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


def pages(t, objs):
    """The page figures at 1,000 and 10,000 objects, from an empty collection."""
    t.ingest(objs[:1000])
    p1 = t.page_ms(3)
    t.ingest(objs[1000:10000])
    # medallion takes minutes a page at 10,000: one run of it.
    p10 = t.page_ms(3 if t.name == "hotline" else 1)
    print(f"{t.name}: pages {p1} {p10}", file=sys.stderr, flush=True)
    return p1, p10


def main():
    objs = [indicator(n) for n in range(10_000)]
    hotline = hotline_target()
    counterpart = hotline_target("COUNTERPART_URL", "COUNTERPART_TOKEN", "counterpart")
    with tempfile.TemporaryDirectory() as tmp:
        p = {"hotline": pages(hotline, objs)}
        proc, med = start_medallion(os.path.join(tmp, "pages"))
        try:
            p["medallion"] = pages(med, objs)
            if p["medallion"][1][0] < 5000:
                posting, _ = load_million(med)
                p1m = med.page_ms(1)
                med_million = (f"{p1m[0]:.1f} / {p1m[1]:.1f}", f"loaded in {posting:.0f} s")
            else:
                med_million = ("not measured",
                               f"medallion's page at 10,000 took {p['medallion'][1][0] / 1000:.1f} s "
                               "and grows with the collection")
        finally:
            proc.terminate()
            proc.wait()
        rate, rounds, last_id = ingest_rounds(hotline, tmp, first=10_000)
        waited = served(counterpart, last_id, hotline.count)
        print(f"counterpart: serves all {hotline.count:,} objects, the last {waited:.1f} s "
              "after the rounds ended", file=sys.stderr, flush=True)
        start = hotline.count
        posting, reading = load_million(hotline)
        p1m = hotline.page_ms(3)
        rss = rss_kib(os.environ["HOTLINE_PID"])
        million = {
            "hotline": (f"{p1m[0]:.1f} / {p1m[1]:.1f}",
                        f"loaded {1_000_000 - start:,} more in {posting:.0f} s "
                        f"({(1_000_000 - start) / posting:.0f} objects/s), "
                        f"index caught up in {reading:.0f} s of page reads; "
                        f"node RSS at 1,000,000: {rss / 1024:.0f} MiB"),
            "medallion": med_million,
        }
    print("server     ingest 6,000 (objects/s, median)  page of 100 at 1,000 / 10,000 / 1,000,000 (first / next, ms)")
    for name in ("hotline", "medallion"):
        p1, p10 = p[name]
        print(f"{name:<10} {rate[name]:>32,.0f}  {p1[0]:.1f} / {p1[1]:.1f}  |  "
              f"{p10[0]:.1f} / {p10[1]:.1f}  |  {million[name][0]}")
    print(f"ingest: hotline {rate['hotline'] / rate['medallion']:.1f} times medallion; rounds: "
          + "; ".join(f"{k} " + ", ".join(f"{x:,.0f}" for x in v) for k, v in rounds.items()))
    print(f"counterpart: served all {start:,} objects sent before the million, "
          f"the last {waited:.1f} s after the ingest rounds ended")
    for name in ("hotline", "medallion"):
        print(f"{name}: {million[name][1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
