//! The recipe's constants ("pricer v1", ../docs/recipe.md), named as the recipe names them,
//! and which recipe a run follows. Recipe V2's defaults are in `recipe_v2`.

/// The recipes pricer reproduces.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Recipe {
    /// The 2024 edition: 400,000 / 2,000 prompts for Llama 3.1 (SPEC.md).
    #[default]
    V1,
    /// The course's December 2025 edition: dedupe, price-weighted draw, LLM summaries,
    /// prompt/completion pairs (SPEC-V2.md).
    V2,
}

impl std::str::FromStr for Recipe {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "v1" => Ok(Recipe::V1),
            "v2" => Ok(Recipe::V2),
            _ => Err(format!("{s:?}: the recipes are v1 and v2")),
        }
    }
}

/// Prices outside `MIN_PRICE..=MAX_PRICE` are dropped (rule 1).
pub const MIN_PRICE: f64 = 0.5;
pub const MAX_PRICE: f64 = 999.49;
/// `contents` must be longer than this many code points (rule 3).
pub const MIN_CHARS: usize = 300;
/// `contents` is cut to this many code points (rule 3): 160 tokens x 7 characters.
pub const CEILING_CHARS: usize = MAX_TOKENS * 7;
/// A text must encode to more than this many tokens (rule 5).
pub const MIN_TOKENS: usize = 150;
/// The prompt keeps the first this many tokens of the text (rule 5).
pub const MAX_TOKENS: usize = 160;
/// The question that opens every prompt (rule 6).
pub const QUESTION: &str = "How much does this cost to the nearest dollar?";
/// What precedes the price in a prompt; the test form ends right after it (rules 6, 7).
pub const PRICE_PREFIX: &str = "Price is $";
/// Substrings deleted from `details`, in this order (rule 2).
pub const DETAIL_REMOVALS: [&str; 13] = [
    "\"Batteries Included?\": \"No\"",
    "\"Batteries Included?\": \"Yes\"",
    "\"Batteries Required?\": \"No\"",
    "\"Batteries Required?\": \"Yes\"",
    "By Manufacturer",
    "Item",
    "Date First",
    "Package",
    ":",
    "Number of",
    "Best Sellers",
    "Number",
    "Product ",
];
/// Words of at least this many code points that contain a digit are dropped by scrub.
pub const SCRUB_LONG_WORD: usize = 7;

/// The classic run's eight categories, in the order the recipe read them.
pub const CLASSIC_CATEGORIES: [&str; 8] = [
    "Automotive",
    "Electronics",
    "Office_Products",
    "Tools_and_Home_Improvement",
    "Cell_Phones_and_Accessories",
    "Toys_and_Games",
    "Appliances",
    "Musical_Instruments",
];

/// Sampling defaults (SPEC section 3).
pub const SAMPLE_SEED: u32 = 42;
pub const SAMPLE_CAP: usize = 1200;
pub const SAMPLE_KEEP_FROM: u32 = 240;
pub const SAMPLE_WEIGHT_AUTOMOTIVE: f64 = 1.0;
pub const SAMPLE_WEIGHT_DEFAULT: f64 = 5.0;
/// Split defaults (SPEC section 4).
pub const SPLIT_SEED: u32 = 42;
pub const SPLIT_TRAIN: usize = 400_000;
pub const SPLIT_TEST: usize = 2_000;

/// Every constant above, as JSON: part of every stage fingerprint, so that a changed
/// constant makes cached stage outputs stale even before the code version is bumped.
pub fn constants_json() -> String {
    format!(
        "{{\"price\":[{MIN_PRICE},{MAX_PRICE}],\"chars\":[{MIN_CHARS},{CEILING_CHARS}],\"tokens\":[{MIN_TOKENS},{MAX_TOKENS}],\
         \"question\":{QUESTION:?},\"prefix\":{PRICE_PREFIX:?},\"removals\":{DETAIL_REMOVALS:?},\"long_word\":{SCRUB_LONG_WORD}}}"
    )
}

/// The training prompt for a decoded text and its price (rule 6).
pub fn prompt(decoded: &str, price: f64) -> String {
    let rounded = pricer_pycompat::round::round_half_even(price);
    format!("{QUESTION}\n\n{decoded}\n\n{PRICE_PREFIX}{rounded:.0}.00")
}

/// The test form of a prompt: everything from the first `Price is $` on becomes
/// `Price is $` (rule 7).
pub fn test_prompt(prompt: &str) -> String {
    match prompt.find(PRICE_PREFIX) {
        Some(at) => format!("{}{PRICE_PREFIX}", &prompt[..at]),
        None => format!("{prompt}{PRICE_PREFIX}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_rounds_half_to_even() {
        assert!(prompt("x", 2.5).ends_with("Price is $2.00"));
        assert!(prompt("x", 3.5).ends_with("Price is $4.00"));
        assert!(prompt("x", 0.5).ends_with("Price is $0.00"));
        assert!(prompt("x", 999.49).ends_with("Price is $999.00"));
        assert_eq!(
            prompt("body", 12.99),
            format!("{QUESTION}\n\nbody\n\nPrice is $13.00")
        );
    }

    #[test]
    fn test_prompt_cuts_at_first_prefix() {
        let p = prompt("a Price is $5 b", 9.0);
        assert_eq!(test_prompt(&p), format!("{QUESTION}\n\na Price is $"));
        assert_eq!(
            test_prompt(&prompt("x", 9.0)),
            format!("{QUESTION}\n\nx\n\nPrice is $")
        );
    }
}
