//! Reading tables several columns at a time, as net-snmp's `snmptable` does:
//! one GETBULK carries a cursor per column and brings back some rows of each,
//! so an 8-column table costs one request per few rows instead of one walk per
//! column. [`TableWalk::absorb`] — what an answer means — is pure and tested on
//! data, including agents that answer out of order or never stop.

use async_snmp::transport::Transport;
use async_snmp::{Client, Error, ErrorStatus, Oid, Value, VarBind};

/// Rows read per column at most; a larger table is cut and said so.
pub const MAX_ROWS: usize = 10_000;

/// Values asked for in one GETBULK: small enough for a fragile device's
/// buffers, large enough to bring a small table in one answer.
pub(crate) const VARBINDS_PER_REQUEST: u32 = 60;
const MAX_REPETITIONS: u32 = 30;

/// One column being read.
#[derive(Debug)]
struct ColumnWalk {
    base: Oid,
    last: Oid,
    rows: Vec<(Vec<u32>, Value)>,
    open: bool,
}

/// The state of a walk over some columns of one table.
#[derive(Debug)]
pub(crate) struct TableWalk {
    columns: Vec<ColumnWalk>,
}

impl TableWalk {
    pub(crate) fn new(bases: &[&[u32]]) -> TableWalk {
        TableWalk {
            columns: bases
                .iter()
                .map(|base| ColumnWalk {
                    base: Oid::from_slice(base),
                    last: Oid::from_slice(base),
                    rows: Vec::new(),
                    open: true,
                })
                .collect(),
        }
    }

    /// Columns still being read.
    pub(crate) fn open(&self) -> Vec<usize> {
        (0..self.columns.len())
            .filter(|&c| self.columns[c].open)
            .collect()
    }

    pub(crate) fn cursors(&self, batch: &[usize]) -> Vec<Oid> {
        batch
            .iter()
            .map(|&c| self.columns[c].last.clone())
            .collect()
    }

    pub(crate) fn close(&mut self, batch: &[usize]) {
        for &c in batch {
            self.columns[c].open = false;
        }
    }

    /// Takes the answer to a GETBULK (or GETNEXT) on the cursors of `batch`:
    /// value `k` belongs to column `batch[k % batch.len()]` (RFC 3416 orders a
    /// GETBULK answer row by row). A column ends at the first value outside
    /// it or at endOfMibView; an OID that does not increase ends it too, with
    /// a note, because an agent that answers so would loop forever. An answer
    /// that moves no column on ends the walk: it would be asked again forever.
    pub(crate) fn absorb(
        &mut self,
        batch: &[usize],
        varbinds: &[VarBind],
        labels: &[&str],
        notes: &mut Vec<String>,
    ) {
        let mut moved = false;
        if !batch.is_empty() {
            for (k, varbind) in varbinds.iter().enumerate() {
                let c = batch[k % batch.len()];
                let column = &mut self.columns[c];
                if !column.open {
                    continue;
                }
                moved = true;
                let ended = matches!(
                    varbind.value,
                    Value::EndOfMibView | Value::NoSuchObject | Value::NoSuchInstance
                );
                let Some(index) = varbind.oid.strip_prefix(&column.base).filter(|_| !ended) else {
                    column.open = false;
                    continue;
                };
                if varbind.oid <= column.last {
                    notes.push(format!(
                        "{}: the device returned {} after {} (not increasing); stopped reading there",
                        labels[c], varbind.oid, column.last
                    ));
                    column.open = false;
                    continue;
                }
                if column.rows.len() >= MAX_ROWS {
                    notes.push(format!("{}: cut at {MAX_ROWS} rows", labels[c]));
                    column.open = false;
                    continue;
                }
                column
                    .rows
                    .push((index.arcs().to_vec(), varbind.value.clone()));
                column.last = varbind.oid.clone();
            }
        }
        if !moved {
            self.close(batch);
        }
    }

    /// Each column's rows: (index arcs after the column OID, value).
    pub(crate) fn into_rows(self) -> Vec<Vec<(Vec<u32>, Value)>> {
        self.columns.into_iter().map(|c| c.rows).collect()
    }
}

fn status(error: &Error) -> Option<ErrorStatus> {
    match error {
        Error::Exchange { source, .. } => status(source),
        Error::SharedOperation { source } => status(source),
        Error::Snmp { status, .. } => Some(*status),
        _ => None,
    }
}

