#!/usr/bin/env python3
"""Fails when a Japanese page holds an English sentence: three or more
lowercase English words in a row in its text (the diagram's included;
names such as "SNMP", "VLAN 20" or "sw-out" are not sentences). Device-
supplied text quoted in 「」 is the device's, not ours, and is skipped.

Usage: no_english.py PAGE.html [...]"""
import html
import re
import sys

WORD = re.compile(r"[a-z]{2,}(?:'[a-z]+)?")


def sentences(page: str):
    page = re.sub(r"<style.*?</style>", "", page, flags=re.S)
    page = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", "\n", page))
    text = re.sub(r"「[^」]*」", " ", text)
    for line in text.split("\n"):
        run = []
        for token in line.split():
            word = token.strip(",.;:()（）、。")
            if WORD.fullmatch(word):
                run.append(word)
                if len(run) >= 3:
                    yield line.strip()
                    break
            else:
                run = []


failed = False
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        for line in sentences(f.read()):
            print(f"{path}: English in a Japanese page: {line[:160]!r}", file=sys.stderr)
            failed = True
sys.exit(1 if failed else 0)
