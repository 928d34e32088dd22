//! Where a sample's fields come from: a JSON object, or a CSV row read in
//! place (no map is built per row). Both give the same checks and messages
//! in `sample.rs`.

use serde_json::{Map, Value};

/// How numbers arrive: JSON has typed numbers; CSV cells are text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cells {
    /// JSON: a number must be a JSON number (a string `"850"` is refused).
    Typed,
    /// CSV: every cell is text; numbers are parsed, empty cells are absent.
    Text,
}

/// The header row of a CSV file: its column names, and the columns in order
/// of name (the order a JSON object's fields are seen in, so that both give
/// their unknown fields in the same order).
#[derive(Debug)]
pub(crate) struct CsvHeader {
    names: Vec<String>,
    by_name: Vec<usize>,
}

impl CsvHeader {
    /// The column names, in order.
    pub(crate) fn names(&self) -> &[String] {
        &self.names
    }

    pub(crate) fn new(names: Vec<String>) -> Self {
        let mut by_name: Vec<usize> = (0..names.len()).collect();
        by_name.sort_by(|&a, &b| names[a].cmp(&names[b]));
        CsvHeader { names, by_name }
    }
}

/// The fields of one record.
#[derive(Clone, Copy)]
pub(crate) enum Fields<'a> {
    /// An object of field -> value; with `Cells::Text`, strings are cells.
    Map(&'a Map<String, Value>, Cells),
    /// A CSV row, its cells named by the header; cells are trimmed of
    /// surrounding whitespace as they are read.
    Row(&'a CsvHeader, &'a csv::StringRecord),
}

/// One field's value.
#[derive(Clone, Copy)]
pub(crate) enum Field<'a> {
    /// A JSON value, typed as given.
    Json(&'a Value),
    /// Text of a CSV cell: numbers in it are parsed.
    Cell(&'a str),
}

impl<'a> Fields<'a> {
    /// Whether values are text cells (CSV) rather than typed JSON.
    pub(crate) fn are_cells(&self) -> bool {
        matches!(self, Fields::Row(..) | Fields::Map(_, Cells::Text))
    }

    /// The field's value; `null` and empty cells are absent.
    pub(crate) fn get(&self, field: &str) -> Option<Field<'a>> {
        let found = match *self {
            Fields::Map(map, cells) => match map.get(field)? {
                Value::Null => return None,
                Value::String(s) if cells == Cells::Text => Field::Cell(s),
                v => Field::Json(v),
            },
            Fields::Row(header, row) => {
                let column = header.names.iter().position(|n| n == field)?;
                Field::Cell(row.get(column)?.trim())
            }
        };
        (!found.is_empty_cell()).then_some(found)
    }

    /// Every field with its value, in order of name, empty cells included.
    pub(crate) fn each(
        &self,
        mut f: impl FnMut(&'a str, Field<'a>) -> Result<(), String>,
    ) -> Result<(), String> {
        match *self {
            Fields::Map(map, cells) => {
                for (key, value) in map {
                    let field = match value {
                        Value::String(s) if cells == Cells::Text => Field::Cell(s),
                        v => Field::Json(v),
                    };
                    f(key, field)?;
                }
            }
            Fields::Row(header, row) => {
                for &column in &header.by_name {
                    let cell = row.get(column).unwrap_or("").trim();
                    f(&header.names[column], Field::Cell(cell))?;
                }
            }
        }
        Ok(())
    }
}

impl<'a> Field<'a> {
    /// The text of a cell or of a JSON string.
    pub(crate) fn as_str(self) -> Option<&'a str> {
        match self {
            Field::Cell(s) => Some(s),
            Field::Json(v) => v.as_str(),
        }
    }

    /// A cell with nothing in it: the field is absent.
    pub(crate) fn is_empty_cell(self) -> bool {
        matches!(self, Field::Cell(s) if s.trim().is_empty())
    }

    /// The value kept for a field outside the contract.
    pub(crate) fn to_value(self) -> Value {
        match self {
            Field::Cell(s) => Value::String(s.to_owned()),
            Field::Json(v) => v.clone(),
        }
    }

    /// The value as an error message quotes it (at most 40 characters).
    pub(crate) fn describe(self) -> String {
        let text = match self {
            Field::Cell(s) => format!("\"{s}\""),
            Field::Json(Value::String(s)) => format!("\"{s}\""),
            Field::Json(other) => other.to_string(),
        };
        if text.chars().count() > 40 {
            format!("{}…", text.chars().take(40).collect::<String>())
        } else {
            text
        }
    }
}
