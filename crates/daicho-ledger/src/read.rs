//! Reading a ledger file: the format and text encoding, the header row
//! (found below any title lines, as in the MHLW example), each column's
//! field, and each cell checked — every problem named by file, row and
//! column.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Cursor;

use calamine::{Data, Reader};

use crate::columns::{CLOUD_COLUMNS, normalize_header};
use crate::{DeclaredRow, Field, Ledger, Updated, split_list};

/// The text encoding of a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (with or without BOM) if the bytes are UTF-8, else Shift_JIS.
    Auto,
    Utf8,
    /// Shift_JIS as Windows writes it (CP932).
    Cp932,
}

/// A site's own header names: header text → field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    pub headers: BTreeMap<String, Field>,
}

impl Mapping {
    /// Reads a mapping file: TOML `[columns]` with `"資産No" = "management_id"`.
    pub fn parse(text: &str) -> Result<Mapping, String> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct File {
            columns: BTreeMap<String, String>,
        }
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut headers = BTreeMap::new();
        for (header, name) in file.columns {
            let field = Field::from_name(&name)
                .ok_or_else(|| format!("{name:?} (for {header:?}) is not a ledger column"))?;
            headers.insert(normalize_header(&header), field);
        }
        Ok(Mapping { headers })
    }

    fn field(&self, header: &str) -> Option<Field> {
        self.headers
            .get(&normalize_header(header))
            .copied()
            .or_else(|| Field::from_header(header))
    }
}

/// The file cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error(
        "{file}: not UTF-8 and not Shift_JIS (CP932) text; save it as CSV UTF-8 or give --encoding\n\
         {file}: 文字コードを判別できません。CSV UTF-8 で保存するか --encoding を指定してください"
    )]
    Encoding { file: String },
    #[error("{file}: not a readable spreadsheet: {reason}\n{file}: 表計算ファイルとして読めません")]
    Spreadsheet { file: String, reason: String },
    #[error("{file}: CSV error: {reason}\n{file}: CSV の形式が正しくありません")]
    Csv { file: String, reason: String },
    #[error(
        "{file}: line {line} (row {row}): a quote (\") opened there is never closed, so the {rest} line(s) after it \
         would be read as one cell; close the quote (or remove it) and import again\n\
         {file}: {line} 行目（{row} 行目のデータ）の引用符 (\") が閉じていません。以降の {rest} 行が 1 つのセルとして読まれてしまうため、取り込みませんでした"
    )]
    UnclosedQuote {
        file: String,
        line: usize,
        row: usize,
        rest: usize,
    },
    #[error(
        "{file}: no header row found (expected columns such as 管理番号, IPアドレス, コンピュータ名 in the first 20 rows)\n\
         {file}: 見出し行が見つかりません"
    )]
    NoHeader { file: String },
}

/// A cell that is not right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub file: String,
    /// 1-based, as a spreadsheet shows it.
    pub row: usize,
    pub column: String,
    pub message: String,
    pub message_ja: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: row {}, column {}: {} / {}",
            self.file, self.row, self.column, self.message, self.message_ja
        )
    }
}

/// What a file held: the rows that are right, and what is wrong with the
/// others (those rows are not in `ledger`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Imported {
    pub ledger: Ledger,
    pub errors: Vec<RowError>,
    /// Cells written another way and read as the ledger writes them
    /// (full-width digits, 和暦 dates, ○/× words): kept, and said.
    pub notes: Vec<RowNote>,
    /// Header cells of the device sheet that name no column: their
    /// cells are not read.
    pub unrecognised: Vec<String>,
}

/// A cell read as something else than it is written: `from` became `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowNote {
    pub file: String,
    /// 1-based, as a spreadsheet shows it.
    pub row: usize,
    pub column: String,
    pub from: String,
    pub to: String,
}

impl fmt::Display for RowNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: row {}, column {}: {:?} read as {:?} / {:?} を {:?} として読みました",
            self.file, self.row, self.column, self.from, self.to, self.from, self.to
        )
    }
}

