//! The one regular expression pricer matches as Python's `re` does: the course's
//! evaluator reads a price from an answer with `re.search(r"[-+]?\d*\.\d+|\d+", value)`.
//! On a `str` pattern `\d` is any Unicode decimal digit (`str.isdecimal`), and `float()`
//! of the match reads those digits too.

use crate::unicode::Unicode;

/// The end of the run of decimal digits from byte `i`.
fn digits_end(s: &str, i: usize, py: &Unicode) -> usize {
    s[i..]
        .char_indices()
        .find(|&(_, c)| !py.is_decimal(c))
        .map_or(s.len(), |(k, _)| i + k)
}

/// `re.search(r"[-+]?\d*\.\d+|\d+", s)`: the first match, leftmost, the first
/// alternative tried first at each position (as Python's backtracking matcher does).
pub fn search_number<'a>(s: &'a str, py: &Unicode) -> Option<&'a str> {
    for (i, _) in s.char_indices() {
        // [-+]?\d*\.\d+ : shortening \d* cannot put a '.' where a digit is, so only the
        // longest run can be followed by the point.
        let after_sign = if s[i..].starts_with(['+', '-']) {
            i + 1
        } else {
            i
        };
        let point = digits_end(s, after_sign, py);
        if s[point..].starts_with('.') {
            let end = digits_end(s, point + 1, py);
            if end > point + 1 {
                return Some(&s[i..end]);
            }
        }
        // \d+
        let end = digits_end(s, i, py);
        if end > i {
            return Some(&s[i..end]);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unicode::PY312;

    /// What Python 3.12 printed for `re.search(r"[-+]?\d*\.\d+|\d+", s).group()`.
    #[test]
    fn matches_as_python_does() {
        for (s, want) in [
            ("1299.99", Some("1299.99")),
            ("about 45", Some("45")),
            ("-3", Some("3")),
            ("-.5 off", Some("-.5")),
            ("+7.25", Some("+7.25")),
            ("1e3", Some("1")),
            ("12.5.3", Some("12.5")),
            ("12.", Some("12")),
            (".5", Some(".5")),
            ("- 4", Some("4")),
            ("no idea", None),
            ("", None),
            ("price ٣٤.٥", Some("٣٤.٥")),
        ] {
            assert_eq!(search_number(s, PY312), want, "{s:?}");
        }
    }
}
