#!/usr/bin/env python3
"""BRIDGE-MIB and Q-BRIDGE-MIB of a lab switch, for net-snmp's pass_persist.

The lab's managed switches are Linux bridges; net-snmp does not serve a
bridge's forwarding table, so this script does, from the kernel's own:
`bridge -j fdb show br BRIDGE` and the ports' numbers and ifIndexes in
/sys/class/net. Nothing is made up: what a real switch would have learned
is what the bridge learned. Read again at most once a second.

Served: dot1dBaseNumPorts, dot1dBasePortTable (port, ifIndex),
dot1dTpFdbTable (address, port, status) and, when the bridge filters VLANs
or is given one (`bridge-mib.py BRIDGE VLAN`: the whole bridge is that
access VLAN, for kernels built without bridge VLAN filtering),
dot1qTpFdbTable (port, status) indexed by VLAN as the filtering database.
"""
import json
import os
import subprocess
import sys
import time

BRIDGE = sys.argv[1] if len(sys.argv) > 1 else "br0"
ACCESS_VLAN = int(sys.argv[2]) if len(sys.argv) > 2 else None
BASE = (1, 3, 6, 1, 2, 1, 17)
LEARNED, SELF = 3, 4


def sys_value(path):
    with open(path) as f:
        return f.read().strip()


def ports():
    """{ifname: (bridge port number, ifIndex)} of the bridge's ports."""
    root = f"/sys/class/net/{BRIDGE}/brif"
    found = {}
    for name in os.listdir(root):
        number = int(sys_value(f"{root}/{name}/port_no"), 16)
        found[name] = (number, int(sys_value(f"/sys/class/net/{name}/ifindex")))
    return found


def table():
    """Every (oid, type, value) served, sorted by OID."""
    by_name = ports()
    rows = [(BASE + (1, 2, 0), "integer", len(by_name))]
    for number, if_index in by_name.values():
        rows.append((BASE + (1, 4, 1, 1, number), "integer", number))
        rows.append((BASE + (1, 4, 1, 2, number), "integer", if_index))
    entries = json.loads(
        subprocess.run(
            ["bridge", "-j", "fdb", "show", "br", BRIDGE],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        or "[]"
    )
    dot1d = {}
    for entry in entries:
        if "self" in entry.get("flags", []) or entry.get("master") != BRIDGE:
            continue  # a port's own multicast list, not the bridge's table
        mac = tuple(int(b, 16) for b in entry["mac"].split(":"))
        if mac[0] & 1:
            continue
        port = by_name.get(entry["ifname"], (0, 0))[0]
        status = SELF if entry.get("state") == "permanent" else LEARNED
        vlan = entry.get("vlan", ACCESS_VLAN)
        if vlan is not None:
            index = (vlan,) + mac
            rows.append((BASE + (7, 1, 2, 2, 1, 2) + index, "integer", port))
            rows.append((BASE + (7, 1, 2, 2, 1, 3) + index, "integer", status))
        dot1d.setdefault(mac, (port, status))
    for mac, (port, status) in dot1d.items():
        rows.append((BASE + (4, 3, 1, 1) + mac, "octet", " ".join(f"{b:02x}" for b in mac)))
        rows.append((BASE + (4, 3, 1, 2) + mac, "integer", port))
        rows.append((BASE + (4, 3, 1, 3) + mac, "integer", status))
    return sorted(rows)


def parse(oid):
    return tuple(int(part) for part in oid.strip().strip(".").split(".") if part)


def answer(row):
    oid, kind, value = row
    print("." + ".".join(map(str, oid)))
    print(kind)
    print(value)


def main():
    cached, at = [], 0.0
    for line in sys.stdin:
        command = line.strip()
        if command == "PING":
            print("PONG")
        elif command in ("get", "getnext"):
            oid = parse(sys.stdin.readline())
            if time.monotonic() - at > 1.0:
                cached, at = table(), time.monotonic()
            if command == "get":
                row = next((r for r in cached if r[0] == oid), None)
            else:
                row = next((r for r in cached if r[0] > oid), None)
            if row is None or row[0][: len(BASE)] != BASE:
                print("NONE")
            else:
                answer(row)
        elif command == "set":
            sys.stdin.readline()
            sys.stdin.readline()
            print("not-writable")
        elif command == "":
            break
        sys.stdout.flush()


main()
