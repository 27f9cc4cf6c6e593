#!/usr/bin/env python3
"""Writes intel/3cx-2023.stix.json, a STIX 2.1 bundle of the published 3CX / X_TRADER file hashes,
from ../shared/intel/3cx-2023-iocs.csv. Deterministic: ids are UUIDv5 of the hash, times fixed,
so that the committed bundle changes only when the CSV does.

Usage: scripts/make-3cx-stix.py CSV OUT
"""
import csv
import json
import sys
import uuid

NAMESPACE = uuid.UUID("6f3c1a2e-8b1d-4c55-9d1e-3c0a7e5b2f10")  # this project's, for stable ids
CREATED = "2023-04-20T00:00:00.000Z"
VALID_FROM = "2023-03-29T00:00:00Z"
IDENTITY = "identity--" + str(uuid.uuid5(NAMESPACE, "catena"))
PATTERN_NAME = {"sha256": "'SHA-256'", "sha1": "'SHA-1'", "md5": "MD5"}


def confidence(publishers: int) -> int:
    # More independent publishers giving the same hash and label: more confidence (STIX 0-100).
    return {1: 40, 2: 60, 3: 75, 4: 85}.get(publishers, 95)


def main() -> None:
    source, out = sys.argv[1], sys.argv[2]
    objects = [{
        "type": "identity", "spec_version": "2.1", "id": IDENTITY,
        "created": CREATED, "modified": CREATED,
        "name": "catena", "identity_class": "system",
        "description": "Indicator pack compiled for catena from public 3CX reporting.",
    }]
    with open(source, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            algorithm, digest = row["algorithm"].lower(), row["hash"].lower()
            publishers = int(row["publishers_agreeing"])
            objects.append({
                "type": "indicator", "spec_version": "2.1",
                "id": "indicator--" + str(uuid.uuid5(NAMESPACE, algorithm + ":" + digest)),
                "created_by_ref": IDENTITY,
                "created": CREATED, "modified": CREATED, "valid_from": VALID_FROM,
                "name": row["label"],
                "description": "%s (%s); given by %d publisher(s)" % (
                    row["label"], row["platform"], publishers),
                "indicator_types": ["malicious-activity"],
                "pattern_type": "stix",
                "pattern": "[file:hashes.%s = '%s']" % (PATTERN_NAME[algorithm], digest),
                "confidence": confidence(publishers),
                "labels": ["3cx-2023", row["platform"]],
                "x_catena_platform": row["platform"],
                "external_references": [{"source_name": s.strip()}
                                        for s in row["sources"].split(";") if s.strip()],
            })
    bundle = {"type": "bundle", "id": "bundle--" + str(uuid.uuid5(NAMESPACE, "3cx-2023")),
              "objects": objects}
    with open(out, "w", encoding="utf-8") as f:
        json.dump(bundle, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
