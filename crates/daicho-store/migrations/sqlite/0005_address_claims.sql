-- Addresses a device showed to be its own on other segments (issue #15):
-- it answered ARP for one (the ARP-flux probe), or its SNMP address table,
-- mDNS records or TLS certificate listed one. The device seen at such an
-- address elsewhere within a day is the same host's other leg.
CREATE TABLE address_claims (
    device_id  INTEGER NOT NULL REFERENCES devices(id),
    ip         TEXT NOT NULL,
    source     TEXT NOT NULL,
    agent_id   TEXT NOT NULL,
    interface  TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen  TEXT NOT NULL,
    PRIMARY KEY (device_id, ip, source, agent_id, interface)
);
CREATE INDEX address_claims_by_ip ON address_claims(ip);
CREATE INDEX device_addresses_by_ip ON device_addresses(ip);
