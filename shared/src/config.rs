//! Configuration, read once at cold start from the environment.

use crate::crypto::Argon2Settings;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageKind {
    Memory,
    DynamoDb,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub storage: StorageKind,
    pub table_name: String,
    /// Create the table at start if it is missing (local runs, tests).
    pub create_table: bool,
    pub argon2: Argon2Settings,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

pub const DEFAULT_TABLE_NAME: &str = "users-service";

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// `lookup` returns a variable's value; tests pass a map.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        // Inside Lambda the table is the only sensible default; anywhere
        // else the embedded store is, so a bare `cargo run` just works.
        let in_lambda = get("AWS_LAMBDA_FUNCTION_NAME").is_some();
        let storage = match get("STORAGE").as_deref() {
            None if in_lambda => StorageKind::DynamoDb,
            None => StorageKind::Memory,
            Some("memory") => StorageKind::Memory,
            Some("dynamodb") => StorageKind::DynamoDb,
            Some(other) => {
                return Err(ConfigError {
                    variable: "STORAGE",
                    problem: format!("expected memory or dynamodb, got {other:?}"),
                })
            }
        };
        let number = |variable: &'static str, default: u32| -> Result<u32, ConfigError> {
            match get(variable) {
                None => Ok(default),
                Some(value) => value.parse().map_err(|_| ConfigError {
                    variable,
                    problem: format!("expected a whole number, got {value:?}"),
                }),
            }
        };
        let defaults = Argon2Settings::default();
        Ok(Self {
            storage,
            table_name: get("TABLE_NAME").unwrap_or_else(|| DEFAULT_TABLE_NAME.to_owned()),
            create_table: matches!(get("CREATE_TABLE").as_deref(), Some("1" | "true" | "yes")),
            argon2: Argon2Settings {
                memory_kib: number("ARGON2_MEMORY_KIB", defaults.memory_kib)?,
                iterations: number("ARGON2_ITERATIONS", defaults.iterations)?,
                parallelism: number("ARGON2_PARALLELISM", defaults.parallelism)?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_depend_on_where_it_runs() {
        let local = config(&[]).unwrap();
        assert_eq!(local.storage, StorageKind::Memory);
        assert_eq!(local.table_name, DEFAULT_TABLE_NAME);
        assert_eq!(local.argon2, Argon2Settings::default());
        let lambda = config(&[("AWS_LAMBDA_FUNCTION_NAME", "signup")]).unwrap();
        assert_eq!(lambda.storage, StorageKind::DynamoDb);
    }

    #[test]
    fn explicit_values_and_errors() {
        let c = config(&[
            ("STORAGE", "dynamodb"),
            ("TABLE_NAME", "t"),
            ("CREATE_TABLE", "true"),
            ("ARGON2_MEMORY_KIB", "65536"),
        ])
        .unwrap();
        assert_eq!(
            (
                c.storage,
                c.table_name.as_str(),
                c.create_table,
                c.argon2.memory_kib
            ),
            (StorageKind::DynamoDb, "t", true, 65536)
        );
        assert_eq!(
            config(&[("STORAGE", "redis")]).unwrap_err().variable,
            "STORAGE"
        );
        assert_eq!(
            config(&[("ARGON2_ITERATIONS", "two")])
                .unwrap_err()
                .variable,
            "ARGON2_ITERATIONS"
        );
    }
}
