//! What a site sets once for the whole process: the rooms its switch ports
//! are in (`--rooms`) and the time zone people read times in
//! (`--time-zone`, Asia/Tokyo unless set). Stored times stay UTC; they are
//! shown in the site's zone.

use std::sync::OnceLock;

use jiff::Timestamp;
use jiff::tz::TimeZone;

static ROOMS: OnceLock<daicho_place::Rooms> = OnceLock::new();
static ZONE: OnceLock<TimeZone> = OnceLock::new();
static NAME: OnceLock<String> = OnceLock::new();

/// Installs the hospital's (and site's) name, for the report's title.
pub fn install_name(name: &str) {
    let name = name.trim();
    if !name.is_empty() {
        let _ = NAME.set(name.to_owned());
    }
}

pub fn name() -> Option<&'static str> {
    NAME.get().map(String::as_str)
}

/// The zone times are shown in when none is set: the hospitals' own.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Tokyo";

/// Installs the site's rooms for every reconciliation of this process.
pub fn install_rooms(rooms: daicho_place::Rooms) {
    let _ = ROOMS.set(rooms);
}

pub fn rooms() -> &'static daicho_place::Rooms {
    ROOMS.get_or_init(daicho_place::Rooms::default)
}

/// Installs the zone named `name` (an IANA name such as `Asia/Tokyo`).
pub fn install_time_zone(name: &str) -> anyhow::Result<()> {
    let zone = match TimeZone::get(name) {
        Ok(zone) => zone,
        Err(_) if name == DEFAULT_TIME_ZONE => japan(),
        Err(e) => anyhow::bail!(
            "unknown time zone {name:?} ({e}): give an IANA name such as Asia/Tokyo \
             / タイムゾーン {name:?} が分かりません（例: Asia/Tokyo）"
        ),
    };
    let _ = ZONE.set(zone);
    Ok(())
}

/// Japan keeps no daylight saving time: a fixed +09:00 is the same zone
/// where the time zone database is missing.
fn japan() -> TimeZone {
    TimeZone::get(DEFAULT_TIME_ZONE)
        .unwrap_or_else(|_| TimeZone::fixed(jiff::tz::Offset::constant(9)))
}

fn zone() -> &'static TimeZone {
    ZONE.get_or_init(japan)
}

/// `at` as people read it at the site: `2026-12-04 21:15 JST`.
pub fn local(at: Timestamp) -> String {
    at.to_zoned(zone().clone())
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// The day of `at` at the site, `2026-12-04` (sorts as text).
pub fn local_day(at: Timestamp) -> String {
    at.to_zoned(zone().clone()).strftime("%Y-%m-%d").to_string()
}

/// The day of a stored time at the site, as the ledger writes dates:
/// `2026年12月4日`.
pub fn japanese_date(stored: &str) -> String {
    match parse_stored(stored) {
        Some(at) => at
            .to_zoned(zone().clone())
            .strftime("%Y年%-m月%-d日")
            .to_string(),
        None => stored.to_owned(),
    }
}

/// A time the store keeps as text (RFC 3339, or `2026-12-04 12:15:00 UTC`
/// as settlements are written), as people read it at the site; text that
/// is no time is shown as it is.
pub fn local_text(stored: &str) -> String {
    parse_stored(stored).map_or_else(|| stored.to_owned(), local)
}

fn parse_stored(stored: &str) -> Option<Timestamp> {
    stored.parse::<Timestamp>().ok().or_else(|| {
        let utc = stored.strip_suffix(" UTC")?;
        jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", utc)
            .or_else(|_| jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M", utc))
            .ok()?
            .to_zoned(TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_times_read_in_the_site_s_zone() {
        let at: Timestamp = "2026-12-04T12:15:30Z".parse().unwrap();
        assert_eq!(local(at), "2026-12-04 21:15 JST");
        assert_eq!(
            local_text("2026-12-04T12:15:30.123456Z"),
            "2026-12-04 21:15 JST"
        );
        assert_eq!(
            local_text("2026-12-04 12:15:30 UTC"),
            "2026-12-04 21:15 JST"
        );
        assert_eq!(local_text("not a time"), "not a time");
        assert_eq!(japanese_date("2026-12-04T16:00:00Z"), "2026年12月5日");
        assert!(install_time_zone("Mars/Olympus").is_err());
    }
}
