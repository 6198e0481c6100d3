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
LAB_PACKAGES=(iproute2 util-linux procps tcpdump iputils-ping arp-scan snmpd snmp lldpd samba avahi-daemon lighttpd lighttpd-mod-openssl openssl openssh-server miniupnpd nftables)
