#!/usr/bin/env python3
"""Writes intel feeds in the shapes other tools write them, and what each holds, for the import
tests: OUTDIR/<name>.json and OUTDIR/expected.json ({name: {imported, duplicates, skipped_by,
not_for_detection, shape, ...}}).

PyMISP and the STIX elevator are not packaged in Debian 12 and not on npm, so the samples are
built here in the shapes their documentation and source give (PyMISP's MISPEvent.to_json() is
the bare event; MISP's REST API wraps it in {"Event": ...}; a search saved by PyMISP is
{"response": [...]} or a list), with every field MISP writes on an attribute. The hashes are the
published 3CX / X_TRADER ones (intel/3cx-2023.stix.json) and, for the large bundle, digests
derived from a counter. The expected counts are computed here from what each file was given,
independently of catena's parser.

Usage: scripts/make-intel-samples.py OUTDIR
"""
import hashlib
import json
import os
import sys
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NS = uuid.UUID("0b8f6c1e-5d2a-4f3b-9c7e-1a2b3c4d5e6f")
TS = "1681948800"  # 2023-04-20, as MISP writes timestamps (a string of seconds)


def uid(*parts):
    return str(uuid.uuid5(NS, "/".join(str(p) for p in parts)))


def published_hashes():
    with open(os.path.join(ROOT, "intel", "3cx-2023.stix.json")) as f:
        bundle = json.load(f)
    out = []
    for o in bundle["objects"]:
        if o["type"] != "indicator":
            continue
        pattern = o["pattern"]
        algorithm = "sha256" if "SHA-256" in pattern else "md5"
        out.append((algorithm, pattern.split("'")[-2], o.get("name", "")))
    return out


def derived(n, algorithm="sha256"):
    return hashlib.new(algorithm, b"catena-sample-%d" % n).hexdigest()


def attribute(event, n, type_, value, to_ids=True, deleted=False, category="Payload delivery",
              comment=""):
    # Every field MISP 2.4 writes on an attribute, as PyMISP serialises it.
    return {"id": str(1000 + n), "event_id": "42", "object_id": "0", "object_relation": None,
            "category": category, "type": type_, "value": value, "to_ids": to_ids,
            "uuid": uid(event, "attribute", n), "timestamp": TS, "distribution": "5",
            "sharing_group_id": "0", "comment": comment, "deleted": deleted,
            "disable_correlation": False, "first_seen": None, "last_seen": None}


class Expect:
    def __init__(self):
        self.imported = set()
        self.duplicates = 0
        self.skipped_by = {}
        self.not_for_detection = 0

    def skip(self, reason):
        self.skipped_by[reason] = self.skipped_by.get(reason, 0) + 1

    def take(self, algorithm, digest, to_ids=True):
        key = (algorithm, digest.lower())
        if key in self.imported:
            self.duplicates += 1
            return
        self.imported.add(key)
        if not to_ids:
            self.not_for_detection += 1

    def result(self, shape, **extra):
        out = {"imported": len(self.imported), "duplicates": self.duplicates,
               "skipped_by": self.skipped_by, "not_for_detection": self.not_for_detection,
               "shape": shape}
        out.update(extra)
        return out


