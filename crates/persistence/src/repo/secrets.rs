//! Secrets shared by every instance on one database, created once on first use.

use diesel::prelude::*;
use keel_domain::time;

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::rows::to_db_time;
use crate::schema::instance_secrets;

/// The secret called `name`; the first caller stores `generate()`, concurrent callers all get the
/// value that won.
pub fn get_or_create(
    conn: &mut DbConnection,
    name: &str,
    generate: impl FnOnce() -> String,
) -> Result<String, StoreError> {
    if let Some(value) = find(conn, name)? {
        return Ok(value);
    }
    let row = (
        instance_secrets::name.eq(name),
        instance_secrets::value.eq(generate()),
        instance_secrets::created_at.eq(to_db_time(time::now())),
    );
    match conn {
        DbConnection::Postgresql(c) => {
            diesel::insert_into(instance_secrets::table).values(row).on_conflict_do_nothing().execute(c)?
        }
        DbConnection::Sqlite(c) => {
            diesel::insert_into(instance_secrets::table).values(row).on_conflict_do_nothing().execute(c)?
        }
    };
    find(conn, name)?.ok_or_else(|| StoreError::Config(format!("secret {name} could not be stored")))
}

fn find(conn: &mut DbConnection, name: &str) -> Result<Option<String>, StoreError> {
    Ok(super::optional(instance_secrets::table.find(name).select(instance_secrets::value).first::<String>(conn))?)
}
