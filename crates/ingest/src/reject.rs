//! Why a row was not kept. Codes are stable: manifests, rejects files and regression
//! expectations use them.

/// Reject reasons, in the order the recipe's rules meet them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// The line is not UTF-8 (Python could not have decoded the file).
    InvalidUtf8,
    /// The line is longer than the reader accepts ([`crate::lines::MAX_LINE_BYTES`]).
    LineTooLong,
    /// `json.loads` raised: the Hub loader skipped the line.
    InvalidJson,
    /// Valid JSON but not an object.
    NotObject,
    /// No `price` key, or `null` (`str(None)` is `"None"`).
    PriceMissing,
    /// `price` is the empty string.
    PriceEmpty,
    /// `float(str(price))` raises.
    PriceNotNumber,
    /// Outside 0.5..=999.49, or NaN.
    PriceOutOfRange,
    /// `description` or `features` is something `"\n".join` cannot take.
    BadFieldType,
    /// `contents` has 300 code points or fewer.
    TooShort,
    /// No `title` key.
    TitleMissing,
    /// `title` is not a string.
    TitleNotString,
    /// Text holds a lone surrogate, which the tokenizer cannot take.
    Unencodable,
    /// V2: `float(price)` raises (`"None"`, `"$12"`, a list, ...).
    PriceUnparsable,
    /// V2: no `details` key (`json.loads(None)` raises in the course's code).
    DetailsMissing,
    /// V2: `details` is JSON but not an object (`.get` on it raises).
    DetailsNotObject,
    /// V2: `Item Weight` is truthy but not `"<float> <unit>..."` as the weight rule needs.
    WeightUnparsable,
    /// The kept record would exceed the artifact's record-size limit (a title or text of
    /// hundreds of megabytes).
    RecordTooLarge,
}

impl Reason {
    pub fn code(self) -> &'static str {
        match self {
            Reason::InvalidUtf8 => "invalid_utf8",
            Reason::LineTooLong => "line_too_long",
            Reason::InvalidJson => "invalid_json",
            Reason::NotObject => "not_object",
            Reason::PriceMissing => "price_missing",
            Reason::PriceEmpty => "price_empty",
            Reason::PriceNotNumber => "price_not_number",
            Reason::PriceOutOfRange => "price_out_of_range",
            Reason::BadFieldType => "bad_field_type",
            Reason::TooShort => "too_short",
            Reason::TitleMissing => "title_missing",
            Reason::TitleNotString => "title_not_string",
            Reason::Unencodable => "unencodable_text",
            Reason::PriceUnparsable => "price_unparsable",
            Reason::DetailsMissing => "details_missing",
            Reason::DetailsNotObject => "details_not_object",
            Reason::WeightUnparsable => "weight_unparsable",
            Reason::RecordTooLarge => "record_too_large",
        }
    }
}

/// A rejected row: the reason and a short human detail.
#[derive(Debug, Clone, PartialEq)]
pub struct Reject {
    pub reason: Reason,
    pub detail: String,
}

impl Reject {
    pub fn new(reason: Reason, detail: impl Into<String>) -> Self {
        Reject {
            reason,
            detail: detail.into(),
        }
    }
}
