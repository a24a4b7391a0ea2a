//! Generic CRUD for every model entity. Each entity declares its table, columns and
//! references ([`Entity`]); the SQL here is built from those compile-time constants
//! only, and every value is bound as a parameter, so there is exactly one place where
//! model SQL is written and no user text ever reaches a statement's text.

use std::collections::{BTreeSet, HashMap};

use kohtaamo_domain::{rules, FieldErrors, Id, Reason};
use serde::Serialize;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, Row};

use crate::{Result, StoreError};

/// A value bound to a statement. Booleans travel as 0/1 and translated texts as JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Int(Option<i64>),
    Text(Option<String>),
    Real(Option<f64>),
}
impl From<Option<f64>> for Val {
    fn from(v: Option<f64>) -> Self {
        Val::Real(v)
    }
}
impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::Int(Some(v))
    }
}
impl From<Option<i64>> for Val {
    fn from(v: Option<i64>) -> Self {
        Val::Int(v)
    }
}
impl From<bool> for Val {
    fn from(v: bool) -> Self {
        Val::Int(Some(v as i64))
    }
}
impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::Text(Some(v))
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Val::Text(Some(v.to_owned()))
    }
}
impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Self {
        Val::Text(v)
    }
}
impl From<&kohtaamo_domain::text::Texts> for Val {
    fn from(v: &kohtaamo_domain::text::Texts) -> Self {
        Val::Text(Some(v.to_json()))
    }
}

pub(crate) fn bind<'q>(
    mut q: Query<'q, Any, AnyArguments<'q>>,
    vals: Vec<Val>,
) -> Query<'q, Any, AnyArguments<'q>> {
    for v in vals {
        q = match v {
            Val::Int(i) => q.bind(i),
            Val::Text(t) => q.bind(t),
            Val::Real(r) => bind_real(q, r),
        };
    }
    q
}

/// Binds an optional double. sqlx 0.8.6's `Any` driver hands a NULL `f64` to
/// PostgreSQL as a NULL *float4* (its `Real`/`Double` cases are swapped), so a
/// statement first prepared with a NULL has a float4 parameter, and the connection's
/// cached statement then refuses the next non-NULL 8-byte double ("incorrect binary
/// data format in bind parameter"). A NULL `f32` travels as a NULL float8, which is
/// what the column is.
pub(crate) fn bind_real<'q>(
    q: Query<'q, Any, AnyArguments<'q>>,
    v: Option<f64>,
) -> Query<'q, Any, AnyArguments<'q>> {
    match v {
        Some(x) => q.bind(x),
        None => q.bind(None::<f32>),
    }
}

/// A link table holding an ordered set of children per parent, with an optional role
/// (package → elements with their role; journey → packages; step → touchpoints).
/// Columns: workspace_id, `parent`, `child`, role, position.
pub struct Link {
    pub table: &'static str,
    pub parent: &'static str,
    pub child: &'static str,
    /// Table and noun of the child, to check references.
    pub child_table: &'static str,
    pub child_noun: &'static str,
    pub field: &'static str,
}

/// A reference from an entity to another record, checked to exist in the same
/// workspace before writing (the composite foreign keys are the backstop).
pub enum Ref {
    Id {
        field: String,
        table: &'static str,
        noun: &'static str,
        id: Id,
    },
    Slug {
        field: String,
        table: &'static str,
        noun: &'static str,
        slug: String,
    },
}

#[derive(Clone, Copy)]
pub enum FilterKind {
    /// Equality with an integer id.
    Int,
    /// Equality with a string.
    Text,
    /// `true` → the SQL as written, `false` → negated; bound to today's date.
    StaleFlag,
}

/// A list filter: query parameter name and an SQL condition with one `?` for the value.
pub struct Filter {
    pub param: &'static str,
    pub sql: &'static str,
    pub kind: FilterKind,
}

