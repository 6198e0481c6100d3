//! Writing the ledger back: CSV (UTF-8 with BOM, which Excel opens
//! correctly, or strict CP932) and XLSX. Cells that a spreadsheet would
//! take for a formula are neutralized.

use std::collections::BTreeMap;

use crate::{DEVICE_COLUMNS, Field, Ledger};

/// What the network shows for a declared row's column, for the workbook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// The row's cell is empty; the network shows this (written, marked).
    Filled(String),
    /// The row says otherwise; the network shows this (the row's value
    /// kept, marked, the network's in the cell's note).
    Differs(String),
}

/// Found values by (row index in the ledger, column).
pub type FoundCells = BTreeMap<(usize, Field), Found>;

/// The text encoding of an exported CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvEncoding {
    /// UTF-8 with a byte-order mark.
    Utf8Bom,
    /// Shift_JIS as Windows reads it. Characters it cannot hold are mapped by
    /// [`CP932_NORMALIZATION`] or reported, never replaced silently.
    Cp932,
}

/// Look-alikes CP932 lacks, mapped to the character Windows uses.
pub const CP932_NORMALIZATION: &[(char, char)] = &[
    ('〜', '～'), // U+301C wave dash → U+FF5E fullwidth tilde
    ('−', '－'),  // U+2212 minus sign → U+FF0D fullwidth hyphen-minus
    ('‖', '∥'),   // U+2016 double vertical line → U+2225 parallel to
    ('—', '―'),   // U+2014 em dash → U+2015 horizontal bar
    ('¢', '￠'),
    ('£', '￡'),
    ('¬', '￢'),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    #[error(
        "row {row}, column {column}: {character:?} (U+{code:04X}) cannot be written in CP932; \
         change the cell or export as UTF-8\n\
         {row} 行目 {column} 列: 文字 {character:?} は CP932 で表せません"
    )]
    Unmappable {
        /// 1-based, the header being row 1.
        row: usize,
        column: String,
        character: char,
        code: u32,
    },
    #[error("cannot write the XLSX file: {0}\nXLSX を書き出せません")]
    Xlsx(String),
}

