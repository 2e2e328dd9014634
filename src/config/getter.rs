//! Typed reads of one section's values, with registry defaults and errors that point
//! at the line that set the value.

use std::path::PathBuf;
use std::time::Duration;

use super::ConfigError;
use super::defs::{self, SettingDef};
use super::settings::FileValue;
use super::tree::{Section, Value};
use super::values;

/// Typed access to one section's keys, falling back to the registry defaults.
pub(super) type Lookup<'a> = Box<dyn Fn(&str) -> Option<&'a Value> + 'a>;

pub(super) struct Getter<'a> {
    pub(super) lookup: Lookup<'a>,
    pub(super) table: &'static [SettingDef],
    /// Prefix for error messages, e.g. `service imap/`.
    pub(super) context: String,
}

pub(super) fn invalid(
    context: &str,
    key: &str,
    value: Option<&Value>,
    reason: impl std::fmt::Display,
) -> ConfigError {
    match value {
        Some(v) => ConfigError::At {
            file: v.at.file.to_path_buf(),
            line: v.at.line,
            reason: format!("{context}{key}: {reason}"),
        },
        None => ConfigError::Invalid(format!("{context}{key}: {reason}")),
    }
}

impl<'a> Getter<'a> {
    pub(super) fn for_section(section: &'a Section, table: &'static [SettingDef]) -> Getter<'a> {
        Getter {
            lookup: Box::new(move |k| section.get(k)),
            table,
            context: format!("{}/", section.header()),
        }
    }

    pub(super) fn explicit(&self, key: &str) -> Option<&'a Value> {
        (self.lookup)(key)
    }

    pub(super) fn raw(&self, key: &str) -> Result<(String, Option<&'a Value>), ConfigError> {
        if let Some(v) = self.explicit(key) {
            return Ok((v.text.clone(), Some(v)));
        }
        match defs::find(self.table, key) {
            Some(def) => Ok((def.default.to_string(), None)),
            None => Err(ConfigError::Invalid(format!(
                "internal: no definition for {key}"
            ))),
        }
    }

    pub(super) fn parse<T, E: std::fmt::Display>(
        &self,
        key: &str,
        f: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, ConfigError> {
        let (text, value) = self.raw(key)?;
        f(&text).map_err(|e| invalid(&self.context, key, value, e))
    }

    pub(super) fn string(&self, key: &str) -> Result<String, ConfigError> {
        Ok(self.raw(key)?.0)
    }

    pub(super) fn path(&self, key: &str) -> Result<PathBuf, ConfigError> {
        Ok(PathBuf::from(self.raw(key)?.0))
    }

    pub(super) fn list(&self, key: &str) -> Result<Vec<String>, ConfigError> {
        let text = self.raw(key)?.0;
        Ok(values::split_list(&text)
            .into_iter()
            .map(str::to_string)
            .collect())
    }

    pub(super) fn boolean(&self, key: &str) -> Result<bool, ConfigError> {
        self.parse(key, values::parse_bool)
    }

    pub(super) fn u32(&self, key: &str) -> Result<u32, ConfigError> {
        self.parse(key, |t| {
            values::parse_uint(t).and_then(|n| {
                u32::try_from(n).map_err(|_| values::ValueError::Number(t.to_string()))
            })
        })
    }

    pub(super) fn size(&self, key: &str) -> Result<u64, ConfigError> {
        self.parse(key, values::parse_size)
    }

    pub(super) fn duration(&self, key: &str) -> Result<Duration, ConfigError> {
        self.parse(key, |t| values::parse_time_ms(t).map(Duration::from_millis))
    }

    pub(super) fn port(&self, key: &str) -> Result<u16, ConfigError> {
        self.parse(key, values::parse_port)
    }

    pub(super) fn octal(&self, key: &str) -> Result<u32, ConfigError> {
        self.parse(key, values::parse_octal)
    }

    pub(super) fn choice<T: Copy>(
        &self,
        key: &str,
        options: &[(&str, T)],
    ) -> Result<T, ConfigError> {
        self.parse(key, |t| {
            options
                .iter()
                .find(|(name, _)| *name == t)
                .map(|(_, v)| *v)
                .ok_or_else(|| format!("Invalid value '{t}'"))
        })
    }

    pub(super) fn file(&self, key: &str) -> Result<Option<FileValue>, ConfigError> {
        let (text, value) = self.raw(key)?;
        let path = value
            .and_then(|v| v.file.as_ref())
            .map(|f| f.resolved.clone());
        if text.is_empty() && path.is_none() {
            return Ok(None);
        }
        Ok(Some(FileValue {
            path,
            contents: text,
        }))
    }

    pub(super) fn workarounds<T: Copy>(
        &self,
        key: &str,
        set: defs::WorkaroundSet,
        map: &[(&str, T)],
    ) -> Result<Vec<T>, ConfigError> {
        let names = self.parse(key, |t| defs::workarounds(set, t))?.kept;
        Ok(names
            .iter()
            .filter_map(|n| map.iter().find(|(name, _)| name == n).map(|(_, v)| *v))
            .collect())
    }
}