pub trait Entity: Sized + Send + Sync + Serialize + Unpin + 'static {
    const TABLE: &'static str;
    /// Singular noun for messages ("unit").
    const NOUN: &'static str;
    /// Columns written from [`Entity::binds`], in the same order (not id, workspace_id,
    /// position).
    const COLUMNS: &'static [&'static str];
    const ORDER: &'static str = "id";
    /// Entities kept in order within a parent (stages in a journey): the parent column.
    const POSITION_PARENT: Option<&'static str> = None;
    /// The table of that parent.
    const POSITION_PARENT_TABLE: &'static str = "";
    const LINK: Option<Link> = None;
    const FILTERS: &'static [Filter] = &[];
    /// Columns searched by `q` (case-insensitive substring).
    const SEARCH: &'static [&'static str] = &["slug", "name"];
    /// The entity forms a tree through `parent_id` (units): cycles are refused.
    const TREE: bool = false;

    fn binds(&self) -> Vec<Val>;
    fn from_row(row: &AnyRow) -> std::result::Result<Self, sqlx::Error>;
    fn references(&self) -> Vec<Ref> {
        Vec::new()
    }
    /// Rules on the whole record that need no database.
    fn check(&self) -> std::result::Result<(), FieldErrors> {
        Ok(())
    }
    /// The value of `POSITION_PARENT` or, for trees, the parent id.
    fn parent_value(&self) -> Option<Id> {
        None
    }
    fn links(&self) -> Vec<(Id, Option<String>)> {
        Vec::new()
    }
    fn set_links(&mut self, _rows: Vec<(Id, Option<String>)>) {}
    /// Text columns the database fills and clients only read (a survey's public key),
    /// returned beside the data.
    const READ_ONLY: &'static [&'static str] = &[];
    /// Values computed when read (e.g. whether a relation is stale).
    fn derived(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::Map::new()
    }
}

/// A stored entity as the API returns it.
#[derive(Debug, Clone, Serialize)]
pub struct Record<T> {
    pub id: Id,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    #[serde(flatten)]
    pub data: T,
    #[serde(flatten)]
    pub derived: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub limit: i64,
    pub offset: i64,
    pub q: Option<String>,
    pub filters: Vec<(String, String)>,
}

