//! From a verified token to the principal acting now, checked against the database on every
//! request: a deactivated user or a revoked API client is refused at once.

use keel_domain::policy::Principal;
use keel_domain::user::UserStatus;
use keel_persistence::repo::{api_clients, users};
use keel_persistence::{DbConnection, StoreError};

use crate::auth::{AuthError, Verified};

fn refused(reason: &str) -> AuthError {
    AuthError::Invalid(reason.to_owned())
}

pub fn resolve(conn: &mut DbConnection, verified: Verified) -> Result<Result<Principal, AuthError>, StoreError> {
    let user = match verified {
        Verified::User { id } => users::find(conn, id)?,
        Verified::External { subject, verified_email } => {
            // By external_id; if no user has it, by a verified email address.
            let mut matches = users::find_by_external_id(conn, &subject)?;
            if matches.len() > 1 {
                return Ok(Err(refused("the identity provider's subject matches several users")));
            }
            match (matches.pop(), verified_email) {
                (Some(user), _) => Some(user),
                (None, Some(email)) => users::find_by_email(conn, &email)?,
                (None, None) => None,
            }
        }
        Verified::ApiClient { client_id, scopes } => {
            return Ok(match api_clients::find_by_client_id(conn, &client_id)? {
                Some(client) if client.is_active() => Ok(Principal::ApiClient {
                    // Scopes removed from the client since the token was issued no longer apply.
                    scopes: scopes.intersection(&client.scopes).copied().collect(),
                    organization_id: client.organization_id,
                    id: client.client_id,
                }),
                _ => Err(refused("the API client is unknown or revoked")),
            });
        }
    };
    Ok(match user {
        None => Err(refused("no user matches the token")),
        Some(user) if user.status != UserStatus::Active => Err(refused("the user is deactivated")),
        Some(user) => Ok(Principal::for_user(&user)),
    })
}
