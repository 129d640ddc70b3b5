//! Notification preferences: per category of notice, which channels carry
//! it. Security notices always go by email (the one channel every account
//! with an address has): that switch cannot be turned off.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Push,
    Sms,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Self::Email, Self::Push, Self::Sms];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Push => "push",
            Self::Sms => "sms",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Password changes, new devices, stolen tokens.
    Security,
    /// Welcome and account changes.
    Account,
    Marketing,
    Reminders,
}

impl Category {
    pub const ALL: [Category; 4] = [
        Self::Security,
        Self::Account,
        Self::Marketing,
        Self::Reminders,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Security => "security",
            Self::Account => "account",
            Self::Marketing => "marketing",
            Self::Reminders => "reminders",
        }
    }
}

/// Every category with every channel: on or off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Preferences(BTreeMap<Category, BTreeMap<Channel, bool>>);

impl Default for Preferences {
    /// Security and account notices by email and push; nothing else until
    /// the user opts in.
    fn default() -> Self {
        let row = |email, push, sms| {
            BTreeMap::from([
                (Channel::Email, email),
                (Channel::Push, push),
                (Channel::Sms, sms),
            ])
        };
        Self(BTreeMap::from([
            (Category::Security, row(true, true, false)),
            (Category::Account, row(true, true, false)),
            (Category::Marketing, row(false, false, false)),
            (Category::Reminders, row(false, false, false)),
        ]))
    }
}

impl Preferences {
    pub fn allows(&self, category: Category, channel: Channel) -> bool {
        self.0
            .get(&category)
            .and_then(|row| row.get(&channel))
            .copied()
            .unwrap_or(false)
    }

    /// These preferences with `switches` applied: categories and channels
    /// left out keep their value. (The request's types keep security
    /// notices by email: see `requests::preferences`.)
    pub fn apply<'a>(
        &self,
        switches: impl IntoIterator<Item = (Category, &'a BTreeMap<Channel, bool>)>,
    ) -> Self {
        let mut updated = self.clone();
        for (category, row) in switches {
            updated.0.entry(category).or_default().extend(row);
        }
        updated
    }
}
