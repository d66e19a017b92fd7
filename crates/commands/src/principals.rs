//! Who a verified token's subject is now: a deactivated user or a revoked API client may no
//! longer act, and an identity provider's subject finds its user by external id, else by a
//! verified address (not while that account is on hold after someone else re-addressed it).

use std::collections::BTreeSet;

use keel_domain::UserId;
use keel_domain::policy::{Principal, Scope};
use keel_domain::user::UserStatus;
use keel_persistence::repo::{api_clients, users};
use keel_persistence::{DbConnection, StoreError};

/// What a valid token says about its bearer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    User(UserId),
    ApiClient { client_id: String, scopes: BTreeSet<Scope> },
    External { subject: String, verified_email: Option<String> },
}

/// The principal acting with `subject` now, or why it may not act (a message safe to show).
pub fn resolve(conn: &mut DbConnection, subject: Subject) -> Result<Result<Principal, String>, StoreError> {
    let refused = |reason: &str| Ok(Err(reason.to_owned()));
    let user = match subject {
        Subject::User(id) => users::find(conn, id)?,
        Subject::External { subject, verified_email } => {
            let mut matches = users::find_by_external_id(conn, &subject)?;
            if matches.len() > 1 {
                return refused("the identity provider's subject matches several users");
            }
            let found = match (matches.pop(), verified_email) {
                (Some(user), _) => Some(user),
                (None, Some(email)) => users::find_by_email(conn, &email)?,
                (None, None) => None,
            };
            if found.as_ref().is_some_and(|u| u.held(keel_domain::time::now())) {
                return refused("sign-in to this account is on hold after someone else changed its address");
            }
            found
        }
        Subject::ApiClient { client_id, scopes } => {
            return Ok(match api_clients::find_by_client_id(conn, &client_id)? {
                Some(client) if client.is_active() => Ok(Principal::ApiClient {
                    // Scopes removed from the client since the token was issued no longer apply.
                    scopes: scopes.intersection(&client.scopes).copied().collect(),
                    organization_id: client.organization_id,
                    id: client.client_id,
                }),
                _ => Err("the API client is unknown or revoked".to_owned()),
            });
        }
    };
    match user {
        None => refused("no user matches the token"),
        Some(user) if user.status != UserStatus::Active => refused("the user is deactivated"),
        Some(user) => Ok(Ok(Principal::for_user(&user))),
    }
}
