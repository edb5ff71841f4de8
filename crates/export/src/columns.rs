//! A Hub table given as a list of columns: each a name, a `datasets` dtype and how a
//! record gives its cell. Recipe V2's three tables are three such lists, and a table can
//! publish a subset of its columns (summaries from a source that lacked some).

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use pricer_core::artifact::Record;

use crate::hub::Table;
use crate::parquet_out::hf_features_metadata;

/// One column of a table of `R` records: its name and how a record gives its value.
pub enum Column<R: 'static> {
    /// A `string` column.
    Text(&'static str, for<'a> fn(&'a R) -> &'a str),
    /// A `float64` column.
    Number(&'static str, fn(&R) -> f64),
}

impl<R> Column<R> {
    pub fn name(&self) -> &'static str {
        match self {
            Column::Text(n, _) | Column::Number(n, _) => n,
        }
    }

    /// The dtype as `datasets` names it.
    fn dtype(&self) -> &'static str {
        match self {
            Column::Text(..) => "string",
            Column::Number(..) => "float64",
        }
    }
}

/// A table of some of `all`'s columns, in `all`'s order.
pub struct Columns<R: 'static> {
    columns: Vec<&'static Column<R>>,
}

impl<R> Columns<R> {
    /// Every column of `all`.
    pub fn all(all: &'static [Column<R>]) -> Self {
        Columns {
            columns: all.iter().collect(),
        }
    }

    /// The columns of `all` that `keep` says yes to.
    pub fn some(all: &'static [Column<R>], keep: impl Fn(&str) -> bool) -> Self {
        Columns {
            columns: all.iter().filter(|c| keep(c.name())).collect(),
        }
    }

    /// The names of the columns left out of `all`.
    pub fn left_out(&self, all: &'static [Column<R>]) -> Vec<&'static str> {
        all.iter()
            .filter(|c| !self.columns.iter().any(|k| k.name() == c.name()))
            .map(|c| c.name())
            .collect()
    }
}

impl<R: Record + Sync> Table for Columns<R> {
    type Record = R;

    fn features(&self) -> Vec<(&'static str, &'static str)> {
        self.columns.iter().map(|c| (c.name(), c.dtype())).collect()
    }

    fn schema(&self) -> Schema {
        let features = self.features();
        let fields = self.columns.iter().map(|c| {
            let dt = match c {
                Column::Text(..) => DataType::Utf8,
                Column::Number(..) => DataType::Float64,
            };
            Field::new(c.name(), dt, true)
        });
        let meta = [("huggingface".to_owned(), hf_features_metadata(&features))];
        Schema::new(fields.collect::<Vec<_>>()).with_metadata(meta.into_iter().collect())
    }

    /// pyarrow's `nbytes`: a string's bytes and its 4-byte offset, a float's 8 bytes.
    fn row_bytes(&self, r: &R) -> u64 {
        self.columns
            .iter()
            .map(|c| match c {
                Column::Text(_, text) => text(r).len() as u64 + 4,
                Column::Number(..) => 8,
            })
            .sum()
    }

    fn columns(&self, rows: &[R]) -> Vec<ArrayRef> {
        self.columns
            .iter()
            .map(|c| -> ArrayRef {
                match c {
                    Column::Text(_, text) => {
                        Arc::new(StringArray::from_iter_values(rows.iter().map(*text)))
                    }
                    Column::Number(_, number) => {
                        Arc::new(Float64Array::from_iter_values(rows.iter().map(*number)))
                    }
                }
            })
            .collect()
    }
}
