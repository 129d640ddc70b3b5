//! The UUID identifiers of the domain, declared once.

/// A UUID newtype: random ids for new records, `parse` for ids from a path
/// or a token (anything but a UUID names nothing), shown and serialised as
/// the plain UUID.
macro_rules! uuid_id {
    ($($(#[$doc:meta])* $name:ident;)*) => {
        $(
            $(#[$doc])*
            #[derive(
                Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
                serde::Serialize, serde::Deserialize,
            )]
            #[serde(transparent)]
            pub struct $name(uuid::Uuid);

            impl $name {
                pub fn new_random() -> Self {
                    Self(uuid::Uuid::new_v4())
                }

                pub fn from_uuid(id: uuid::Uuid) -> Self {
                    Self(id)
                }

                pub fn as_uuid(&self) -> uuid::Uuid {
                    self.0
                }

                pub fn parse(text: &str) -> Option<Self> {
                    uuid::Uuid::parse_str(text).ok().map(Self)
                }
            }

            impl std::fmt::Display for $name {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    self.0.fmt(f)
                }
            }
        )*
    };
}

uuid_id! {
    /// A user (username or phone account).
    UserId;
    /// A session: one refresh-token family.
    SessionId;
    /// A background task.
    TaskId;
    /// A registered push token.
    PushTokenId;
    /// A phone user's location record.
    LocationId;
}
