//! Checklist 2-②: the remote-maintenance register — for each device a
//! vendor maintains remotely, the answers to the questions the MHLW
//! material asks (who, how, from where, which ID, how authenticated, the
//! connecting terminal's state, when and with what notice, checked when,
//! on what evidence). Exported as its own sheet of the ledger workbook and
//! read back from it, so staff can fill it in Excel.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::read::{FileError, spreadsheet_sheets};

/// The register's sheet in the ledger workbook.
pub const REGISTER_SHEET: &str = "リモート保守";

/// The register's first column: the device (管理番号, or the ledger's
/// device number for one not declared).
pub const DEVICE_COLUMN: &str = "機器";

/// One question of the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Question {
    Maintainer,
    Method,
    SourceRestriction,
    IdHolder,
    Authentication,
    TerminalCheck,
    Timing,
    CheckedOn,
    Evidence,
}

impl Question {
    pub const ALL: [Question; 9] = [
        Question::Maintainer,
        Question::Method,
        Question::SourceRestriction,
        Question::IdHolder,
        Question::Authentication,
        Question::TerminalCheck,
        Question::Timing,
        Question::CheckedOn,
        Question::Evidence,
    ];

    /// The name stored, and used on the command line (`source_restriction`).
    pub fn id(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    pub fn from_id(id: &str) -> Option<Question> {
        let id = id.replace('-', "_");
        Question::ALL.into_iter().find(|q| q.id() == id)
    }

    /// The column header, as the seed's questions put it.
    pub fn header(self) -> &'static str {
        match self {
            Question::Maintainer => "保守事業者",
            Question::Method => "接続方法",
            Question::SourceRestriction => "接続元の制限",
            Question::IdHolder => "IDの付与先（個人／共用）",
            Question::Authentication => "認証方法",
            Question::TerminalCheck => "接続端末の安全状態の確認",
            Question::Timing => "実施のタイミングと連絡の有無",
            Question::CheckedOn => "確認日",
            Question::Evidence => "証跡",
        }
    }

    pub fn english(self) -> &'static str {
        match self {
            Question::Maintainer => "Maintenance vendor",
            Question::Method => "Connection method",
            Question::SourceRestriction => "Where it may connect from",
            Question::IdHolder => "ID given to (a person / shared)",
            Question::Authentication => "Authentication",
            Question::TerminalCheck => "Connecting terminal's security checked",
            Question::Timing => "When, and whether the hospital is told",
            Question::CheckedOn => "Checked on",
            Question::Evidence => "Evidence (file)",
        }
    }
}

/// One device's answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterEntry {
    /// The device: its 管理番号, or `#12` for a ledger device not declared.
    pub device: String,
    pub answers: BTreeMap<Question, String>,
}

impl RegisterEntry {
    pub fn answer(&self, question: Question) -> Option<&str> {
        self.answers
            .get(&question)
            .map(|a| a.trim())
            .filter(|a| !a.is_empty())
    }

    /// The questions still without an answer.
    pub fn unanswered(&self) -> Vec<Question> {
        Question::ALL
            .into_iter()
            .filter(|q| self.answer(*q).is_none())
            .collect()
    }
}

/// The register as a sheet: the header, then a row per device.
pub fn register_table(entries: &[RegisterEntry]) -> Vec<Vec<String>> {
    let header = std::iter::once(DEVICE_COLUMN.to_owned())
        .chain(Question::ALL.iter().map(|q| q.header().to_owned()))
        .collect();
    std::iter::once(header)
        .chain(entries.iter().map(|e| {
            std::iter::once(crate::neutralize(&e.device))
                .chain(
                    Question::ALL
                        .iter()
                        .map(|q| crate::neutralize(e.answer(*q).unwrap_or_default())),
                )
                .collect()
        }))
        .collect()
}

/// The register read back from a workbook's 「リモート保守」 sheet (as
/// exported, edited in Excel). Columns are found by their headers, in any
/// order; a row without a device is skipped; an apostrophe the export put
/// before a formula-like answer is taken off again.
pub fn read_register(name: &str, bytes: &[u8]) -> Result<Vec<RegisterEntry>, FileError> {
    let sheets = spreadsheet_sheets(name, bytes)?;
    let Some((_, grid)) = sheets.iter().find(|(sheet, _)| sheet == REGISTER_SHEET) else {
        return Err(FileError::Spreadsheet {
            file: name.to_owned(),
            reason: format!(
                "no sheet named {REGISTER_SHEET:?}: export the ledger (ledger export -o FILE.xlsx), \
                 fill in that sheet and import it / シート「{REGISTER_SHEET}」がありません"
            ),
        });
    };
    let Some((top, header)) = grid
        .iter()
        .enumerate()
        .find(|(_, row)| row.iter().any(|c| c.trim() == DEVICE_COLUMN))
    else {
        return Err(FileError::Spreadsheet {
            file: name.to_owned(),
            reason: format!(
                "the sheet {REGISTER_SHEET:?} has no {DEVICE_COLUMN:?} column / 「{DEVICE_COLUMN}」列がありません"
            ),
        });
    };
    let column = |title: &str| header.iter().position(|c| c.trim() == title);
    let device_at = column(DEVICE_COLUMN).expect("found above");
    let question_at: Vec<(Question, usize)> = Question::ALL
        .into_iter()
        .filter_map(|q| Some((q, column(q.header())?)))
        .collect();
    let cell = |row: &[String], at: usize| {
        let text = row.get(at).map_or("", |c| c.trim());
        text.strip_prefix('\'').unwrap_or(text).to_owned()
    };
    Ok(grid[top + 1..]
        .iter()
        .filter(|row| !cell(row, device_at).is_empty())
        .map(|row| RegisterEntry {
            device: cell(row, device_at),
            answers: question_at
                .iter()
                .map(|(q, at)| (*q, cell(row, *at)))
                .filter(|(_, a)| !a.is_empty())
                .collect(),
        })
        .collect())
}