def misp_event(name, hashes, expect, to_ids_only=False):
    """A bare event as PyMISP's to_json() writes it, with attributes of every kind MISP has
    for a file (and some that are not file hashes), objects, a deleted attribute and object."""
    attrs = []
    n = 0
    for algorithm, digest, label in hashes:
        n += 1
        # Every third published hash is context, not for detection.
        to_ids = n % 3 != 0
        attrs.append(attribute(name, n, algorithm, digest, to_ids=to_ids, comment=label))
        if to_ids_only and not to_ids:
            expect.skip("not for detection (to_ids false)")
        else:
            expect.take(algorithm, digest, to_ids)
    composite = [("filename|sha256", "3CXDesktopApp.exe", derived(1)),
                 ("filename|md5", "ffmpeg.dll", derived(2, "md5")),
                 ("filename|sha1", "d3dcompiler_47.dll", derived(3, "sha1")),
                 ("malware-sample", "x_trader.exe", derived(4, "md5"))]
    for type_, file_name, digest in composite:
        n += 1
        attrs.append(attribute(name, n, type_, file_name + "|" + digest))
        expect.take(type_.split("|")[-1] if "|" in type_ else "md5", digest)
    for type_, value in [("ip-dst", "209.141.49.118"), ("domain", "msstorageboxes.com"),
                         ("url", "https://raw.githubusercontent.com/IconStorages/images/main/icon%d.ico"),
                         ("filename", "ffmpeg.dll"), ("yara", "rule x { condition: false }")]:
        n += 1
        attrs.append(attribute(name, n, type_, value, category="Network activity"))
        expect.skip("not a file hash")
    n += 1
    attrs.append(attribute(name, n, "sha256", derived(5), deleted=True))
    expect.skip("deleted")
    # The same hash twice in one event (MISP allows it across categories).
    n += 1
    attrs.append(attribute(name, n, hashes[0][0], hashes[0][1].upper(), category="Artifacts dropped"))
    expect.take(hashes[0][0], hashes[0][1])
    # Objects: a file object carries its hashes as attributes; a deleted one takes them along.
    objects = []
    for k, deleted in [(0, False), (1, True)]:
        object_attrs = [attribute(name, 100 + 10 * k + j, t, v)
                        for j, (t, v) in enumerate([("sha256", derived(10 + k)),
                                                    ("md5", derived(20 + k, "md5")),
                                                    ("filename", "payload-%d.bin" % k)])]
        for a in object_attrs:
            a["object_relation"] = a["type"]
        objects.append({"id": str(7 + k), "name": "file", "meta-category": "file",
                        "template_uuid": "688c46fb-5edb-40a3-8273-1af7923e2215",
                        "template_version": "24", "uuid": uid(name, "object", k),
                        "timestamp": TS, "distribution": "5", "sharing_group_id": "0",
                        "comment": "", "deleted": deleted, "first_seen": None, "last_seen": None,
                        "ObjectReference": [], "Attribute": object_attrs})
        for a in object_attrs:
            if deleted:
                expect.skip("deleted")
            elif a["type"] == "filename":
                expect.skip("not a file hash")
            else:
                expect.take(a["type"], a["value"])
    return {"id": "42", "orgc_id": "1", "org_id": "1", "date": "2023-04-20",
            "threat_level_id": "1", "info": name, "published": True, "uuid": uid(name),
            "attribute_count": str(len(attrs)), "analysis": "2", "timestamp": TS,
            "distribution": "3", "proposal_email_lock": False, "locked": False,
            "publish_timestamp": TS, "sharing_group_id": "0", "disable_correlation": False,
            "extends_uuid": "", "event_creator_email": "analyst@example.org",
            "Org": {"id": "1", "name": "ORGNAME", "uuid": uid("org")},
            "Orgc": {"id": "1", "name": "ORGNAME", "uuid": uid("org")},
            "Attribute": attrs, "ShadowAttribute": [], "RelatedEvent": [], "Galaxy": [],
            "Object": objects, "EventReport": [],
            "Tag": [{"id": "1", "name": "tlp:white", "colour": "#ffffff", "exportable": True}]}