/// Reads a ledger file (`name` tells CSV from spreadsheets and names the
/// file in messages).
pub fn read_file(
    name: &str,
    bytes: &[u8],
    encoding: Encoding,
    mapping: &Mapping,
) -> Result<Imported, FileError> {
    let lower = name.to_lowercase();
    let sheets = if [".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"]
        .iter()
        .any(|e| lower.ends_with(e))
    {
        spreadsheet_grids(name, bytes)?
    } else {
        vec![csv_grid(name, &decode(name, bytes, encoding)?)?]
    };
    let mut imported = Imported::default();
    let mut found_header = false;
    for grid in sheets {
        if let Some(header) = find_header(&grid, |h| mapping.field(h).is_some()) {
            found_header = true;
            imported.ledger.updated = updated_above(&grid[..header]);
            read_devices(name, &grid, header, mapping, &mut imported);
        } else if let Some(header) = find_header(&grid, |h| {
            CLOUD_COLUMNS
                .iter()
                .any(|c| normalize_header(c) == normalize_header(h))
        }) {
            found_header = true;
            read_cloud(&grid, header, &mut imported.ledger);
        }
    }
    if !found_header {
        return Err(FileError::NoHeader {
            file: name.to_owned(),
        });
    }
    Ok(imported)
}

fn decode(name: &str, bytes: &[u8], encoding: Encoding) -> Result<String, FileError> {
    let fail = || FileError::Encoding {
        file: name.to_owned(),
    };
    let utf8 = |b: &[u8]| {
        std::str::from_utf8(b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b)).map(str::to_owned)
    };
    let cp932 = |b: &[u8]| {
        let (text, had_errors) = encoding_rs::SHIFT_JIS.decode_without_bom_handling(b);
        (!had_errors).then(|| text.into_owned())
    };
    match encoding {
        Encoding::Utf8 => utf8(bytes).map_err(|_| fail()),
        Encoding::Cp932 => cp932(bytes).ok_or_else(fail),
        Encoding::Auto => utf8(bytes).ok().or_else(|| cp932(bytes)).ok_or_else(fail),
    }
}

type Grid = Vec<Vec<String>>;

fn csv_grid(name: &str, text: &str) -> Result<Grid, FileError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut grid = Vec::new();
    let mut last_start = None;
    for record in reader.records() {
        let record = record.map_err(|e| FileError::Csv {
            file: name.to_owned(),
            reason: e.to_string(),
        })?;
        last_start = record
            .position()
            .map(|p| (p.byte() as usize, p.line(), grid.len() + 1));
        grid.push(record.iter().map(str::to_owned).collect());
    }
    // A quote never closed makes the csv reader take the rest of the file
    // as one cell of the last record, silently: find it and refuse.
    if let Some((start, line, row)) = last_start
        && let Some(opened) = unclosed_quote(&text.as_bytes()[start..])
    {
        let line = line as usize
            + text.as_bytes()[start..start + opened]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
        let rest = text.as_bytes()[start + opened..]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        return Err(FileError::UnclosedQuote {
            file: name.to_owned(),
            line,
            row,
            rest,
        });
    }
    Ok(grid)
}

/// Where a quote opened in `record` (one CSV record to the end of the
/// text) is never closed, if one is.
fn unclosed_quote(record: &[u8]) -> Option<usize> {
    let mut at_field_start = true;
    let mut quoted_since = None;
    let mut i = 0;
    while i < record.len() {
        let b = record[i];
        match quoted_since {
            Some(_) if b == b'"' && record.get(i + 1) == Some(&b'"') => i += 1,
            Some(_) if b == b'"' => quoted_since = None,
            Some(_) => {}
            None if at_field_start && b == b'"' => quoted_since = Some(i),
            None => {}
        }
        at_field_start = quoted_since.is_none() && matches!(b, b',' | b'\n' | b'\r');
        i += 1;
    }
    quoted_since
}

