//! What importing a file would change in the ledger: rows added, removed
//! and changed, and columns whose values would all be lost — said before
//! anything is saved, so that a wrong file (another layout, a broken
//! quote, a sheet cut short) never silently replaces the ledger.

use std::collections::{BTreeMap, BTreeSet};

use crate::{DeclaredRow, Field, Ledger};

/// The differences between the current ledger and an imported one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportChanges {
    /// Rows of the new ledger with no counterpart in the current one.
    pub added: usize,
    /// Rows of the current ledger the new one no longer has (labels).
    pub removed: Vec<String>,
    /// Rows in both whose cells differ: (label, the columns that differ).
    pub changed: Vec<(String, Vec<Field>)>,
    /// Columns that hold values now and would hold none.
    pub lost_columns: Vec<Field>,
    /// Rows of the cloud-services sheet that would be gone.
    pub cloud_removed: usize,
}

impl ImportChanges {
    /// Whether the import would lose something staff wrote: rows or whole
    /// columns. Such an import needs to be asked for (`--replace`).
    pub fn loses_data(&self) -> bool {
        !self.removed.is_empty() || !self.lost_columns.is_empty() || self.cloud_removed > 0
    }

    /// One line per kind of change, English then Japanese.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "{} rows added, {} removed, {} changed / 追加 {} 行、削除 {} 行、変更 {} 行",
            self.added,
            self.removed.len(),
            self.changed.len(),
            self.added,
            self.removed.len(),
            self.changed.len()
        )];
        if !self.removed.is_empty() {
            let shown: Vec<&str> = self.removed.iter().take(20).map(String::as_str).collect();
            let more = self.removed.len().saturating_sub(shown.len());
            lines.push(format!(
                "rows no longer in the file / ファイルにない行: {}{}",
                shown.join(", "),
                if more > 0 {
                    format!(" (+{more})")
                } else {
                    String::new()
                }
            ));
        }
        if !self.lost_columns.is_empty() {
            let names: Vec<String> = self
                .lost_columns
                .iter()
                .map(|f| format!("{} ({})", f.header(), f.english()))
                .collect();
            lines.push(format!(
                "columns that would lose every value / 値がすべて失われる列: {}",
                names.join(", ")
            ));
        }
        if self.cloud_removed > 0 {
            lines.push(format!(
                "{} rows of the cloud-services sheet would be gone / クラウドサービスの {} 行が失われます",
                self.cloud_removed, self.cloud_removed
            ));
        }
        lines
    }
}

/// How a row is recognised across versions: its 管理番号, else MAC, else
/// computer name, else serial number, else all of its cells.
fn identity(row: &DeclaredRow) -> String {
    for field in [
        Field::ManagementId,
        Field::Mac,
        Field::ComputerName,
        Field::Serial,
    ] {
        if let Some(value) = row.get(field) {
            return format!("{field:?}:{}", value.to_lowercase());
        }
    }
    format!("{:?}", row.fields)
}

/// What replacing `current` by `new` changes.
pub fn compare(current: &Ledger, new: &Ledger) -> ImportChanges {
    let mut new_rows: BTreeMap<String, Vec<&DeclaredRow>> = BTreeMap::new();
    for row in &new.devices {
        new_rows.entry(identity(row)).or_default().push(row);
    }
    let mut changes = ImportChanges::default();
    let mut matched = 0;
    for row in &current.devices {
        match new_rows.get_mut(&identity(row)).and_then(Vec::pop) {
            Some(counterpart) => {
                matched += 1;
                let fields: BTreeSet<Field> = row
                    .fields
                    .keys()
                    .chain(counterpart.fields.keys())
                    .copied()
                    .collect();
                let differ: Vec<Field> = fields
                    .into_iter()
                    .filter(|f| row.get(*f) != counterpart.get(*f))
                    .collect();
                if !differ.is_empty() {
                    changes.changed.push((row.label(), differ));
                }
            }
            None => changes.removed.push(row.label()),
        }
    }
    changes.added = new.devices.len() - matched;
    let holds = |ledger: &Ledger| -> BTreeSet<Field> {
        ledger
            .devices
            .iter()
            .flat_map(|r| r.fields.keys().copied().filter(|f| r.get(*f).is_some()))
            .collect()
    };
    let kept = holds(new);
    changes.lost_columns = holds(current).difference(&kept).copied().collect();
    changes.cloud_removed = current.cloud.len().saturating_sub(new.cloud.len());
    changes
}
