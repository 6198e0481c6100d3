//! Durations as people write them in `agent.toml` and on the command line.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// Reads a duration written for people: `500ms`, `2s`, `1m 30s`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let parsed: jiff::SignedDuration = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (write e.g. 500ms, 2s or 1m)"))?;
    Duration::try_from(parsed).map_err(|_| format!("{text:?} is negative"))
}

/// `deserialize_with` for a duration field of `agent.toml`.
pub fn duration_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_duration(&text).map_err(serde::de::Error::custom)
}
