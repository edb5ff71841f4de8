//! How the user sets a stage's knobs, so that a message names a knob the way the user
//! set it: `[split] take_available = true` to someone with a run config,
//! `--take-available` to someone running `pricer-split`.

/// Where a stage's knobs come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Knobs {
    /// A run config (`cargo xtask pipeline`, `pricer run`): `[section] key`.
    #[default]
    Config,
    /// A stage binary's command line: `--key` (underscores as dashes).
    Flags,
}

impl Knobs {
    /// The knob `key` of `section`: `[split] train` or `--train`.
    pub fn name(self, section: &str, key: &str) -> String {
        match self {
            Knobs::Config => format!("[{section}] {key}"),
            Knobs::Flags => format!("--{}", key.replace('_', "-")),
        }
    }

    /// A switch turned on: `[split] take_available = true` or `--take-available`.
    pub fn on(self, section: &str, key: &str) -> String {
        match self {
            Knobs::Config => format!("[{section}] {key} = true"),
            Knobs::Flags => self.name(section, key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knobs_are_named_as_the_user_sets_them() {
        assert_eq!(Knobs::Config.name("curate", "sample"), "[curate] sample");
        assert_eq!(
            Knobs::Flags.name("summarize", "max_cost_usd"),
            "--max-cost-usd"
        );
        assert_eq!(
            Knobs::Config.on("split", "take_available"),
            "[split] take_available = true"
        );
        assert_eq!(
            Knobs::Flags.on("split", "take_available"),
            "--take-available"
        );
    }
}
