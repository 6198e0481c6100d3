#!/usr/bin/env bash
# Rebuilds crates/daicho-snmp/data/enterprise-numbers.tsv from IANA's Private
# Enterprise Numbers registry. Usage: scripts/update-enterprise-numbers.sh FILE
# where FILE is IANA's "enterprise-numbers" text (download it where you have
# the web: https://www.iana.org/assignments/enterprise-numbers). Debian's
# nmap-common ships a converted copy as
# /usr/share/nmap/nselib/data/enterprise_numbers.txt (PEN<TAB>name); that
# form is accepted as well.
set -euo pipefail
src="$1"
out="$(dirname "$0")/../crates/daicho-snmp/data/enterprise-numbers.tsv"
{
    echo "# IANA Private Enterprise Numbers (https://www.iana.org/assignments/enterprise-numbers): PEN<TAB>organization."
    echo "# Regenerate with scripts/update-enterprise-numbers.sh; do not edit by hand."
    if grep -q $'^[0-9]\+\t' "$src"; then
        grep -v '^#' "$src"
    else
        # IANA's layout: the number alone on a line, the organisation on the next.
        perl -lne 'if(/^\d+$/){$x=$_}elsif(defined $x){next unless /\S/;s/^\s*|\s*$//g;print"$x\t$_";undef $x}' "$src"
    fi | awk -F'\t' 'NF==2 && $1 ~ /^[0-9]+$/ && $2 != "" && $2 != "---none---"' | sort -n -k1,1 -t $'\t' -u
} > "$out"
echo "$(($(wc -l < "$out") - 2)) enterprise numbers written to $out"