impl ListQuery {
    /// Every record, unfiltered.
    pub fn all() -> Self {
        Self {
            limit: i64::MAX,
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

pub(crate) fn texts(
    row: &AnyRow,
    col: &str,
) -> std::result::Result<kohtaamo_domain::text::Texts, sqlx::Error> {
    let s: String = row.try_get(col)?;
    kohtaamo_domain::text::Texts::from_json(&s).map_err(|e| sqlx::Error::Decode(e.into()))
}
pub(crate) fn flag(row: &AnyRow, col: &str) -> std::result::Result<bool, sqlx::Error> {
    Ok(row.try_get::<i64, _>(col)? != 0)
}
pub(crate) fn decode_err(col: &str, e: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(format!("{col}: {e}").into())
}

fn select_cols<E: Entity>() -> String {
    let mut cols = vec!["id".to_string()];
    if E::POSITION_PARENT.is_some() {
        cols.push("position".into());
    }
    cols.extend(E::COLUMNS.iter().map(|c| c.to_string()));
    cols.extend(E::READ_ONLY.iter().map(|c| c.to_string()));
    cols.join(", ")
}

fn record<E: Entity>(row: &AnyRow) -> std::result::Result<Record<E>, sqlx::Error> {
    let data = E::from_row(row)?;
    let mut derived = data.derived();
    for c in E::READ_ONLY {
        derived.insert((*c).to_owned(), row.try_get::<String, _>(*c)?.into());
    }
    Ok(Record {
        id: row.try_get("id")?,
        position: if E::POSITION_PARENT.is_some() {
            Some(row.try_get("position")?)
        } else {
            None
        },
        data,
        derived,
    })
}

async fn load_links<E: Entity>(c: &mut AnyConnection, rec: &mut Record<E>) -> Result<()> {
    if let Some(l) = E::LINK {
        let sql = format!(
            "SELECT {}, role FROM {} WHERE {} = $1 ORDER BY position",
            l.child, l.table, l.parent
        );
        let rows = sqlx::query(&sql).bind(rec.id).fetch_all(&mut *c).await?;
        let links = rows
            .iter()
            .map(|r| Ok((r.try_get::<i64, _>(0)?, r.try_get::<Option<String>, _>(1)?)))
            .collect::<std::result::Result<Vec<_>, sqlx::Error>>()?;
        rec.data.set_links(links);
    }
    Ok(())
}

pub async fn get<E: Entity>(c: &mut AnyConnection, ws: Id, id: Id) -> Result<Record<E>> {
    let sql = format!(
        "SELECT {} FROM {} WHERE workspace_id = $1 AND id = $2",
        select_cols::<E>(),
        E::TABLE
    );
    let row = sqlx::query(&sql)
        .bind(ws)
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or(StoreError::NotFound)?;
    let mut rec = record::<E>(&row)?;
    load_links(c, &mut rec).await?;
    Ok(rec)
}

/// Escapes LIKE wildcards so a search for `50%` finds "50%", not everything.
fn like_pattern(q: &str) -> String {
    let mut s = String::from("%");
    for ch in q.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(ch);
    }
    s.push('%');
    s
}

pub async fn list<E: Entity>(
    c: &mut AnyConnection,
    ws: Id,
    q: &ListQuery,
) -> Result<Page<Record<E>>> {
    let mut where_sql = String::from("workspace_id = $1");
    let mut vals: Vec<Val> = vec![ws.into()];
    let mut errors = FieldErrors::new();
    for (param, value) in &q.filters {
        let Some(f) = E::FILTERS.iter().find(|f| f.param == param) else {
            errors.add(param.clone(), format!("is not a filter of {}s", E::NOUN));
            continue;
        };
        let (cond, val): (String, Val) = match f.kind {
            FilterKind::Int => match value.parse::<i64>() {
                Ok(v) => (f.sql.to_string(), v.into()),
                Err(_) => {
                    errors.add(param.clone(), "must be an integer id");
                    continue;
                }
            },
            FilterKind::Text => (f.sql.to_string(), value.clone().into()),
            FilterKind::StaleFlag => match value.as_str() {
                "true" => (f.sql.to_string(), crate::today().to_string().into()),
                "false" => (
                    format!("NOT ({})", f.sql),
                    crate::today().to_string().into(),
                ),
                _ => {
                    errors.add(param.clone(), "must be true or false");
                    continue;
                }
            },
        };
        vals.push(val);
        where_sql.push_str(&format!(
            " AND ({})",
            cond.replace('?', &format!("${}", vals.len()))
        ));
    }
    if !errors.is_empty() {
        return Err(StoreError::Invalid(errors));
    }
    if let Some(text) = q.q.as_deref().filter(|s| !s.is_empty()) {
        if !E::SEARCH.is_empty() {
            vals.push(like_pattern(text).into());
            let n = vals.len();
            let conds: Vec<String> = E::SEARCH
                .iter()
                .map(|c| format!("LOWER({c}) LIKE ${n} ESCAPE '\\'"))
                .collect();
            where_sql.push_str(&format!(" AND ({})", conds.join(" OR ")));
        }
    }
    let count_sql = format!("SELECT COUNT(*) FROM {} WHERE {}", E::TABLE, where_sql);
    let total: i64 = bind(sqlx::query(&count_sql), vals.clone())
        .fetch_one(&mut *c)
        .await?
        .try_get(0)?;
    let n = vals.len();
    let sql = format!(
        "SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT ${} OFFSET ${}",
        select_cols::<E>(),
        E::TABLE,
        where_sql,
        E::ORDER,
        n + 1,
        n + 2
    );
    vals.push(q.limit.into());
    vals.push(q.offset.into());
    let rows = bind(sqlx::query(&sql), vals).fetch_all(&mut *c).await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut rec = record::<E>(row)?;
        load_links(c, &mut rec).await?;
        items.push(rec);
    }
    Ok(Page {
        items,
        total,
        limit: q.limit,
        offset: q.offset,
    })
}

pub async fn exists(c: &mut AnyConnection, table: &str, ws: Id, id: Id) -> Result<bool> {
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE workspace_id = $1 AND id = $2");
    let n: i64 = sqlx::query(&sql)
        .bind(ws)
        .bind(id)
        .fetch_one(&mut *c)
        .await?
        .try_get(0)?;
    Ok(n > 0)
}

pub async fn id_by_slug(
    c: &mut AnyConnection,
    table: &str,
    ws: Id,
    slug: &str,
) -> Result<Option<Id>> {
    let sql = format!("SELECT id FROM {table} WHERE workspace_id = $1 AND slug = $2");
    Ok(sqlx::query(&sql)
        .bind(ws)
        .bind(slug)
        .fetch_optional(&mut *c)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?)
}

/// Validates rules and references of `data` (as record `id` when updating).
async fn validate<E: Entity>(
    c: &mut AnyConnection,
    ws: Id,
    id: Option<Id>,
    data: &E,
) -> Result<()> {
    let mut errors = match data.check() {
        Ok(()) => FieldErrors::new(),
        Err(e) => e,
    };
    let mut refs = data.references();
    if let Some(l) = E::LINK {
        for (i, (child, _)) in data.links().iter().enumerate() {
            refs.push(Ref::Id {
                field: format!("{}[{i}]", l.field),
                table: l.child_table,
                noun: l.child_noun,
                id: *child,
            });
        }
    }
    for r in refs {
        match r {
            Ref::Id {
                field,
                table,
                noun,
                id,
            } => {
                if !exists(c, table, ws, id).await? {
                    errors.add(
                        field,
                        Reason::new("unknown-ref").with("noun", noun).with("id", id),
                    );
                }
            }
            Ref::Slug {
                field,
                table,
                noun,
                slug,
            } => {
                if id_by_slug(c, table, ws, &slug).await?.is_none() {
                    errors.add(
                        field,
                        Reason::new("unknown-ref-slug")
                            .with("noun", noun)
                            .with("slug", slug),
                    );
                }
            }
        }
    }
    if E::TREE && errors.is_empty() {
        let sql = format!(
            "SELECT id, parent_id FROM {} WHERE workspace_id = $1",
            E::TABLE
        );
        let rows = sqlx::query(&sql).bind(ws).fetch_all(&mut *c).await?;
        let mut parents = HashMap::new();
        for r in rows {
            parents.insert(r.try_get::<i64, _>(0)?, r.try_get::<Option<i64>, _>(1)?);
        }
        if rules::creates_cycle(id, data.parent_value(), &parents) {
            errors.add("parent_id", Reason::new("cycle").with("noun", E::NOUN));
        }
    }
    errors.into_result(|| ()).map_err(StoreError::Invalid)
}

async fn write_links<E: Entity>(c: &mut AnyConnection, ws: Id, id: Id, data: &E) -> Result<()> {
    if let Some(l) = E::LINK {
        let del = format!("DELETE FROM {} WHERE {} = $1", l.table, l.parent);
        sqlx::query(&del).bind(id).execute(&mut *c).await?;
        let ins = format!(
            "INSERT INTO {} (workspace_id, {}, {}, role, position) VALUES ($1, $2, $3, $4, $5)",
            l.table, l.parent, l.child
        );
        for (pos, (child, role)) in data.links().into_iter().enumerate() {
            sqlx::query(&ins)
                .bind(ws)
                .bind(id)
                .bind(child)
                .bind(role)
                .bind(pos as i64 + 1)
                .execute(&mut *c)
                .await
                .map_err(|e| StoreError::from_db(e, E::NOUN))?;
        }
    }
    Ok(())
}

fn next_position_sql<E: Entity>(param: usize) -> Option<String> {
    E::POSITION_PARENT.map(|p| {
        format!(
            "(SELECT COALESCE(MAX(position), 0) + 1 FROM {} WHERE {p} = ${param})",
            E::TABLE
        )
    })
}

pub async fn create<E: Entity>(c: &mut AnyConnection, ws: Id, data: &E) -> Result<Id> {
    validate(c, ws, None, data).await?;
    let mut cols = vec!["workspace_id".to_string()];
    cols.extend(E::COLUMNS.iter().map(|s| s.to_string()));
    let mut vals: Vec<Val> = vec![ws.into()];
    vals.extend(data.binds());
    let mut placeholders: Vec<String> = (1..=vals.len()).map(|i| format!("${i}")).collect();
    if let Some(pos) = next_position_sql::<E>(vals.len() + 1) {
        cols.push("position".into());
        placeholders.push(pos);
        vals.push(data.parent_value().into());
    }
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({}) RETURNING id",
        E::TABLE,
        cols.join(", "),
        placeholders.join(", ")
    );
    let row = bind(sqlx::query(&sql), vals)
        .fetch_one(&mut *c)
        .await
        .map_err(|e| StoreError::from_db(e, E::NOUN))?;
    let id: Id = row.try_get(0)?;
    write_links(c, ws, id, data).await?;
    Ok(id)
}