/// A cell a spreadsheet would run as a formula gets a leading apostrophe,
/// which shows it as text: one starting with `=`, `+`, `-`, `@` or their
/// full-width forms (Japanese input turns `＝` into `=`), also after
/// spaces or line breaks (which Excel skips), or with a tab or CR.
pub fn neutralize(cell: &str) -> String {
    let starts_formula = cell
        .trim_start_matches(char::is_whitespace)
        .starts_with(['=', '+', '-', '@', '＝', '＋', '－', '＠']);
    if starts_formula || cell.starts_with(['\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

/// 「最終更新日：」「最終更新者：」 and an empty line above the table, as
/// the MHLW example has them, when the ledger says.
fn preamble(ledger: &Ledger) -> Vec<Vec<String>> {
    let Some(updated) = &ledger.updated else {
        return Vec::new();
    };
    vec![
        vec!["最終更新日：".to_owned(), neutralize(&updated.date)],
        vec!["最終更新者：".to_owned(), neutralize(&updated.by)],
        Vec::new(),
    ]
}

/// How many lines the preamble takes in CSV (its empty line is left out).
fn csv_preamble_lines(ledger: &Ledger) -> usize {
    preamble(ledger).iter().filter(|r| !r.is_empty()).count()
}

/// The device sheet as rows of text: the preamble, the header, the rows.
fn device_table(ledger: &Ledger) -> Vec<Vec<String>> {
    let header = DEVICE_COLUMNS
        .iter()
        .map(|(f, _)| f.header().to_owned())
        .collect();
    preamble(ledger)
        .into_iter()
        .chain(std::iter::once(header))
        .chain(ledger.devices.iter().map(|row| {
            DEVICE_COLUMNS
                .iter()
                .map(|(f, _)| neutralize(row.get(*f).unwrap_or("")))
                .collect()
        }))
        .collect()
}

/// The device sheet as CSV.
pub fn to_csv(ledger: &Ledger, encoding: CsvEncoding) -> Result<Vec<u8>, ExportError> {
    // Flexible: the preamble's lines are shorter than the table's.
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    // The empty line under the preamble is the spreadsheet's only: CSV
    // writes an empty record as `""`.
    for row in device_table(ledger).iter().filter(|r| !r.is_empty()) {
        writer.write_record(row).expect("writing to memory");
    }
    let text = String::from_utf8(writer.into_inner().expect("writing to memory"))
        .expect("UTF-8 in, UTF-8 out");
    match encoding {
        CsvEncoding::Utf8Bom => Ok([b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat()),
        CsvEncoding::Cp932 => encode_cp932(ledger, &text),
    }
}

fn encode_cp932(ledger: &Ledger, text: &str) -> Result<Vec<u8>, ExportError> {
    let normalized: String = text
        .chars()
        .map(|c| {
            CP932_NORMALIZATION
                .iter()
                .find(|(from, _)| *from == c)
                .map_or(c, |(_, to)| *to)
        })
        .collect();
    let mut encoder = encoding_rs::SHIFT_JIS.new_encoder();
    let mut out = vec![0u8; normalized.len() * 2 + 16];
    let (result, _, written) =
        encoder.encode_from_utf8_without_replacement(&normalized, &mut out, true);
    match result {
        encoding_rs::EncoderResult::InputEmpty => {
            out.truncate(written);
            Ok(out)
        }
        encoding_rs::EncoderResult::Unmappable(character) => Err(unmappable(ledger, character)),
        encoding_rs::EncoderResult::OutputFull => {
            unreachable!("two bytes per input byte always suffice")
        }
    }
}

/// Where the first cell holding `character` is.
fn unmappable(ledger: &Ledger, character: char) -> ExportError {
    let (row, column) = ledger
        .devices
        .iter()
        .enumerate()
        .find_map(|(r, row)| {
            DEVICE_COLUMNS
                .iter()
                .find(|(f, _)| row.get(*f).is_some_and(|v| v.contains(character)))
                .map(|(f, _)| (r + 2 + csv_preamble_lines(ledger), f.header().to_owned()))
        })
        .unwrap_or((1, Field::ManagementId.header().to_owned()));
    ExportError::Unmappable {
        row,
        column,
        character,
        code: character as u32,
    }
}

/// Excel's paper size code for A4.
const A4: u8 = 9;

/// The ledger as an XLSX workbook: the device sheet (header frozen, filters,
/// widths) and, when there are any, the cloud services; each sheet set up to
/// print as the hospital files it: A4 landscape, fit to the page width, the
/// header row on every page, page numbers in the footer.
pub fn to_xlsx(ledger: &Ledger) -> Result<Vec<u8>, ExportError> {
    to_workbook(ledger, &[], &FoundCells::new())
}

/// [`to_xlsx`] with the 2-② remote-maintenance register as a sheet of its
/// own (「リモート保守」), set up to print the same way, and on the device
/// sheet what the network shows: an empty cell filled with the found value
/// (blue), a cell the network contradicts marked (orange) with the found
/// value in its note. The 管理番号 header's note says what the colours mean.
pub fn to_workbook(
    ledger: &Ledger,
    register: &[crate::RegisterEntry],
    found: &FoundCells,
) -> Result<Vec<u8>, ExportError> {
    use rust_xlsxwriter::{Format, Note, Workbook};
    let fail = |e: rust_xlsxwriter::XlsxError| ExportError::Xlsx(e.to_string());
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold().set_background_color("#DDEBF7");
    let filled = Format::new().set_background_color("#DCEBFA");
    let differs = Format::new().set_background_color("#FCE4D0");
    // (name, rows, the header's row).
    let sheets: Vec<(&str, Vec<Vec<String>>, usize)> = {
        let mut sheets = vec![("機器台帳", device_table(ledger), preamble(ledger).len())];
        if !ledger.cloud.is_empty() {
            let headers: Vec<String> = crate::CLOUD_COLUMNS
                .iter()
                .map(|s| (*s).to_owned())
                .collect();
            let rows = ledger.cloud.iter().map(|row| {
                headers
                    .iter()
                    .map(|h| neutralize(row.get(h).map_or("", String::as_str)))
                    .collect()
            });
            sheets.push((
                "クラウドサービス",
                std::iter::once(headers.clone()).chain(rows).collect(),
                0,
            ));
        }
        if !register.is_empty() {
            sheets.push((
                crate::REGISTER_SHEET,
                crate::register::register_table(register),
                0,
            ));
        }
        sheets
    };
    for (name, table, header) in sheets {
        let is_devices = name == "機器台帳";
        let sheet = workbook.add_worksheet().set_name(name).map_err(fail)?;
        let columns = table[header].len();
        let mut widths = vec![8usize; columns];
        for (r, row) in table.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                // write_string never makes a formula; the text is neutralized
                // anyway for whoever saves it as CSV from Excel.
                let mark = (is_devices && r > header)
                    .then(|| found.get(&(r - header - 1, DEVICE_COLUMNS.get(c)?.0)))
                    .flatten();
                match mark {
                    _ if r == header => {
                        sheet
                            .write_string_with_format(r as u32, c as u16, cell, &bold)
                            .map_err(fail)?;
                        if is_devices && c == 0 && !found.is_empty() {
                            let legend = Note::new(
                                "青：台帳が空欄のため、ネットワーク上の検出値を記入\n\
                                 橙：台帳とネットワーク上の検出値が相違（セルのメモに検出値）",
                            );
                            sheet.insert_note(r as u32, 0, &legend).map_err(fail)?;
                        }
                    }
                    Some(Found::Filled(value)) => {
                        sheet
                            .write_string_with_format(
                                r as u32,
                                c as u16,
                                neutralize(value),
                                &filled,
                            )
                            .map_err(fail)?;
                        let note = Note::new("ネットワーク上の検出値（台帳は空欄）");
                        sheet.insert_note(r as u32, c as u16, &note).map_err(fail)?;
                    }
                    Some(Found::Differs(value)) => {
                        sheet
                            .write_string_with_format(r as u32, c as u16, cell, &differs)
                            .map_err(fail)?;
                        let note = Note::new(format!("ネットワーク上は「{value}」"));
                        sheet.insert_note(r as u32, c as u16, &note).map_err(fail)?;
                    }
                    None => {
                        sheet.write_string(r as u32, c as u16, cell).map_err(fail)?;
                    }
                }
                let width = cell
                    .lines()
                    .map(|l| l.chars().map(|ch| if ch.is_ascii() { 1 } else { 2 }).sum())
                    .max()
                    .unwrap_or(0);
                widths[c] = widths[c].max(width.min(60));
            }
        }
        for (c, width) in widths.iter().enumerate() {
            sheet
                .set_column_width(c as u16, *width as f64 + 2.0)
                .map_err(fail)?;
        }
        let header = header as u32;
        sheet.set_freeze_panes(header + 1, 0).map_err(fail)?;
        sheet
            .set_paper_size(A4)
            .set_landscape()
            .set_print_fit_to_pages(1, 0)
            .set_footer("&C&P / &N");
        sheet.set_repeat_rows(header, header).map_err(fail)?;
        sheet
            .autofilter(header, 0, (table.len() - 1) as u32, (columns - 1) as u16)
            .map_err(fail)?;
    }
    workbook.save_to_buffer().map_err(fail)
}
