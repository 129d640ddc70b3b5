//! The pages and files as served: fingerprinted names, rewritten
//! references, each body compressed once.

use sha2::{Digest, Sha256};
use shared::http::compress::Precompressed;

const JS: &str = "application/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// `(file name, content type, content)` of every file the pages load, as
/// written in `assets/`: they refer to one another by these names.
pub const SOURCES: &[(&str, &str, &str)] = &[
    ("app.css", CSS, include_str!("../assets/app.css")),
    ("app.js", JS, include_str!("../assets/app.js")),
    ("api.js", JS, include_str!("../assets/api.js")),
    ("forms.js", JS, include_str!("../assets/forms.js")),
    ("signup.js", JS, include_str!("../assets/signup.js")),
    ("login.js", JS, include_str!("../assets/login.js")),
    ("account.js", JS, include_str!("../assets/account.js")),
    ("devices.js", JS, include_str!("../assets/devices.js")),
    ("avatar.js", JS, include_str!("../assets/avatar.js")),
    ("credits.js", JS, include_str!("../assets/credits.js")),
    ("links.js", JS, include_str!("../assets/links.js")),
];

/// `(page, title)` of every page under `/ui/` (`/ui` itself is `login`).
pub const PAGES: &[(&str, &str)] = &[
    ("signup", "Create an account"),
    ("login", "Sign in"),
    ("account", "Your account"),
    ("confirm-email", "Confirm your email address"),
    ("reset-password", "Reset your password"),
];

const SHELL: &str = include_str!("../assets/page.html");

#[derive(Debug)]
pub struct Asset {
    /// The fingerprinted name, e.g. `app.3f9c0a1b2d.js`.
    pub name: String,
    pub content_type: &'static str,
    pub body: Precompressed,
}

#[derive(Debug)]
pub struct Site {
    pages: Vec<(&'static str, Precompressed)>,
    assets: Vec<Asset>,
}

impl Site {
    pub fn new() -> Self {
        let version = fingerprint();
        let fingerprinted = |name: &str| match name.rsplit_once('.') {
            Some((stem, extension)) => format!("{stem}.{version}.{extension}"),
            None => format!("{name}.{version}"),
        };
        // Every reference is `./name` (between modules) or `assets/name`
        // (from the pages), quoted: nothing else in the files looks so.
        let rewrite = |text: &str| {
            SOURCES.iter().fold(text.to_owned(), |text, (name, ..)| {
                let new = fingerprinted(name);
                text.replace(&format!("\"./{name}\""), &format!("\"./{new}\""))
                    .replace(&format!("assets/{name}\""), &format!("assets/{new}\""))
            })
        };
        let assets = SOURCES
            .iter()
            .map(|(name, content_type, content)| Asset {
                name: fingerprinted(name),
                content_type,
                body: Precompressed::new(rewrite(content).into_bytes()),
            })
            .collect();
        let shell = rewrite(SHELL);
        let pages = PAGES
            .iter()
            .map(|(page, title)| {
                let html = shell.replace("{{page}}", page).replace("{{title}}", title);
                (*page, Precompressed::new(html.into_bytes()))
            })
            .collect();
        Self { pages, assets }
    }

    pub fn page(&self, name: &str) -> Option<&Precompressed> {
        self.pages
            .iter()
            .find(|(page, _)| *page == name)
            .map(|(_, body)| body)
    }

    pub fn asset(&self, name: &str) -> Option<&Asset> {
        self.assets.iter().find(|asset| asset.name == name)
    }

    pub fn assets(&self) -> &[Asset] {
        &self.assets
    }
}

impl Default for Site {
    fn default() -> Self {
        Self::new()
    }
}

/// Ten hex digits of the SHA-256 of every file and the page shell: any
/// change renames every file, which costs a returning browser one download
/// of 20 KB and keeps the rewriting above a single pass.
fn fingerprint() -> String {
    let mut hash = Sha256::new();
    for (name, _, content) in SOURCES {
        hash.update(name.as_bytes());
        hash.update([0]);
        hash.update(content.as_bytes());
        hash.update([0]);
    }
    hash.update(SHELL.as_bytes());
    hash.finalize()
        .iter()
        .take(5)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_is_to_a_served_name() {
        let site = Site::new();
        let names: Vec<&str> = site.assets().iter().map(|a| a.name.as_str()).collect();
        for (name, ..) in SOURCES {
            assert!(!names.contains(name), "{name} is served unfingerprinted");
        }
        let texts = site.assets().iter().map(|a| a.body.plain()).chain(
            PAGES
                .iter()
                .map(|(page, _)| site.page(page).unwrap().plain()),
        );
        for text in texts {
            let text = String::from_utf8(text.to_vec()).unwrap();
            for (name, ..) in SOURCES {
                assert!(!text.contains(&format!("\"./{name}\"")), "{name} left in");
                assert!(
                    !text.contains(&format!("assets/{name}\"")),
                    "{name} left in"
                );
            }
            assert!(!text.contains("{{"), "a placeholder is left");
        }
    }

    #[test]
    fn pages_run_no_inline_script_or_style() {
        let shell = SHELL.to_ascii_lowercase();
        assert!(!shell.contains("<script>") && !shell.contains("<style"));
        assert!(!shell.contains(" style="));
        // No event-handler attribute (` onclick=`…).
        let handler = shell.split(" on").skip(1).any(|rest| {
            let name: String = rest.chars().take_while(char::is_ascii_alphabetic).collect();
            rest[name.len()..].starts_with('=')
        });
        assert!(!handler, "an inline event handler");
        assert!(!shell.contains("http://") && !shell.contains("https://"));
    }
}