/// Whether an error may mean "ask for less".
fn too_big(error: &Error, v1: bool) -> bool {
    match status(error) {
        Some(ErrorStatus::TooBig) => true,
        Some(ErrorStatus::GenErr) => !v1,
        _ => false,
    }
}

/// Reads the columns `bases` (labelled for notes) of one table. SNMPv1 has no
/// GETBULK: one GETNEXT carries a cursor per column and brings one row
/// (a 700-package software table is 700 requests, not 2,100); a column
/// that runs past the end of the agent's MIB fails the whole request with
/// noSuchName at its position, and is closed.
///
/// An answer too big for the device halves `budget` (values per request, kept
/// for the host's next tables), then the columns per request. Devices say so
/// with `tooBig`, or — net-snmp over SNMPv3, when the answer would exceed the
/// 1472-byte message size we advertise to avoid IP fragments — with `genErr`,
/// so a bulk `genErr` is retried smaller too, a bounded number of times. A
/// failed table keeps what it got and adds a note.
pub(crate) async fn walk_table<T: Transport + 'static>(
    client: &Client<T>,
    v1: bool,
    budget: &mut u32,
    bases: &[&[u32]],
    labels: &[&str],
    notes: &mut Vec<String>,
) -> Vec<Vec<(Vec<u32>, Value)>> {
    let mut table = TableWalk::new(bases);
    let mut width = bases.len();
    loop {
        let open = table.open();
        if open.is_empty() {
            break;
        }
        let batch = &open[..width.min(open.len())];
        let cursors = table.cursors(batch);
        let repetitions = (*budget / batch.len() as u32).clamp(1, MAX_REPETITIONS);
        let answer = if v1 {
            client.get_next_many(&cursors).await.map(|r| r.varbinds)
        } else {
            client.get_bulk(&cursors, 0, repetitions).await
        };
        match answer {
            Ok(varbinds) => table.absorb(batch, &varbinds, labels, notes),
            // SNMPv1 says "past the end" with noSuchName, at the column's
            // position; without one, all of them.
            Err(e) if v1 && status(&e) == Some(ErrorStatus::NoSuchName) => {
                match crate::system::missing_at(&e).and_then(|at| batch.get(at)) {
                    Some(&column) => table.close(&[column]),
                    None => table.close(batch),
                }
            }
            Err(e) if too_big(&e, v1) && repetitions > 1 => *budget = (*budget / 2).max(1),
            Err(e) if too_big(&e, v1) && width > 1 => width /= 2,
            Err(e) => {
                notes.push(format!("{}: {e}", labels[batch[0]]));
                // The device stopped answering this table: do not ask the
                // other columns one by one into the same silence.
                table.close(&open);
            }
        }
    }
    table.into_rows()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const IF_DESCR: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1, 2];
    const IF_TYPE: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1, 3];

    fn vb(base: &[u32], index: u32, value: Value) -> VarBind {
        let mut arcs = base.to_vec();
        arcs.push(index);
        VarBind::new(Oid::from_slice(&arcs), value)
    }

    fn walk() -> TableWalk {
        TableWalk::new(&[IF_DESCR, IF_TYPE])
    }

    #[test]
    fn a_bulk_answer_is_split_row_by_row_and_ends_at_the_next_column() {
        let mut table = walk();
        let mut notes = Vec::new();
        let answer = [
            vb(IF_DESCR, 1, Value::OctetString("lo".into())),
            vb(IF_TYPE, 1, Value::Integer(24)),
            vb(IF_DESCR, 2, Value::OctetString("eth0".into())),
            vb(IF_TYPE, 2, Value::Integer(6)),
            // Past the ends: ifDescr runs into ifType, ifType into ifMtu.
            vb(IF_TYPE, 1, Value::Integer(24)),
            vb(&[1, 3, 6, 1, 2, 1, 2, 2, 1, 4], 1, Value::Integer(65536)),
        ];
        table.absorb(&[0, 1], &answer, &["ifDescr", "ifType"], &mut notes);
        assert!(table.open().is_empty());
        assert!(notes.is_empty());
        let rows = table.into_rows();
        assert_eq!(rows[0].len(), 2);
        assert_eq!(rows[0][1], (vec![2], Value::OctetString("eth0".into())));
        assert_eq!(rows[1][0], (vec![1], Value::Integer(24)));
    }

    #[test]
    fn a_short_answer_leaves_columns_open_and_end_of_mib_closes_them() {
        let mut table = walk();
        let mut notes = Vec::new();
        let labels = ["ifDescr", "ifType"];
        table.absorb(
            &[0, 1],
            &[vb(IF_DESCR, 1, Value::OctetString("lo".into()))],
            &labels,
            &mut notes,
        );
        assert_eq!(table.open(), vec![0, 1]);
        assert_eq!(
            table.cursors(&[0])[0],
            Oid::from_slice(&[1, 3, 6, 1, 2, 1, 2, 2, 1, 2, 1])
        );
        let end = VarBind::new(Oid::from_slice(IF_TYPE), Value::EndOfMibView);
        table.absorb(&[1], &[end], &labels, &mut notes);
        assert_eq!(table.open(), vec![0]);
        table.absorb(&[0], &[], &labels, &mut notes);
        assert!(table.open().is_empty(), "an empty answer must end the walk");
    }

    #[test]
    fn a_looping_agent_is_stopped_with_a_note() {
        let mut table = walk();
        let mut notes = Vec::new();
        let same = vb(IF_DESCR, 5, Value::Integer(1));
        table.absorb(
            &[0],
            &[same.clone(), same],
            &["ifDescr", "ifType"],
            &mut notes,
        );
        assert_eq!(table.open(), vec![1]);
        assert!(notes[0].contains("not increasing"), "{notes:?}");
        assert_eq!(table.into_rows()[0].len(), 1);
    }

    #[test]
    fn huge_tables_are_cut_with_a_note() {
        let mut table = TableWalk::new(&[IF_DESCR]);
        let mut notes = Vec::new();
        let answer: Vec<VarBind> = (1..=MAX_ROWS as u32 + 5)
            .map(|i| vb(IF_DESCR, i, Value::Integer(1)))
            .collect();
        table.absorb(&[0], &answer, &["ifDescr"], &mut notes);
        assert!(table.open().is_empty());
        assert_eq!(notes, vec![format!("ifDescr: cut at {MAX_ROWS} rows")]);
        assert_eq!(table.into_rows()[0].len(), MAX_ROWS);
    }

    proptest! {
        /// Whatever an agent answers, each column keeps only OIDs under it,
        /// strictly increasing, and a walk fed answers ends within a bounded
        /// number of rounds.
        #[test]
        fn rows_stay_in_their_column_and_strictly_increase(
            answers in proptest::collection::vec(
                proptest::collection::vec((0u32..3, proptest::collection::vec(0u32..4, 0..3)), 0..8),
                1..20,
            )
        ) {
            let bases: [&[u32]; 2] = [IF_DESCR, IF_TYPE];
            let mut table = TableWalk::new(&bases);
            let mut notes = Vec::new();
            let mut rounds = 0;
            for answer in &answers {
                let open = table.open();
                if open.is_empty() { break; }
                rounds += 1;
                let varbinds: Vec<VarBind> = answer
                    .iter()
                    .map(|(column, tail)| {
                        // Column 2 is "the next column": outside both.
                        let mut arcs = vec![1, 3, 6, 1, 2, 1, 2, 2, 1, 2 + column];
                        arcs.extend(tail);
                        VarBind::new(Oid::from_slice(&arcs), Value::Integer(1))
                    })
                    .collect();
                table.absorb(&open, &varbinds, &["a", "b"], &mut notes);
            }
            prop_assert!(rounds <= answers.len());
            for (rows, base) in table.into_rows().iter().zip(bases) {
                let oids: Vec<Oid> = rows
                    .iter()
                    .map(|(index, _)| Oid::from_slice(&[base, index.as_slice()].concat()))
                    .collect();
                prop_assert!(oids.windows(2).all(|w| w[0] < w[1]));
                prop_assert!(rows.iter().all(|(index, _)| !index.is_empty()));
            }
        }

        /// OIDs order as SNMP walks need: arc by arc, a prefix first.
        #[test]
        fn oid_order_is_lexicographic_by_arc(
            a in proptest::collection::vec(0u32..5, 0..6),
            b in proptest::collection::vec(0u32..5, 0..6),
        ) {
            let (oa, ob) = (Oid::from_slice(&a), Oid::from_slice(&b));
            prop_assert_eq!(oa.cmp(&ob), a.cmp(&b));
            if b.starts_with(&a) {
                prop_assert_eq!(ob.strip_prefix(&oa).map(|t| t.arcs().to_vec()), Some(b[a.len()..].to_vec()));
            }
        }
    }
}
