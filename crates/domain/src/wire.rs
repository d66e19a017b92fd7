//! The program's vocabulary on the wire: each enum defined once, with its wire names, its
//! `as_str`/`FromStr`/`Display`, serde, and (with the `openapi` feature) its OpenAPI schema.

/// Defines an enum of the program once: `wire_enum!(#[doc] Name as SchemaName { Variant => "wire", … })`.
/// The schema keeps the name the contract has always used (`SchemaName`). Wire names are the
/// variants in snake_case (serde and the schema); `as_str` spells them out, and a test holds the
/// two to the same text.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident as $schema:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = $schema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = ();
            fn from_str(s: &str) -> Result<Self, ()> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or(())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use wire_enum;

#[cfg(test)]
mod tests {
    /// Serde's names (the JSON and the schema) and `as_str` (the database and messages) agree.
    macro_rules! same_names {
        ($($name:ty),+) => {$(
            for value in <$name>::ALL {
                let json = serde_json::to_value(value).unwrap();
                assert_eq!(json, serde_json::Value::String(value.as_str().to_owned()), "{value:?}");
                assert_eq!(value.as_str().parse::<$name>(), Ok(*value));
            }
        )+};
    }

    #[test]
    fn wire_names_are_the_same_everywhere() {
        use crate::audit::ActorKind;
        use crate::coaching::{ActionItemStatus, ExtensionStatus, SessionFormat, SessionKind, SessionStatus};
        use crate::design::{ApproverRole, DesignStatus};
        use crate::design::{ItemKind, Verdict};
        use crate::engagement::Phase;
        use crate::group::{GroupItemStatus, GroupKind, GroupSessionStatus};
        use crate::program::MeasurementSource;
        use crate::review::NextStep;
        use crate::stakeholders::RaterStatus;
        use crate::stakeholders::{Relationship, ThemeKind};
        use crate::template::{Guard, LengthUnit};
        use crate::user::{Role, UserStatus};
        use crate::webhook::DeliveryStatus;
        same_names!(
            Guard,
            LengthUnit,
            ActorKind,
            DesignStatus,
            ApproverRole,
            RaterStatus,
            GroupKind,
            GroupSessionStatus,
            GroupItemStatus,
            SessionFormat,
            SessionKind,
            SessionStatus,
            ExtensionStatus,
            ActionItemStatus,
            Role,
            UserStatus,
            Phase,
            ItemKind,
            Verdict,
            MeasurementSource,
            NextStep,
            Relationship,
            ThemeKind,
            DeliveryStatus
        );
    }
}