pub async fn update<E: Entity>(c: &mut AnyConnection, ws: Id, id: Id, data: &E) -> Result<()> {
    let old = get::<E>(c, ws, id).await?;
    validate(c, ws, Some(id), data).await?;
    let mut sets: Vec<String> = E::COLUMNS
        .iter()
        .enumerate()
        .map(|(i, col)| format!("{col} = ${}", i + 1))
        .collect();
    let mut vals = data.binds();
    if E::POSITION_PARENT.is_some() && old.data.parent_value() != data.parent_value() {
        // Moved to another parent: goes to the end there.
        let n = vals.len() + 1;
        sets.push(format!(
            "position = {}",
            next_position_sql::<E>(n).unwrap_or_default()
        ));
        vals.push(data.parent_value().into());
    }
    let n = vals.len();
    let sql = format!(
        "UPDATE {} SET {} WHERE workspace_id = ${} AND id = ${}",
        E::TABLE,
        sets.join(", "),
        n + 1,
        n + 2
    );
    vals.push(ws.into());
    vals.push(id.into());
    bind(sqlx::query(&sql), vals)
        .execute(&mut *c)
        .await
        .map_err(|e| StoreError::from_db(e, E::NOUN))?;
    write_links(c, ws, id, data).await?;
    Ok(())
}

