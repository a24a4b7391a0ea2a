//! Units that act: the users who work in a unit, what a unit member may do without
//! being an editor of the whole model (review the unit's who-is-my-customer answers),
//! and the unit's reviews that are due now.
//!
//! **Who may review a relation**: a workspace admin or editor; or a member of the unit
//! that provides the relation — the unit itself (`provider: {unit: …}`) or the unit of
//! the person who does (`provider: {person: …}`). Viewers who work in no such unit may
//! read, not review.

use chrono::NaiveDate;
use kohtaamo_domain::model::{PersonData, Provider, RelationData, Role};
use kohtaamo_domain::Id;
use kohtaamo_storage::auth::UnitMember;
use kohtaamo_storage::{Record, Store};

use crate::{Error, Result};

/// The unit a relation's provider belongs to: the unit, or the person's unit.
async fn provider_unit(store: &Store, ws: Id, r: &RelationData) -> Result<Option<Id>> {
    Ok(match r.provider {
        Provider::Unit(u) => Some(u),
        Provider::Person(p) => store.get::<PersonData>(ws, p).await?.data.unit_id,
    })
}

/// Whether `user` (with `role` in the workspace) may mark `relation` reviewed.
pub async fn may_review(
    store: &Store,
    ws: Id,
    user: Id,
    role: Role,
    relation: &RelationData,
) -> Result<bool> {
    if role.can_edit() {
        return Ok(true);
    }
    let Some(unit) = provider_unit(store, ws, relation).await? else {
        return Ok(false);
    };
    Ok(store.units_of_user(ws, user).await?.contains(&unit))
}

/// Marks a relation reviewed today by `user`, if the rule above lets them.
pub async fn review(
    store: &Store,
    ws: Id,
    relation: Id,
    (user, role): (Id, Role),
    today: NaiveDate,
) -> Result<Record<RelationData>> {
    let rec = store.get::<RelationData>(ws, relation).await?;
    if !may_review(store, ws, user, role, &rec.data).await? {
        return Err(Error::Forbidden(
            "only an editor or a member of the providing unit may review this".into(),
        ));
    }
    Ok(store.mark_reviewed(ws, relation, Some(user), today).await?)
}

/// The unit a member lands on: their only unit, when they work in exactly one and are
/// not an editor (editors and admins land on the workspace's overview).
pub async fn landing_unit(store: &Store, ws: Id, user: Id, role: Role) -> Result<Option<Id>> {
    if role.can_edit() {
        return Ok(None);
    }
    Ok(match store.units_of_user(ws, user).await?.as_slice() {
        [only] => Some(*only),
        _ => None,
    })
}

pub async fn members(store: &Store, ws: Id, unit: Id) -> Result<Vec<UnitMember>> {
    Ok(store.unit_members(ws, unit).await?)
}

/// Puts the workspace member `username` in `unit`, as its lead or not (admins only;
/// doing it again sets only the lead flag).
pub async fn add_member(
    store: &Store,
    ws: Id,
    unit: Id,
    username: &str,
    lead: bool,
    role: Role,
) -> Result<()> {
    if !role.is_admin() {
        return Err(Error::Forbidden(
            "only a workspace admin may change who works in a unit".into(),
        ));
    }
    let Some(user) = store.user_by_name(username).await? else {
        let mut e = kohtaamo_domain::FieldErrors::new();
        e.add("username", kohtaamo_domain::Reason::new("not-a-member"));
        return Err(Error::Invalid(e));
    };
    Ok(store.add_unit_member(ws, unit, user.id, lead).await?)
}

/// Takes `username` out of `unit` (admins only).
pub async fn remove_member(
    store: &Store,
    ws: Id,
    unit: Id,
    username: &str,
    role: Role,
) -> Result<()> {
    if !role.is_admin() {
        return Err(Error::Forbidden(
            "only a workspace admin may change who works in a unit".into(),
        ));
    }
    let user = store.user_by_name(username).await?.ok_or(Error::NotFound)?;
    Ok(store.remove_unit_member(ws, unit, user.id).await?)
}