def stix_bundle(expect, now="2026-01-01T00:00:00Z"):
    """1,054 file hashes as indicators, one of which also has a '!=' inside an OR; and one of each
    thing a real bundle carries that is not a usable hash."""
    objects = [{"type": "identity", "spec_version": "2.1", "id": "identity--" + uid("id"),
                "created": "2023-04-20T00:00:00.000Z", "modified": "2023-04-20T00:00:00.000Z",
                "name": "sample", "identity_class": "organization"}]
    expect.skip("not an indicator")

    def indicator(n, pattern, **extra):
        o = {"type": "indicator", "spec_version": "2.1", "id": "indicator--" + uid("ind", n),
             "created": "2023-04-20T00:00:00.000Z", "modified": "2023-04-20T00:00:00.000Z",
             "name": "sample %d" % n, "pattern": pattern, "pattern_type": "stix",
             "valid_from": "2023-03-29T00:00:00Z", "indicator_types": ["malicious-activity"]}
        o.update(extra)
        objects.append(o)
        return o

    for n in range(1, 1054):
        indicator(n, "[file:hashes.'SHA-256' = '%s']" % derived(1000 + n))
        expect.take("sha256", derived(1000 + n))
    indicator(1054, "[file:hashes.'SHA-256' = '%s' OR file:hashes.'SHA-256' != '%s']"
              % (derived(2054), derived(2055)))
    expect.take("sha256", derived(2054))
    expect.skip("hash comparison other than '='")
    indicator(2000, "[file:hashes.MD5 = '%s' AND file:name = 'ffmpeg.dll']" % derived(3000, "md5"))
    expect.take("md5", derived(3000, "md5"))
    indicator(2001, "[file:hashes.'SHA-1' = '%s'] OR [file:hashes.'SHA-512' = '%s']"
              % (derived(3001, "sha1"), derived(3002, "sha512")))
    expect.take("sha1", derived(3001, "sha1"))
    expect.skip("hash catena does not record (sha-512)")
    indicator(2002, "[file:name LIKE '%.dll']")
    expect.skip("not a file hash")
    indicator(2003, "[file:name MATCHES '^ffmpeg']")
    expect.skip("not a file hash")
    indicator(2004, "[ipv4-addr:value = '209.141.49.118']")
    expect.skip("not a file hash")
    indicator(2005, "[file:hashes.'SHA-256' = '%s']" % derived(3003), revoked=True)
    expect.skip("revoked")
    indicator(2006, "[file:hashes.'SHA-256' = '%s']" % derived(3004),
              valid_until="2024-01-01T00:00:00Z")
    expect.skip("expired (valid_until)")
    o = indicator(2007, "")
    del o["pattern"]
    expect.skip("no pattern")
    indicator(2008, "rule x { condition: true }", pattern_type="yara")
    expect.skip("not a STIX pattern")
    objects.append({"type": "malware", "spec_version": "2.1", "id": "malware--" + uid("m"),
                    "created": "2023-04-20T00:00:00.000Z", "modified": "2023-04-20T00:00:00.000Z",
                    "name": "SUDDENICON", "is_family": True})
    expect.skip("not an indicator")
    objects.append({"type": "relationship", "spec_version": "2.1",
                    "id": "relationship--" + uid("r"), "created": "2023-04-20T00:00:00.000Z",
                    "modified": "2023-04-20T00:00:00.000Z", "relationship_type": "indicates",
                    "source_ref": objects[1]["id"], "target_ref": objects[-1]["id"]})
    expect.skip("not an indicator")
    return {"type": "bundle", "id": "bundle--" + uid("bundle"), "objects": objects}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    hashes = published_hashes()
    expected = {}

    def write(name, doc, result):
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump(doc, f, indent=2)
        expected[name] = result

    e = Expect()
    event = misp_event("3CX supply chain", hashes, e)
    n_events = 1
    write("misp-pymisp-bare", event, e.result("bare event"))
    write("misp-rest-event", {"Event": event}, e.result("event"))
    e_ids = Expect()
    misp_event("3CX supply chain", hashes, e_ids, to_ids_only=True)
    expected["misp-rest-event-to-ids-only"] = e_ids.result("event", file="misp-rest-event",
                                                           options=["--to-ids-only"])
    # Two events in a search: the second repeats the first's hashes (counted as duplicates).
    e2 = Expect()
    first = misp_event("3CX supply chain", hashes, e2)
    second = misp_event("X_TRADER", hashes[:6], e2)
    n_events = 2
    write("misp-search-bare", {"response": [first, second]},
          e2.result("search response of %d events" % n_events))
    write("misp-search-wrapped", {"response": [{"Event": first}, {"Event": second}]},
          e2.result("search response of %d events" % n_events))
    write("misp-list", [{"Event": first}, second], e2.result("array of %d events" % n_events))
    s = Expect()
    write("stix-bundle-1054", stix_bundle(s), s.result("bundle"))
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    main()
