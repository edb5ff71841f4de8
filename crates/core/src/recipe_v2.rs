//! Recipe V2's defaults (the course's December 2025 edition, ../docs/recipe-v2.md): every
//! one is a knob of the run config; these are the course's values.

/// Prices outside `MIN_PRICE..=MAX_PRICE` are dropped (the same band as V1).
pub const MIN_PRICE: f64 = 0.5;
pub const MAX_PRICE: f64 = 999.49;
/// An item's text must have at least this many code points.
pub const MIN_CHARS: usize = 600;
/// Each description/features line is cut to this many code points.
pub const EACH_CHARS: usize = 3_000;
/// The whole text is cut to this many code points.
pub const TOTAL_CHARS: usize = 4_000;
/// Keys deleted from `details` (exact, case-sensitive), after the weight is read.
pub const REMOVED_KEYS: [&str; 5] = [
    "Part Number",
    "Best Sellers Rank",
    "Batteries Included?",
    "Batteries Required?",
    "Item model number",
];
/// The seed of both shuffles and of the weighted draw.
pub const SEED: u64 = 42;
/// Items drawn from the deduped pool.
pub const SAMPLE: usize = 820_000;
/// Weight factors of the categories the course lowered; every other category has 1.
pub const FACTORS: [(&str, f64); 2] = [("Tools_and_Home_Improvement", 0.5), ("Automotive", 0.05)];
pub const DEFAULT_FACTOR: f64 = 1.0;
/// Split sizes of the drawn sample, in this order.
pub const TRAIN: usize = 800_000;
pub const VALIDATION: usize = 10_000;
pub const TEST: usize = 10_000;
/// The published "lite" datasets are these prefixes of each split.
pub const LITE_TRAIN: usize = 20_000;
pub const LITE_VALIDATION: usize = 1_000;
pub const LITE_TEST: usize = 1_000;
/// Part 3: summaries are cut to this many tokens.
pub const CUTOFF: usize = 110;
/// Part 3: the question that opens every prompt, and what ends it.
pub const QUESTION: &str = "What does this cost to the nearest dollar?";
pub const PRICE_PREFIX: &str = "Price is $";

/// Sizes of train, validation and test as a command line gives them: `20000,1000,1000`.
pub fn parse_split_sizes(s: &str) -> Result<[usize; 3], String> {
    let sizes: Vec<usize> = s
        .split(',')
        .map(|p| {
            p.trim()
                .parse()
                .map_err(|_| format!("{p:?} is not a count"))
        })
        .collect::<Result<_, _>>()?;
    <[usize; 3]>::try_from(sizes).map_err(|v| {
        format!(
            "expected three counts TRAIN,VALIDATION,TEST (e.g. 20000,1000,1000), got {}",
            v.len()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_sizes_are_three_comma_separated_counts() {
        assert_eq!(
            parse_split_sizes("20000,1000,1000"),
            Ok([20_000, 1_000, 1_000])
        );
        assert_eq!(parse_split_sizes("1, 2 ,3"), Ok([1, 2, 3]));
        for bad in ["", "1,2", "1,2,3,4", "1,x,3", "1,-2,3"] {
            assert!(parse_split_sizes(bad).is_err(), "{bad}");
        }
    }
}