fn spreadsheet_grids(name: &str, bytes: &[u8]) -> Result<Vec<Grid>, FileError> {
    Ok(spreadsheet_sheets(name, bytes)?
        .into_iter()
        .map(|(_, grid)| grid)
        .collect())
}

/// Every sheet of a workbook, by name, as the text a person sees.
pub(crate) fn spreadsheet_sheets(
    name: &str,
    bytes: &[u8],
) -> Result<Vec<(String, Grid)>, FileError> {
    let fail = |reason: String| FileError::Spreadsheet {
        file: name.to_owned(),
        reason,
    };
    let mut workbook = calamine::open_workbook_auto_from_rs(Cursor::new(bytes.to_vec()))
        .map_err(|e| fail(e.to_string()))?;
    let mut grids = Vec::new();
    for sheet in workbook.sheet_names() {
        let range = workbook
            .worksheet_range(&sheet)
            .map_err(|e| fail(format!("sheet {sheet}: {e}")))?;
        // The range starts at its first used cell: pad it so that row
        // numbers in messages are the ones the spreadsheet shows.
        let top = range.start().map_or(0, |(row, _)| row as usize);
        grids.push((
            sheet,
            std::iter::repeat_with(Vec::new)
                .take(top)
                .chain(range.rows().map(|row| row.iter().map(cell_text).collect()))
                .collect(),
        ));
    }
    Ok(grids)
}

