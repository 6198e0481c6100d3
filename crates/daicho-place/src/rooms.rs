//! A site's own map of switch ports to rooms: the only thing that turns a
//! port into a 設置場所 the ledger can be told is wrong.
//!
//! A CSV file, one row per port or per switch: `スイッチ,ポート,設置場所`
//! (or `switch,port,room`). The switch is its sysName (domain ignored); the
//! port is its ifName, ifAlias or bridge port number; an empty port stands
//! for every port of the switch (a switch in one room). A port row wins
//! over its switch's row.

use std::collections::BTreeMap;

use crate::PortRef;

/// Rooms by (switch, port); port "" for the whole switch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rooms {
    rooms: BTreeMap<(String, String), String>,
}

/// Why a rooms file was refused, with the line to fix.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RoomsError {
    #[error(
        "the header must name the switch, the port and the room (スイッチ,ポート,設置場所 or switch,port,room); it has {0:?}\n\
         見出し行に スイッチ,ポート,設置場所 の列が必要です"
    )]
    Header(String),
    #[error("line {line}: {message}\n{line} 行目: {message_ja}")]
    Row {
        line: u64,
        message: String,
        message_ja: &'static str,
    },
}

const SWITCH: &[&str] = &["スイッチ", "switch"];
const PORT: &[&str] = &["ポート", "port"];
const ROOM: &[&str] = &["設置場所", "room", "location"];

impl Rooms {
    /// Reads a rooms file; a bad line is refused with its number, not skipped.
    pub fn from_csv(text: &str) -> Result<Rooms, RoomsError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        let header = reader
            .headers()
            .map_err(|e| RoomsError::Header(e.to_string()))?
            .clone();
        let column = |names: &[&str]| {
            header
                .iter()
                .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
        };
        let (Some(switch), Some(port), Some(room)) = (column(SWITCH), column(PORT), column(ROOM))
        else {
            return Err(RoomsError::Header(
                header.iter().collect::<Vec<_>>().join(","),
            ));
        };
        let mut rooms = Rooms::default();
        for record in reader.records() {
            let record = record.map_err(|e| RoomsError::Row {
                line: e.position().map_or(0, |p| p.line()),
                message: e.to_string(),
                message_ja: "CSV として読めません",
            })?;
            let line = record.position().map_or(0, |p| p.line());
            let cell = |i: usize| record.get(i).unwrap_or_default().trim();
            if record.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            let (name, room_name) = (cell(switch), cell(room));
            if name.is_empty() || room_name.is_empty() {
                return Err(RoomsError::Row {
                    line,
                    message: "the switch and the room must not be empty".into(),
                    message_ja: "スイッチと設置場所は空にできません",
                });
            }
            let key = (short_name(name), cell(port).to_lowercase());
            if let Some(before) = rooms.rooms.insert(key, room_name.to_owned())
                && before != room_name
            {
                return Err(RoomsError::Row {
                    line,
                    message: format!("{name} {} is already mapped to {before:?}", cell(port)),
                    message_ja: "同じポートが二度書かれています",
                });
            }
        }
        Ok(rooms)
    }

    /// The room `port` is in, if the site says.
    pub fn room_of(&self, port: &PortRef) -> Option<&str> {
        let switch = short_name(port.switch_name.as_deref()?);
        let names = [
            port.port_name.as_deref().map(str::to_lowercase),
            port.port_alias.as_deref().map(str::to_lowercase),
            Some(port.bridge_port.to_string()),
        ];
        names
            .into_iter()
            .flatten()
            .find_map(|name| self.rooms.get(&(switch.clone(), name)))
            .or_else(|| self.rooms.get(&(switch, String::new())))
            .map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.rooms.is_empty()
    }
}

/// A switch name without its domain, lower-cased: CDP's device id is often
/// the fully qualified name where sysName is short.
pub(crate) fn short_name(name: &str) -> String {
    name.split('.').next().unwrap_or(name).trim().to_lowercase()
}
