//! The bundled run configs, by name, and where a run's config comes from.

use std::path::{Path, PathBuf};

/// The bundled configs: (name, what it runs, TOML).
pub const BUNDLED: [(&str, &str, &str); 6] = [
    (
        "fixtures",
        "recipe v1 on the bundled fixture rows (the default)",
        include_str!("../configs/fixtures.toml"),
    ),
    (
        "classic",
        "recipe v1 as published: 400,000 / 2,000 from the eight categories on the Hub",
        include_str!("../configs/classic.toml"),
    ),
    (
        "v2",
        "recipe v2 part 1 from the Hub: items_raw_full and _lite",
        include_str!("../configs/v2.toml"),
    ),
    (
        "v2-lite",
        "recipe v2 part 1 from the Hub, only the lite prefixes",
        include_str!("../configs/v2-lite.toml"),
    ),
    (
        "v2-fixtures",
        "recipe v2 part 1 on the bundled fixture rows",
        include_str!("../configs/v2-fixtures.toml"),
    ),
    (
        "edge",
        "recipe v1 on the bundled edge-case rows (the regression check's second run)",
        include_str!("../configs/edge.toml"),
    ),
];

/// Where a run's config comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// A bundled config by name ([`BUNDLED`]).
    Bundled(&'static str),
    /// A TOML file.
    File(PathBuf),
    /// TOML text (a config built in code, e.g. from a Python dict), and what to call it
    /// in messages.
    Text { toml: String, origin: String },
}

impl Default for ConfigSource {
    fn default() -> Self {
        ConfigSource::Bundled("fixtures")
    }
}

impl ConfigSource {
    /// A command-line argument: a bundled config's name, else a path. The bundled
    /// configs' old paths (`xtask/configs/<name>.toml`, before they were carried by the
    /// runner library) still name them.
    pub fn from_arg(arg: &str) -> ConfigSource {
        let path = Path::new(arg);
        let old = path.parent().is_some_and(|d| d.ends_with("xtask/configs")) && !path.exists();
        let name = match path.extension() {
            Some(x) if x == "toml" && old => path.file_stem().and_then(|s| s.to_str()),
            _ => Some(arg),
        };
        match BUNDLED.iter().find(|(n, ..)| Some(*n) == name) {
            Some((name, ..)) => ConfigSource::Bundled(name),
            None => ConfigSource::File(PathBuf::from(arg)),
        }
    }

    /// The name a run of it is known by: the bundled name or the file's stem
    /// (`runs/<name>` is its default folder).
    pub fn name(&self) -> String {
        match self {
            ConfigSource::Bundled(n) => (*n).to_owned(),
            ConfigSource::File(p) => p
                .file_stem()
                .map_or_else(|| "run".into(), |s| s.to_string_lossy().into_owned()),
            ConfigSource::Text { .. } => "run".into(),
        }
    }

    /// The TOML text and what to call it in messages.
    pub fn text(&self) -> anyhow::Result<(String, String)> {
        use anyhow::Context;
        match self {
            ConfigSource::Bundled(name) => {
                let (_, _, toml) = BUNDLED
                    .iter()
                    .find(|(n, ..)| n == name)
                    .with_context(|| format!("no bundled config {name}"))?;
                Ok(((*toml).to_owned(), format!("the bundled config {name}")))
            }
            ConfigSource::File(p) => {
                let text = std::fs::read_to_string(p).with_context(|| {
                    format!(
                        "{}: cannot read config (the bundled ones, by name: {})",
                        p.display(),
                        names().join(", ")
                    )
                })?;
                Ok((text, p.display().to_string()))
            }
            ConfigSource::Text { toml, origin } => Ok((toml.clone(), origin.clone())),
        }
    }
}

/// The bundled configs' names.
pub fn names() -> Vec<&'static str> {
    BUNDLED.iter().map(|(n, ..)| *n).collect()
}

/// `runs/<name>`: each config's own default run folder, so that runs of two configs
/// never share a folder, where each would replace the other's stages.
pub fn default_out(source: &ConfigSource) -> PathBuf {
    Path::new("runs").join(source.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths_are_told_apart_and_each_has_its_own_folder() {
        assert_eq!(
            ConfigSource::from_arg("classic"),
            ConfigSource::Bundled("classic")
        );
        assert_eq!(
            ConfigSource::from_arg("classic.toml"),
            ConfigSource::File("classic.toml".into())
        );
        assert_eq!(
            default_out(&ConfigSource::default()),
            Path::new("runs/fixtures")
        );
        let v2 = ConfigSource::File("/home/me/my.v2.toml".into());
        assert_eq!(default_out(&v2), Path::new("runs/my.v2"));
        assert_eq!(
            ConfigSource::from_arg("xtask/configs/classic.toml"),
            ConfigSource::Bundled("classic")
        );
        let gone = ConfigSource::File("no/such.toml".into());
        let e = gone.text().unwrap_err().to_string();
        assert!(
            e.contains("(the bundled ones, by name: fixtures, classic"),
            "{e}"
        );
    }
}
