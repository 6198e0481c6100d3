//! The hospital's declared device ledger (機器台帳, checklist item 2-(1)):
//! read from the file staff already keep (CSV in UTF-8 or Shift_JIS, XLSX,
//! XLS, ODS), matched to the devices daicho discovered, the differences
//! (undeclared, missing, changed, flagged for 2-(2)), how a settled
//! difference changes the ledger, and the ledger and report written back
//! (CSV, XLSX, one self-contained HTML file).
//!
//! Pure functions over data: the collector reads and writes files and the
//! database. Device-supplied strings are hostile: HTML is escaped by the
//! template engine, spreadsheet cells are neutralized against formulas.

mod changes;
mod columns;
mod diff;
mod export;
mod read;
mod register;
mod report;

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

pub use changes::{ImportChanges, compare};
pub use columns::{CLOUD_COLUMNS, DEVICE_COLUMNS, Field};
pub use diff::{
    ConnectionMethod, Diff, DiffOptions, Discovered, Flag, Interface, Item, ItemKind, MatchedBy,
    RemoteMaintenance, Settlement, SettlementAction, accept, diff, found_cells, sanction,
};
pub use export::{
    CsvEncoding, ExportError, Found, FoundCells, neutralize, to_csv, to_workbook, to_xlsx,
};
pub use read::{Encoding, FileError, Imported, Mapping, RowError, RowNote, read_file};
pub use register::{Question, REGISTER_SHEET, RegisterEntry, read_register, register_table};
pub use report::{
    ChecklistAnswer, Coverage, DisclosureLine, Inspection, Lang, RegisterLine, ReportInput,
    SignOffLine, Unchecked, render_html,
};

/// One device row of the declared ledger: the cells it has, by column.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredRow {
    pub fields: BTreeMap<Field, String>,
}

/// The whole declared ledger: device rows (diffed) and cloud-service rows
/// (kept and written back, header → cell).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    pub devices: Vec<DeclaredRow>,
    pub cloud: Vec<BTreeMap<String, String>>,
    /// 最終更新日 / 最終更新者, written above the table as in the MHLW
    /// example, and read from there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<Updated>,
}

/// When the ledger was last updated, and by whom, as the file says it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Updated {
    pub date: String,
    pub by: String,
}

impl DeclaredRow {
    pub fn get(&self, field: Field) -> Option<&str> {
        self.fields
            .get(&field)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn set(&mut self, field: Field, value: impl Into<String>) {
        self.fields.insert(field, value.into());
    }

    /// The addresses in the IP column (it may list several).
    pub fn ips(&self) -> Vec<IpAddr> {
        self.get(Field::Ip)
            .map(|v| split_list(v).filter_map(|s| s.parse().ok()).collect())
            .unwrap_or_default()
    }

    /// The MACs in the MAC column (it may list several), as normalized.
    pub fn macs(&self) -> Vec<String> {
        self.get(Field::Mac)
            .map(|v| split_list(v).map(str::to_lowercase).collect())
            .unwrap_or_default()
    }

    /// Adds `value` to a list column (IP, MAC) unless it is there already.
    pub fn add_to_list(&mut self, field: Field, value: &str) {
        let present = self
            .get(field)
            .is_some_and(|v| split_list(v).any(|item| item.eq_ignore_ascii_case(value)));
        if present {
            return;
        }
        let list = match self.get(field) {
            Some(old) => format!("{old}, {value}"),
            None => value.to_owned(),
        };
        self.set(field, list);
    }

    /// Whether the row says the device is in use (稼働; an empty status too).
    pub fn in_use(&self) -> bool {
        self.get(Field::Status).is_none_or(|s| {
            let s = s.trim().to_lowercase();
            ["稼働", "稼動", "使用中", "運用中", "in use", "active"].contains(&s.as_str())
        })
    }

    /// The リモートメンテナンス column: 有 (true), 無 (false), or not said.
    pub fn remote_maintenance(&self) -> Option<bool> {
        self.get(Field::RemoteMaintenance).map(|v| v == "有")
    }

    /// Whether the row marks a medical device: its 医療機器 column says so
    /// (○, 該当, 有, yes…), or its 種別 is 医療機器.
    pub fn medical(&self) -> bool {
        let marked = self.get(Field::Medical).is_some_and(|v| {
            let v = v.trim().to_lowercase();
            !v.is_empty()
                && !["無", "×", "いいえ", "非該当", "-", "no", "false"].contains(&v.as_str())
        });
        marked
            || self
                .get(Field::Kind)
                .is_some_and(|k| k.contains("医療機器"))
    }

    /// How people refer to the row: its management id, else its name.
    pub fn label(&self) -> String {
        self.get(Field::ManagementId)
            .or(self.get(Field::ComputerName))
            .unwrap_or("?")
            .to_owned()
    }
}

/// Items of a list cell: "198.18.1.5, 198.18.2.5" or one per line.
pub(crate) fn split_list(text: &str) -> impl Iterator<Item = &str> {
    text.split([',', '、', ';', '\n', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests;
