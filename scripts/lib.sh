# Shared by scripts/demo, scripts/test and .ci/run. Sourced, not run.

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the Debian packages that are missing, saying so first.
ensure_packages() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "daicho: installing Debian packages: ${missing[*]}" >&2
    # The lab's daemons (snmpd, lldpd, ...) must not start in the host's own
    # namespace, where they would speak on its real network: forbid service
    # starts during the install, as Debian's policy-rc.d protocol allows.
    local own_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
        as_root chmod 755 /usr/sbin/policy-rc.d
        own_policy=1
    fi
    as_root apt-get update -qq
    local status=0
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
    [ -n "$own_policy" ] && as_root rm -f /usr/sbin/policy-rc.d
    return $status
}

# What the lab, the tests and the benchmark need from Debian.
LAB_PACKAGES=(iproute2 util-linux procps tcpdump iputils-ping arp-scan snmpd snmp lldpd samba avahi-daemon lighttpd lighttpd-mod-openssl openssl openssh-server miniupnpd nftables dnsmasq-base radvd busybox isc-dhcp-client python3-venv postgresql dcmtk orthanc chromium chromium-driver fonts-ipafont-gothic poppler-utils)

# A throwaway PostgreSQL for the ledger's tests on that backend: Debian's
# server with its own data directory, a Unix socket only (no TCP port, no
# network), one trusted user. Sets DAICHO_TEST_POSTGRES unless it is set
# already; stop_test_postgres removes the server and its data.
start_test_postgres() {
    [ -n "${DAICHO_TEST_POSTGRES:-}" ] && return 0
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -n "$bin" ] || { echo "daicho: no PostgreSQL server found (Debian package postgresql)" >&2; return 1; }
    TEST_PG_DIR=$(mktemp -d /tmp/daicho-pg.XXXXXX)
    TEST_PG_AS=()
    # The server refuses to run as root.
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$TEST_PG_DIR"
        TEST_PG_AS=(runuser -u postgres --)
    fi
    "${TEST_PG_AS[@]}" "$bin/initdb" -D "$TEST_PG_DIR/data" -U daicho --auth=trust -E UTF8 --locale=C.UTF-8 >"$TEST_PG_DIR/initdb.log"
    "${TEST_PG_AS[@]}" "$bin/pg_ctl" -D "$TEST_PG_DIR/data" -l "$TEST_PG_DIR/server.log" -w \
        -o "-c listen_addresses='' -k $TEST_PG_DIR -c max_connections=300" start >/dev/null
    TEST_PG_BIN=$bin
    export DAICHO_TEST_POSTGRES="postgres://daicho@localhost/postgres?host=$TEST_PG_DIR"
}

stop_test_postgres() {
    [ -n "${TEST_PG_DIR:-}" ] || return 0
    "${TEST_PG_AS[@]}" "$TEST_PG_BIN/pg_ctl" -D "$TEST_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$TEST_PG_DIR"
    TEST_PG_DIR=""
}

# snmpsim (PyPI) serves recorded walks of real devices as SNMP agents for the
# device lab (tests/e2e/device_lab.rs); snmpsim-data ships the recordings.
# Not in Debian: a virtualenv beside the build output, pinned versions,
# reused when present. Sets DAICHO_SNMPSIM to it.
SNMPSIM_PINS=(snmpsim==1.2.2 snmpsim-data==1.0.1)
ensure_snmpsim() {
    [ -n "${DAICHO_SNMPSIM:-}" ] && return 0
    local target="${CARGO_TARGET_DIR:-$PWD/target}"
    local venv="$target/snmpsim-venv"
    local stamp="$venv/.daicho-pins"
    if [ ! -x "$venv/bin/snmpsim-command-responder" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${SNMPSIM_PINS[*]}" ]; then
        echo "daicho: installing ${SNMPSIM_PINS[*]} into $venv" >&2
        rm -rf "$venv"
        mkdir -p "$target"
        # Debian's interpreter: one under /root (pyenv) is out of nobody's reach.
        /usr/bin/python3 -m venv "$venv"
        "$venv/bin/pip" install -q --disable-pip-version-check "${SNMPSIM_PINS[@]}"
        echo "${SNMPSIM_PINS[*]}" >"$stamp"
    fi
    # snmpsim drops root to nobody: it must reach its own interpreter.
    chmod -R a+rX "$venv"
    export DAICHO_SNMPSIM="$venv"
}