pub async fn delete<E: Entity>(c: &mut AnyConnection, ws: Id, id: Id) -> Result<()> {
    let sql = format!(
        "DELETE FROM {} WHERE workspace_id = $1 AND id = $2",
        E::TABLE
    );
    let r = sqlx::query(&sql)
        .bind(ws)
        .bind(id)
        .execute(&mut *c)
        .await
        .map_err(|e| StoreError::from_db(e, E::NOUN))?;
    if r.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Sets the order of all children of `parent` (e.g. the stages of a journey). `ids`
/// must list every child exactly once.
pub async fn reorder<E: Entity>(
    c: &mut AnyConnection,
    ws: Id,
    parent: Id,
    ids: &[Id],
) -> Result<()> {
    let Some(pcol) = E::POSITION_PARENT else {
        return Err(StoreError::NotFound);
    };
    if !exists(c, E::POSITION_PARENT_TABLE, ws, parent).await? {
        return Err(StoreError::NotFound);
    }
    let sql = format!(
        "SELECT id FROM {} WHERE workspace_id = $1 AND {pcol} = $2",
        E::TABLE
    );
    let current: BTreeSet<Id> = sqlx::query_scalar(&sql)
        .bind(ws)
        .bind(parent)
        .fetch_all(&mut *c)
        .await?
        .into_iter()
        .collect();
    let given: BTreeSet<Id> = ids.iter().copied().collect();
    if given.len() != ids.len() || given != current {
        let mut e = FieldErrors::new();
        e.add(
            "ids",
            format!(
                "must list each of the {} {}s here exactly once",
                current.len(),
                E::NOUN
            ),
        );
        return Err(StoreError::Invalid(e));
    }
    let upd = format!(
        "UPDATE {} SET position = $1 WHERE workspace_id = $2 AND id = $3",
        E::TABLE
    );
    for (i, id) in ids.iter().enumerate() {
        sqlx::query(&upd)
            .bind(i as i64 + 1)
            .bind(ws)
            .bind(*id)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_pattern_escapes_wildcards() {
        assert_eq!(super::like_pattern("50%_a\\"), "%50\\%\\_a\\\\%");
    }
}
