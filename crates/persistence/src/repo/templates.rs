//! Organizations' program templates and their immutable versions (the built-in templates are in
//! the domain's code, not in the database).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use keel_domain::page::{Page, PageRequest};
use keel_domain::template::{ProgramTemplate, TemplateDefinition};
use keel_domain::{OrganizationId, TemplateId};

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::rows::{corrupt, from_db_time, to_db_time};
use crate::schema::{program_template_versions, program_templates};

const RESOURCE: &str = "program template";

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = program_templates, treat_none_as_null = true)]
struct TemplateRow {
    id: String,
    organization_id: String,
    name: String,
    description: Option<String>,
    based_on_id: Option<String>,
    based_on_version: Option<i64>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = program_template_versions)]
struct VersionRow {
    template_id: String,
    version: i64,
    organization_id: String,
    name: String,
    description: Option<String>,
    definition: String,
    created_at: NaiveDateTime,
}

fn template_row(t: &ProgramTemplate, organization_id: OrganizationId) -> TemplateRow {
    TemplateRow {
        id: t.id.to_string(),
        organization_id: organization_id.to_string(),
        name: t.name.clone(),
        description: t.description.clone(),
        based_on_id: t.based_on.map(|(id, _)| id.to_string()),
        based_on_version: t.based_on.map(|(_, v)| v),
        created_at: to_db_time(t.created_at),
        updated_at: to_db_time(t.updated_at),
        version: t.version,
    }
}

fn into_domain(row: TemplateRow, version: VersionRow) -> Result<ProgramTemplate, StoreError> {
    let definition: TemplateDefinition =
        serde_json::from_str(&version.definition).map_err(|_| corrupt("template definition", &version.template_id))?;
    let based_on = match (row.based_on_id, row.based_on_version) {
        (Some(id), Some(v)) => Some((id.parse::<TemplateId>().map_err(|_| corrupt("template id", &id))?, v)),
        _ => None,
    };
    Ok(ProgramTemplate {
        id: row.id.parse().map_err(|_| corrupt("template id", &row.id))?,
        organization_id: Some(
            row.organization_id.parse().map_err(|_| corrupt("organization id", &row.organization_id))?,
        ),
        name: version.name,
        description: version.description,
        based_on,
        definition,
        created_at: from_db_time(row.created_at),
        updated_at: from_db_time(version.created_at),
        version: version.version,
    })
}

fn insert_version(
    conn: &mut DbConnection,
    t: &ProgramTemplate,
    organization_id: OrganizationId,
) -> Result<(), StoreError> {
    let definition = serde_json::to_string(&t.definition).expect("a definition serializes");
    diesel::insert_into(program_template_versions::table)
        .values(VersionRow {
            template_id: t.id.to_string(),
            version: t.version,
            organization_id: organization_id.to_string(),
            name: t.name.clone(),
            description: t.description.clone(),
            definition,
            created_at: to_db_time(t.updated_at),
        })
        .execute(conn)?;
    Ok(())
}

fn organization_of(t: &ProgramTemplate) -> Result<OrganizationId, StoreError> {
    t.organization_id.ok_or_else(|| StoreError::not_found(RESOURCE))
}

/// Inserts a new organization template and its first version.
pub fn insert(conn: &mut DbConnection, t: &ProgramTemplate) -> Result<(), StoreError> {
    let org = organization_of(t)?;
    diesel::insert_into(program_templates::table).values(template_row(t, org)).execute(conn)?;
    insert_version(conn, t, org)
}

/// Records `t` as the template's next version; the row must still be at `read_version`.
pub fn save(conn: &mut DbConnection, t: &ProgramTemplate, read_version: i64) -> Result<(), StoreError> {
    let org = organization_of(t)?;
    let written = diesel::update(
        program_templates::table
            .filter(program_templates::id.eq(t.id.to_string()))
            .filter(program_templates::version.eq(read_version)),
    )
    .set(template_row(t, org))
    .execute(conn)?;
    super::written_once(written)?;
    insert_version(conn, t, org)
}

/// The template at `version` (None: its current version).
pub fn find(
    conn: &mut DbConnection,
    id: TemplateId,
    version: Option<i64>,
) -> Result<Option<ProgramTemplate>, StoreError> {
    let Some(row) =
        super::optional(program_templates::table.find(id.to_string()).select(TemplateRow::as_select()).first(conn))?
    else {
        return Ok(None);
    };
    let wanted = version.unwrap_or(row.version);
    let Some(version) = super::optional(
        program_template_versions::table.find((id.to_string(), wanted)).select(VersionRow::as_select()).first(conn),
    )?
    else {
        return Ok(None);
    };
    into_domain(row, version).map(Some)
}

/// The template's current version with its row locked until the transaction ends.
pub fn get_for_update(conn: &mut DbConnection, id: TemplateId) -> Result<ProgramTemplate, StoreError> {
    let row: Option<TemplateRow> =
        super::first_for_update!(conn, program_templates::table.find(id.to_string()).select(TemplateRow::as_select()))?;
    let row = row.ok_or_else(|| StoreError::not_found(RESOURCE))?;
    let version = program_template_versions::table
        .find((row.id.clone(), row.version))
        .select(VersionRow::as_select())
        .first(conn)?;
    into_domain(row, version)
}

/// A page of the templates (current versions) of `organization` (None: of every organization),
/// in id order after `page.after`.
pub fn list(
    conn: &mut DbConnection,
    organization: Option<OrganizationId>,
    page: PageRequest,
) -> Result<Page<ProgramTemplate>, StoreError> {
    let mut query = program_templates::table
        .inner_join(
            program_template_versions::table.on(program_template_versions::template_id
                .eq(program_templates::id)
                .and(program_template_versions::version.eq(program_templates::version))),
        )
        .select((TemplateRow::as_select(), VersionRow::as_select()))
        .order(program_templates::id.asc())
        .limit(i64::from(page.limit) + 1)
        .into_boxed();
    if let Some(org) = organization {
        query = query.filter(program_templates::organization_id.eq(org.to_string()));
    }
    if let Some(after) = page.after {
        query = query.filter(program_templates::id.gt(after.to_string()));
    }
    let rows: Vec<(TemplateRow, VersionRow)> = query.load(conn)?;
    let items = rows.into_iter().map(|(row, version)| into_domain(row, version)).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch(items, page.limit))
}