/// A spreadsheet cell as the text a person sees (dates as 2020/12/01,
/// whole numbers without ".0").
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        // Excel counts days from 1899-12-30.
        Data::DateTime(d) => jiff::civil::date(1899, 12, 30)
            .checked_add(jiff::Span::new().days(d.as_f64().floor() as i64))
            .map(|date| date.strftime("%Y/%m/%d").to_string())
            .unwrap_or_else(|_| d.to_string()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// The first row (of the first 20) with three or more cells `known` accepts.
/// 「最終更新日：」 and 「最終更新者：」 above the table, each followed by its
/// value in the next cell, as in the MHLW example.
fn updated_above(rows: &[Vec<String>]) -> Option<Updated> {
    let value = |label: &str| {
        rows.iter().find_map(|row| {
            let at = row.iter().position(|c| c.trim().starts_with(label))?;
            row[at + 1..]
                .iter()
                .map(|c| c.trim())
                .find(|c| !c.is_empty())
                .map(str::to_owned)
        })
    };
    let (date, by) = (value("最終更新日"), value("最終更新者"));
    (date.is_some() || by.is_some()).then(|| Updated {
        date: date.unwrap_or_default(),
        by: by.unwrap_or_default(),
    })
}

fn find_header(grid: &Grid, known: impl Fn(&str) -> bool) -> Option<usize> {
    grid.iter()
        .take(20)
        .position(|row| row.iter().filter(|c| known(c)).count() >= 3)
}

/// The field of each column of a header row. A merged header cell such as
/// 「設置場所／利用者」 spans empty cells to its right: each name it holds
/// takes one of them, in order. Header texts that name no column are listed.
fn columns_of(headers: &[String], mapping: &Mapping) -> (Vec<Option<Field>>, Vec<String>) {
    let mut columns: Vec<Option<Field>> = headers.iter().map(|h| mapping.field(h)).collect();
    let mut unrecognised = Vec::new();
    for (i, header) in headers.iter().enumerate() {
        if columns[i].is_some() || header.trim().is_empty() {
            continue;
        }
        let parts: Vec<Option<Field>> = header
            .split(['／', '/', '・', '、'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| mapping.field(p))
            .collect();
        let spanned = headers[i + 1..]
            .iter()
            .take(parts.len().saturating_sub(1))
            .filter(|h| h.trim().is_empty())
            .count();
        if parts.len() > 1 && parts.iter().all(Option::is_some) && spanned == parts.len() - 1 {
            for (n, field) in parts.into_iter().enumerate() {
                columns[i + n] = field;
            }
        } else {
            unrecognised.push(header.trim().to_owned());
        }
    }
    (columns, unrecognised)
}

fn read_devices(
    name: &str,
    grid: &Grid,
    header: usize,
    mapping: &Mapping,
    imported: &mut Imported,
) {
    let (columns, unrecognised) = columns_of(&grid[header], mapping);
    imported.unrecognised.extend(unrecognised);
    let mut ids = BTreeSet::new();
    for (index, cells) in grid.iter().enumerate().skip(header + 1) {
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut row = DeclaredRow::default();
        let mut errors = Vec::new();
        let mut notes = Vec::new();
        for (cell, field) in cells.iter().zip(&columns) {
            let (Some(field), value) = (field, cell.trim()) else {
                continue;
            };
            if value.is_empty() {
                continue;
            }
            let folded = fold(*field, value);
            match check(*field, &folded) {
                Ok(checked) => {
                    if folded != value {
                        notes.push(RowNote {
                            file: name.to_owned(),
                            row: index + 1,
                            column: field.header().to_owned(),
                            from: value.to_owned(),
                            to: checked.clone(),
                        });
                    }
                    row.set(*field, checked);
                }
                Err((message, message_ja)) => errors.push(RowError {
                    file: name.to_owned(),
                    row: index + 1,
                    column: field.header().to_owned(),
                    message,
                    message_ja,
                }),
            }
        }
        if let Some(id) = row.get(Field::ManagementId)
            && !ids.insert(id.to_owned())
        {
            errors.push(RowError {
                file: name.to_owned(),
                row: index + 1,
                column: Field::ManagementId.header().to_owned(),
                message: format!("management id {id:?} appears twice"),
                message_ja: format!("管理番号 {id:?} が重複しています"),
            });
        }
        if errors.is_empty() {
            imported.ledger.devices.push(row);
            imported.notes.extend(notes);
        } else {
            imported.errors.extend(errors);
        }
    }
}

/// A cell as the ledger writes it, for the columns with a fixed form:
/// full-width letters, digits and punctuation folded (NFKC: only there,
/// where it cannot change a name), 和暦 dates in the Western calendar, and
/// ○/× in the status column as 稼働/停止.
fn fold(field: Field, value: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    match field {
        Field::Ip | Field::Mac => value.nfkc().collect(),
        Field::Registered => {
            let folded: String = value.nfkc().collect();
            wareki(&folded).unwrap_or(folded)
        }
        Field::Status => match value {
            "○" | "〇" | "◯" | "●" => "稼働".to_owned(),
            "×" | "✕" | "✖" | "╳" => "停止".to_owned(),
            _ => value.to_owned(),
        },
        Field::RemoteMaintenance => value.nfkc().collect(),
        _ => value.to_owned(),
    }
}

/// A date in a Japanese era — 令和元年4月1日, R3.8.1, H31/4/1, 平成31年4月1日,
/// S63-1-1 — as `YYYY/M/D` (the check then writes it in full).
fn wareki(text: &str) -> Option<String> {
    const ERAS: [(&str, &str, i16); 5] = [
        ("令和", "R", 2019),
        ("平成", "H", 1989),
        ("昭和", "S", 1926),
        ("大正", "T", 1912),
        ("明治", "M", 1868),
    ];
    let text = text.trim();
    let (first, rest) = ERAS.iter().find_map(|(kanji, letter, first)| {
        text.strip_prefix(kanji)
            .or_else(|| text.strip_prefix(letter))
            .or_else(|| text.strip_prefix(&letter.to_lowercase()))
            .map(|rest| (*first, rest))
    })?;
    let (year, rest) = match rest.strip_prefix("元") {
        Some(rest) => (1, rest),
        None => {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            (rest[..digits].parse::<i16>().ok()?, &rest[digits..])
        }
    };
    let rest = rest
        .strip_prefix('年')
        .or_else(|| rest.strip_prefix(['.', '/', '-']))?;
    let parts: Vec<&str> = rest
        .trim_end_matches('日')
        .split(['/', '-', '月', '.'])
        .collect();
    let [month, day] = parts.as_slice() else {
        return None;
    };
    let (month, day): (i8, i8) = (month.trim().parse().ok()?, day.trim().parse().ok()?);
    (year >= 1).then(|| format!("{}/{month}/{day}", first + year - 1))
}

fn read_cloud(grid: &Grid, header: usize, ledger: &mut Ledger) {
    let headers = &grid[header];
    for cells in grid.iter().skip(header + 1) {
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        ledger.cloud.push(
            headers
                .iter()
                .zip(cells)
                .filter(|(h, _)| !h.trim().is_empty())
                .map(|(h, c)| (h.trim().to_owned(), c.trim().to_owned()))
                .collect(),
        );
    }
}

/// A cell's value as stored, or what is wrong with it (English, Japanese).
fn check(field: Field, value: &str) -> Result<String, (String, String)> {
    match field {
        Field::Ip => {
            for item in split_list(value) {
                let address = item.split_once('/').map_or(item, |(a, _)| a);
                if address.parse::<std::net::IpAddr>().is_err() {
                    return Err((
                        format!("{item:?} is not an IP address"),
                        format!("{item:?} は IP アドレスではありません"),
                    ));
                }
            }
            Ok(split_list(value).collect::<Vec<_>>().join(", "))
        }
        // One MAC, or a list (a device with several interfaces); one MAC
        // may be written with spaces ("00 1b 21 3a 4f 5c").
        Field::Mac => normalize_mac(value)
            .or_else(|| {
                let macs: Option<Vec<String>> = split_list(value).map(normalize_mac).collect();
                macs.map(|m| m.join(", "))
            })
            .ok_or_else(|| {
                (
                    format!("{value:?} is not a MAC address (e.g. 00:1b:21:3a:4f:5c)"),
                    format!("{value:?} は MAC アドレスではありません"),
                )
            }),
        Field::Registered => normalize_date(value).ok_or_else(|| {
            (
                format!("{value:?} is not a date (e.g. 2020/12/1)"),
                format!("{value:?} は日付ではありません（例: 2020/12/1）"),
            )
        }),
        Field::RemoteMaintenance => match value.to_lowercase().as_str() {
            "有" | "あり" | "有り" | "yes" | "y" | "○" | "〇" | "◯" | "true" => {
                Ok("有".into())
            }
            "無" | "なし" | "無し" | "no" | "n" | "×" | "✕" | "-" | "false" => {
                Ok("無".into())
            }
            _ => Err((
                format!("{value:?}: write 有 or 無 (yes/no)"),
                format!("{value:?}: 有 または 無 を記入してください"),
            )),
        },
        _ => Ok(value.to_owned()),
    }
}

/// `aa:bb:cc:dd:ee:ff` from the usual ways of writing a MAC address.
pub(crate) fn normalize_mac(text: &str) -> Option<String> {
    let hex: String = text
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.' | ' '))
        .collect::<String>()
        .to_lowercase();
    (hex.len() == 12 && hex.chars().all(|c| c.is_ascii_hexdigit())).then(|| {
        hex.as_bytes()
            .chunks(2)
            .map(|p| std::str::from_utf8(p).expect("ASCII"))
            .collect::<Vec<_>>()
            .join(":")
    })
}

/// 2020/12/1, 2020-12-01 or 2020年12月1日 → 2020/12/01.
fn normalize_date(text: &str) -> Option<String> {
    let parts: Vec<&str> = text
        .trim_end_matches('日')
        .split(['/', '-', '年', '月', '.'])
        .collect();
    let [y, m, d] = parts.as_slice() else {
        return None;
    };
    let date = jiff::civil::Date::new(
        y.trim().parse().ok()?,
        m.trim().parse().ok()?,
        d.trim().parse().ok()?,
    )
    .ok()?;
    Some(date.strftime("%Y/%m/%d").to_string())
}
