#!/usr/bin/env python3
"""Rebuild crates/daicho-oui/data/ieee-registry.tsv from the IEEE registry CSVs.

Usage: scripts/update-oui-data.py DIR
DIR holds the IEEE files oui.csv (MA-L), mam.csv or oui28.csv (MA-M),
oui36.csv (MA-S), iab.csv and cid.csv, as published by the IEEE Registration
Authority (the same files the `oui-data` crate ships under data/).

The TSV keeps only what a lookup needs: the assigned prefix (6, 7 or 9 hex
digits) and the organisation name, sorted, one line each. When two registries
assign the same prefix string, the first in REGISTRIES wins.
"""
import csv
import os
import re
import sys

REGISTRIES = [("oui.csv",), ("mam.csv", "oui28.csv"), ("oui36.csv",), ("iab.csv",), ("cid.csv",)]


def main(src):
    entries = {}
    for names in REGISTRIES:
        path = next((os.path.join(src, n) for n in names if os.path.exists(os.path.join(src, n))), None)
        if path is None:
            sys.exit(f"missing {' or '.join(names)} in {src}")
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                prefix = row["Assignment"].strip().upper()
                name = re.sub(r"\s+", " ", row["Organization Name"]).strip()
                if re.fullmatch(r"[0-9A-F]{6}|[0-9A-F]{7}|[0-9A-F]{9}", prefix) and name:
                    entries.setdefault(prefix, name)
    out = os.path.join(os.path.dirname(__file__), "..", "crates", "daicho-oui", "data", "ieee-registry.tsv")
    with open(out, "w", encoding="utf-8") as f:
        f.write("# IEEE Registration Authority: MA-L, MA-M, MA-S, IAB, CID. prefix<TAB>organization\n")
        f.write("# Regenerate with scripts/update-oui-data.py; do not edit by hand.\n")
        for prefix in sorted(entries):
            f.write(f"{prefix}\t{entries[prefix]}\n")
    print(f"{len(entries)} prefixes written to {os.path.normpath(out)}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
