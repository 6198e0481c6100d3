//! Many rows per statement: an ingest of a thousand devices is a handful of
//! statements, not thousands (each statement costs a round trip).

use sqlx::{AnyConnection, AssertSqlSafe};

use crate::Backend;

/// One bound value.
#[derive(Debug, Clone)]
pub(crate) enum Cell {
    Int(i64),
    Text(String),
    /// A text column's NULL.
    Null,
}

impl From<i64> for Cell {
    fn from(v: i64) -> Cell {
        Cell::Int(v)
    }
}

impl From<String> for Cell {
    fn from(v: String) -> Cell {
        if v.contains('\0') {
            Cell::Text(crate::storable(&v))
        } else {
            Cell::Text(v)
        }
    }
}

impl From<&str> for Cell {
    fn from(v: &str) -> Cell {
        Cell::Text(crate::storable(v))
    }
}

impl From<Option<String>> for Cell {
    fn from(v: Option<String>) -> Cell {
        v.map_or(Cell::Null, Cell::from)
    }
}

/// Rows per statement: well under both backends' parameter limits.
const ROWS_PER_STATEMENT: usize = 400;

/// `($1, $2), ($3, $4)` for `rows` rows of `width` columns on PostgreSQL;
/// `(?, ?), (?, ?)` on SQLite, whose lookup of a numbered parameter's name
/// is a linear scan (quadratic over a statement of thousands).
pub(crate) fn placeholders(backend: Backend, rows: usize, width: usize) -> String {
    let mut text = String::with_capacity(rows * width * 5);
    for row in 0..rows {
        if row > 0 {
            text.push_str(", ");
        }
        text.push('(');
        for column in 0..width {
            if column > 0 {
                text.push_str(", ");
            }
            match backend {
                Backend::Sqlite => text.push('?'),
                Backend::Postgres => {
                    text.push('$');
                    text.push_str(&(row * width + column + 1).to_string());
                }
            }
        }
        text.push(')');
    }
    text
}

/// Runs `{head} VALUES (…), (…) {tail}` over `cells` (row after row, `width`
/// each), in chunks. Returns the rows each chunk's statement returned.
pub(crate) async fn execute_rows(
    conn: &mut AnyConnection,
    backend: Backend,
    head: &str,
    tail: &str,
    width: usize,
    cells: &[Cell],
) -> Result<Vec<sqlx::any::AnyRow>, sqlx::Error> {
    debug_assert_eq!(cells.len() % width, 0);
    let mut returned = Vec::new();
    for chunk in cells.chunks(width * ROWS_PER_STATEMENT) {
        let sql = format!(
            "{head} VALUES {} {tail}",
            placeholders(backend, chunk.len() / width, width)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for cell in chunk {
            query = match cell {
                Cell::Int(v) => query.bind(*v),
                Cell::Text(s) => query.bind(s.as_str()),
                Cell::Null => query.bind(None::<String>),
            };
        }
        returned.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(returned)
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_number_row_after_row() {
        use crate::Backend::{Postgres, Sqlite};
        assert_eq!(
            super::placeholders(Postgres, 2, 3),
            "($1, $2, $3), ($4, $5, $6)"
        );
        assert_eq!(super::placeholders(Sqlite, 2, 2), "(?, ?), (?, ?)");
    }
}
