#!/usr/bin/env python3
"""An independent TAXII 2.1 client against two federated hotline nodes.

Uses taxii2-client (OASIS's TAXII client) and stix2-validator (OASIS's STIX
validator), installed by scripts/test; nothing of hotline's own code.

Environment: US_URL and RU_URL (http://host:port of each node's API),
US_USER and US_PASSWORD (an operator of us/fbi, HTTP Basic), RU_TOKEN (a
token of an operator of ru/fsb, from `hotline operator token`).

It writes 25 indicators to us's collection of the us/fbi - ru/fsb channel,
reads them back page by page (as_pages, 10 a page), checks every object
served with stix2-validator, and waits until ru's own collection of the
same channel serves the same objects. Prints 'N passed, N failed'.
"""

import os
import sys
import time
import uuid

import requests
from stix2validator import ValidationOptions, validate_instance
from taxii2client.v21 import Server, as_pages

passed = 0
failed = 0


def check(what, cond):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok: {what}")
    else:
        failed += 1
        print(f"FAILED: {what}")


class Bearer(requests.auth.AuthBase):
    def __init__(self, token):
        self.token = token

    def __call__(self, r):
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


def indicator(n):
    now = "2026-03-01T12:00:00.000Z"
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": now,
        "modified": now,
        "name": f"C2 address {n}",
        "indicator_types": ["malicious-activity"],
        "pattern": f"[ipv4-addr:value = '198.51.100.{n}']",
        "pattern_type": "stix",
        "valid_from": now,
    }


def channel_collection(server):
    root = server.default
    cols = [c for c in root.collections if "us/fbi" in c.title and "ru/fsb" in c.title]
    check("the API root lists the us/fbi - ru/fsb collection", len(cols) == 1)
    return root, cols[0]


def read_all(collection, per_page):
    pages = list(as_pages(collection.get_objects, per_request=per_page))
    objs = [o for p in pages for o in p.get("objects", [])]
    return pages, objs


def main():
    us = Server(os.environ["US_URL"] + "/taxii2/", user=os.environ["US_USER"],
                password=os.environ["US_PASSWORD"])
    check("discovery has a title", bool(us.title))
    root, col = channel_collection(us)
    check("the collection can be read and written", col.can_read and col.can_write)

    sent = [indicator(n) for n in range(1, 26)]
    status = col.add_objects({"objects": sent})
    check("the status is complete with every object counted",
          status.status == "complete" and status.total_count == 25
          and status.success_count == 25 and status.failure_count == 0
          and status.pending_count == 0)
    status.refresh()
    check("the status resource is served again", status.success_count == 25)

    pages, objs = read_all(col, 10)
    check(f"paged through more than one page ({len(pages)})", len(pages) >= 3)
    ids = {o["id"] for o in objs}
    check("every object written is read back", all(o["id"] in ids for o in sent))
    check("no object twice", len(ids) == len(objs))

    opts = ValidationOptions(version="2.1")
    bad = [o["id"] for o in objs if not validate_instance(o, opts).is_valid]
    check(f"stix2-validator accepts all {len(objs)} objects served", not bad)
    if bad:
        print("refused:", bad[:5])

    one = col.get_object(sent[0]["id"])
    check("one object by id", [o["id"] for o in one.get("objects", [])] == [sent[0]["id"]])
    versions = col.object_versions(sent[0]["id"])
    check("its versions", versions.get("versions") == [sent[0]["modified"]])
    manifest = col.get_manifest(limit=5)
    check("a manifest page with more to come",
          len(manifest.get("objects", [])) == 5 and manifest.get("more") is True)
    typed = col.get_objects(type="malware")
    check("match[type] filters", not typed.get("objects"))

    ru = Server(os.environ["RU_URL"] + "/taxii2/", auth=Bearer(os.environ["RU_TOKEN"]))
    _, ru_col = channel_collection(ru)
    check("both parties name the channel's collection alike", ru_col.id == col.id)
    deadline = time.time() + 60
    ru_ids = set()
    while time.time() < deadline:
        _, ru_objs = read_all(ru_col, 10)
        ru_ids = {o["id"] for o in ru_objs}
        if all(o["id"] in ru_ids for o in sent):
            break
        time.sleep(0.5)
    check("after delivery ru's collection serves the same objects",
          all(o["id"] in ru_ids for o in sent))

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
