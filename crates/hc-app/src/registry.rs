//! Create, update and look up registry records, with every rule checked first.

use hc_core::access::{Permission, Scope};
use hc_core::model::*;
use hc_core::validate::{self, FieldError};
use hc_store::{Store, StoreError, Stored};

use crate::AppError;
use crate::audit::{Caller, Event};

/// Reference checks look across the whole city: a record may point at any stored unit.
fn city() -> Scope {
    Scope::city()
}

/// Refuses a record placed outside the caller's jurisdiction (creating it there, or moving a
/// record there, would hand it to someone else).
fn check_in_scope(caller: &Caller, field: &str, community: &str) -> Result<(), AppError> {
    if caller.scope().contains_unit(community) {
        Ok(())
    } else {
        Err(AppError::invalid(
            field,
            format!("{community} lies outside your jurisdiction"),
        ))
    }
}

fn invalid_if_any(errs: Vec<FieldError>) -> Result<(), AppError> {
    if errs.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(errs))
    }
}

/// Maps a missing row to "`what` not found".
pub(crate) fn not_found(what: &'static str) -> impl Fn(StoreError) -> AppError {
    move |e| match e {
        StoreError::NotFound => AppError::NotFound(what),
        other => other.into(),
    }
}

/// Checks that `code` names a stored org unit of `level`.
async fn check_unit(
    store: &Store,
    field: &str,
    code: &str,
    level: OrgLevel,
) -> Result<(), AppError> {
    match store.orgunit(code, &city()).await {
        Ok(u) if u.record.level == level => Ok(()),
        Ok(u) => Err(AppError::invalid(
            field,
            format!("{code} is a {}, not a {level}", u.record.level),
        )),
        Err(StoreError::NotFound) => {
            Err(AppError::invalid(field, format!("unknown {level} {code}")))
        }
        Err(e) => Err(e.into()),
    }
}

async fn check_institution(store: &Store, field: &str, code: &str) -> Result<(), AppError> {
    match store.institution(code, &city()).await {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound) => Err(AppError::invalid(
            field,
            format!("unknown institution {code}"),
        )),
        Err(e) => Err(e.into()),
    }
}

// -- org units ----------------------------------------------------------------------------------

async fn check_orgunit_refs(store: &Store, u: &OrgUnit) -> Result<(), AppError> {
    invalid_if_any(validate::validate_orgunit(u))?;
    if let (Some(parent), Some(level)) = (&u.parent_code, validate::parent_level(u.level)) {
        check_unit(store, "parent_code", parent, level).await?;
    }
    Ok(())
}

/// Registers an org unit.
pub async fn create_orgunit(
    store: &Store,
    caller: &Caller,
    u: OrgUnit,
) -> Result<Stored<OrgUnit>, AppError> {
    caller.require(Permission::EditOrgUnits)?;
    check_in_scope(caller, "code", &u.code)?;
    check_orgunit_refs(store, &u).await?;
    if store.orgunit(&u.code, &city()).await.is_ok() {
        return Err(AppError::Conflict(FieldError::new(
            "code",
            format!("org unit {} exists", u.code),
        )));
    }
    let ids = store.insert_orgunits(std::slice::from_ref(&u)).await?;
    caller
        .record(store, Event::new("create", "orgunit").id(&u.code))
        .await?;
    Ok(Stored {
        id: ids.first().copied().unwrap_or_default(),
        record: u,
    })
}

/// Replaces the org unit with `code`; the code itself may not change.
pub async fn update_orgunit(
    store: &Store,
    caller: &Caller,
    code: &str,
    u: OrgUnit,
) -> Result<Stored<OrgUnit>, AppError> {
    caller.require(Permission::EditOrgUnits)?;
    let old = store
        .orgunit(code, caller.scope())
        .await
        .map_err(not_found("org unit"))?;
    check_in_scope(caller, "code", code)?;
    if u.code != code {
        return Err(AppError::invalid(
            "code",
            format!("cannot change from {code} to {}", u.code),
        ));
    }
    check_orgunit_refs(store, &u).await?;
    store.update_orgunit(old.id, &u).await?;
    caller
        .record(store, Event::new("update", "orgunit").id(code))
        .await?;
    Ok(Stored {
        id: old.id,
        record: u,
    })
}

// -- institutions -------------------------------------------------------------------------------

async fn check_institution_refs(store: &Store, i: &Institution) -> Result<(), AppError> {
    invalid_if_any(validate::validate_institution(i))?;
    check_unit(
        store,
        "community_code",
        &i.community_code,
        OrgLevel::Community,
    )
    .await?;
    if let Some(g) = &i.group_code
        && g != &i.code
    {
        check_institution(store, "group_code", g).await?;
    }
    Ok(())
}

/// Registers an institution.
pub async fn create_institution(
    store: &Store,
    caller: &Caller,
    i: Institution,
) -> Result<Stored<Institution>, AppError> {
    caller.require(Permission::EditInstitutions)?;
    check_in_scope(caller, "community_code", &i.community_code)?;
    if i.group_code.as_deref() == Some(i.code.as_str()) {
        return Err(AppError::invalid(
            "group_code",
            "an institution cannot lead a group through itself before it exists",
        ));
    }
    check_institution_refs(store, &i).await?;
    if store.institution(&i.code, &city()).await.is_ok() {
        return Err(AppError::Conflict(FieldError::new(
            "code",
            format!("institution {} exists", i.code),
        )));
    }
    let ids = store.insert_institutions(std::slice::from_ref(&i)).await?;
    caller
        .record(store, Event::new("create", "institution").id(&i.code))
        .await?;
    Ok(Stored {
        id: ids.first().copied().unwrap_or_default(),
        record: i,
    })
}

/// Replaces the institution with `code`; the code itself may not change.
pub async fn update_institution(
    store: &Store,
    caller: &Caller,
    code: &str,
    i: Institution,
) -> Result<Stored<Institution>, AppError> {
    caller.require(Permission::EditInstitutions)?;
    let old = store
        .institution(code, caller.scope())
        .await
        .map_err(not_found("institution"))?;
    check_in_scope(caller, "community_code", &i.community_code)?;
    if i.code != code {
        return Err(AppError::invalid(
            "code",
            format!("cannot change from {code} to {}", i.code),
        ));
    }
    check_institution_refs(store, &i).await?;
    store.update_institution(old.id, &i).await?;
    caller
        .record(store, Event::new("update", "institution").id(code))
        .await?;
    Ok(Stored {
        id: old.id,
        record: i,
    })
}

// -- practitioners and residents ----------------------------------------------------------------

/// Refuses an identity already held by another record.
fn check_identity_free<T>(
    existing: &[hc_store::Existing<T>],
    id_type: IdType,
    number: &str,
    own_id: Option<i64>,
    kind: fn(&T) -> IdType,
) -> Result<(), AppError> {
    let taken = existing
        .iter()
        .find(|e| kind(&e.stored.record) == id_type && Some(e.stored.id) != own_id);
    match taken {
        Some(_) => Err(AppError::Conflict(FieldError::new(
            "id_number",
            // No record id: the other record may lie outside the caller's jurisdiction.
            format!("{id_type} {} is already registered", mask_id_number(number)),
        ))),
        None => Ok(()),
    }
}

async fn check_practitioner(
    store: &Store,
    p: &Practitioner,
    own_id: Option<i64>,
) -> Result<(), AppError> {
    invalid_if_any(validate::validate_practitioner(p, crate::today()))?;
    check_institution(store, "institution_code", &p.institution_code).await?;
    let existing = store
        .existing::<Practitioner>(&[p.id_number.as_str()])
        .await?;
    check_identity_free(&existing, p.id_type, &p.id_number, own_id, |r| r.id_type)
}

/// Registers a practitioner; the identity must not be registered already.
pub async fn create_practitioner(
    store: &Store,
    caller: &Caller,
    mut p: Practitioner,
) -> Result<Stored<Practitioner>, AppError> {
    caller.require(Permission::EditInstitutions)?;
    p.id_number = hc_core::idcard::normalize(&p.id_number);
    check_workplace(store, caller, &p.institution_code).await?;
    check_practitioner(store, &p, None).await?;
    let ids = store.insert_practitioners(std::slice::from_ref(&p)).await?;
    let id = ids.first().copied().unwrap_or_default();
    caller
        .record(store, Event::new("create", "practitioner").id(id))
        .await?;
    Ok(Stored {
        id: ids.first().copied().unwrap_or_default(),
        record: p,
    })
}

/// Replaces the practitioner with `id`.
pub async fn update_practitioner(
    store: &Store,
    caller: &Caller,
    id: i64,
    mut p: Practitioner,
) -> Result<Stored<Practitioner>, AppError> {
    caller.require(Permission::EditInstitutions)?;
    store
        .practitioner(id, caller.scope())
        .await
        .map_err(not_found("practitioner"))?;
    p.id_number = hc_core::idcard::normalize(&p.id_number);
    check_workplace(store, caller, &p.institution_code).await?;
    check_practitioner(store, &p, Some(id)).await?;
    store.update_practitioner(id, &p).await?;
    caller
        .record(store, Event::new("update", "practitioner").id(id))
        .await?;
    Ok(Stored { id, record: p })
}

async fn check_resident(store: &Store, r: &Resident, own_id: Option<i64>) -> Result<(), AppError> {
    invalid_if_any(validate::validate_resident(r, crate::today()))?;
    check_unit(
        store,
        "community_code",
        &r.community_code,
        OrgLevel::Community,
    )
    .await?;
    let existing = store.existing::<Resident>(&[r.id_number.as_str()]).await?;
    check_identity_free(&existing, r.id_type, &r.id_number, own_id, |r| r.id_type)
}

/// A practitioner's institution must be one the caller may see.
async fn check_workplace(store: &Store, caller: &Caller, code: &str) -> Result<(), AppError> {
    match store.institution(code, caller.scope()).await {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound) => Err(AppError::invalid(
            "institution_code",
            format!("{code} lies outside your jurisdiction"),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Registers a resident in the master person index: one person, one record.
pub async fn create_resident(
    store: &Store,
    caller: &Caller,
    mut r: Resident,
) -> Result<Stored<Resident>, AppError> {
    caller.require(Permission::EditResidents)?;
    r.id_number = hc_core::idcard::normalize(&r.id_number);
    check_in_scope(caller, "community_code", &r.community_code)?;
    if let Err(e) = check_resident(store, &r, None).await {
        // A refused duplicate says that the identity is registered somewhere: on record.
        if matches!(e, AppError::Conflict(_)) {
            caller
                .record(
                    store,
                    Event::new("create", "resident")
                        .outcome("failed")
                        .detail(format!(
                            "identity {} already registered",
                            mask_id_number(&r.id_number)
                        )),
                )
                .await?;
        }
        return Err(e);
    }
    let ids = store.insert_residents(std::slice::from_ref(&r)).await?;
    let id = ids.first().copied().unwrap_or_default();
    caller
        .record(store, Event::new("create", "resident").resident(id))
        .await?;
    Ok(Stored {
        id: ids.first().copied().unwrap_or_default(),
        record: r,
    })
}

/// Replaces the resident with `id`.
pub async fn update_resident(
    store: &Store,
    caller: &Caller,
    id: i64,
    mut r: Resident,
) -> Result<Stored<Resident>, AppError> {
    caller.require(Permission::EditResidents)?;
    // Writes stay within the caller's own jurisdiction: a break-the-glass grant opens a
    // record for reading, not for moving it into the reader's area.
    store
        .resident(id, caller.scope(), None)
        .await
        .map_err(not_found("resident"))?;
    r.id_number = hc_core::idcard::normalize(&r.id_number);
    check_in_scope(caller, "community_code", &r.community_code)?;
    check_resident(store, &r, Some(id)).await?;
    store.update_resident(id, &r).await?;
    caller
        .record(store, Event::new("update", "resident").resident(id))
        .await?;
    Ok(Stored { id, record: r })
}

/// The residents holding an identity number (normalised first), across the whole city: for
/// imports and duplicate checks, never for showing.
pub async fn find_residents(
    store: &Store,
    number: &str,
) -> Result<Vec<Stored<Resident>>, AppError> {
    Ok(store
        .residents_by_identity(&hc_core::idcard::normalize(number))
        .await?)
}

/// Searches residents within the caller's jurisdiction. A search that names someone (by
/// identity number or name) is audited, with the number masked.
pub async fn search_residents(
    store: &Store,
    caller: &Caller,
    filter: &hc_store::ResidentFilter,
    page: hc_store::Page,
) -> Result<hc_store::Paged<Resident>, AppError> {
    caller.require(Permission::ViewResidents)?;
    let found = store.residents(filter, page, caller.scope()).await?;
    let mut named = Vec::new();
    if let Some(n) = &filter.id_number {
        named.push(format!("id_number={}", mask_id_number(n)));
    }
    if let Some(n) = &filter.name {
        named.push(format!("name={}", hc_core::access::mask_name(n)));
    }
    if !named.is_empty() {
        let mut ev = Event::new("search", "resident").detail(format!(
            "{}; {} found",
            named.join(" "),
            found.items.len()
        ));
        // A search that finds one person is a look at that person: it shows in their log.
        if let [one] = found.items.as_slice() {
            ev = ev.resident(one.id);
        }
        caller.record(store, ev).await?;
    }
    Ok(found)
}

/// Reads one org unit.
pub async fn orgunit(
    store: &Store,
    caller: &Caller,
    code: &str,
) -> Result<Stored<OrgUnit>, AppError> {
    caller.require(Permission::ViewRegistry)?;
    store
        .orgunit(code, caller.scope())
        .await
        .map_err(not_found("org unit"))
}

/// Reads one institution.
pub async fn institution(
    store: &Store,
    caller: &Caller,
    code: &str,
) -> Result<Stored<Institution>, AppError> {
    caller.require(Permission::ViewRegistry)?;
    store
        .institution(code, caller.scope())
        .await
        .map_err(not_found("institution"))
}

/// Reads one practitioner.
pub async fn practitioner(
    store: &Store,
    caller: &Caller,
    id: i64,
) -> Result<Stored<Practitioner>, AppError> {
    caller.require(Permission::ViewRegistry)?;
    store
        .practitioner(id, caller.scope())
        .await
        .map_err(not_found("practitioner"))
}

/// A resident's record as one caller may see it.
#[derive(Debug, Clone)]
pub struct ResidentView {
    /// The record.
    pub resident: Stored<Resident>,
    /// Identity number, phone and birth date may be shown in clear.
    pub full: bool,
    /// Seen through a break-the-glass grant rather than the caller's own scope.
    pub break_glass: bool,
}

/// Opens one resident's record. Outside the caller's scope it is not found, unless the
/// caller holds a live break-the-glass grant. Roles that see identities get them in clear.
/// Every opening is audited (flagged when through a grant).
pub async fn resident(store: &Store, caller: &Caller, id: i64) -> Result<ResidentView, AppError> {
    let own = caller.principal.can(Permission::OwnRecord);
    if !own {
        caller.require(Permission::ViewResidents)?;
    }
    let resident = store
        .resident(id, caller.scope(), caller.principal.user_id)
        .await
        .map_err(not_found("resident"))?;
    let in_scope = caller
        .scope()
        .contains_unit(&resident.record.community_code)
        && caller.scope().resident.is_none_or(|r| r == id);
    let full = caller.principal.can(Permission::ViewIdentity) || own;
    let break_glass = !in_scope;
    let mut ev = Event::new("read", "resident").resident(id).detail(if full {
        "identities in clear"
    } else {
        "masked"
    });
    if break_glass {
        ev = ev.flagged().purpose("break-the-glass");
    }
    caller.record(store, ev).await?;
    Ok(ResidentView {
        resident,
        full,
        break_glass,
    })
}

/// Break-the-glass: opens `id`'s record to the caller for the policy's time, for the stated
/// reason, whatever the caller's scope. The grant is audited and flagged for review.
pub async fn break_glass(
    store: &Store,
    caller: &Caller,
    policy: &hc_core::access::SecurityPolicy,
    id: i64,
    reason: &str,
) -> Result<i64, AppError> {
    caller.require(Permission::BreakGlass)?;
    let user_id = caller.principal.user_id.ok_or_else(|| {
        AppError::Forbidden("only a person, not a system token, may break the glass".into())
    })?;
    let reason = reason.trim();
    check_reason(reason)?;
    store
        .resident_unscoped(id)
        .await
        .map_err(not_found("resident"))?;
    let ttl = i64::from(policy.break_glass_minutes) * 60;
    let expires = store.grant_access(user_id, id, reason, ttl).await?;
    caller
        .record(
            store,
            Event::new("break_glass", "resident")
                .resident(id)
                .purpose(reason)
                .flagged()
                .detail(format!("access for {} minutes", policy.break_glass_minutes)),
        )
        .await?;
    Ok(expires)
}

/// A break-the-glass reason states the emergency: 10 to 500 characters.
fn check_reason(reason: &str) -> Result<(), AppError> {
    let n = reason.trim().chars().count();
    if n < 10 {
        Err(AppError::invalid(
            "reason",
            "state the emergency in at least 10 characters",
        ))
    } else if n > 500 {
        Err(AppError::invalid(
            "reason",
            "must be at most 500 characters",
        ))
    } else {
        Ok(())
    }
}

/// Break-the-glass by identity number, for a patient in front of the doctor whose record
/// lies outside the doctor's jurisdiction: returns the record's id once access is granted.
pub async fn break_glass_by_identity(
    store: &Store,
    caller: &Caller,
    policy: &hc_core::access::SecurityPolicy,
    number: &str,
    reason: &str,
) -> Result<i64, AppError> {
    caller.require(Permission::BreakGlass)?;
    check_reason(reason)?;
    let found = find_residents(store, number).await?;
    let id = match found.as_slice() {
        [one] => one.id,
        [] => {
            caller
                .record(
                    store,
                    Event::new("break_glass", "resident")
                        .outcome("failed")
                        .purpose(reason.trim())
                        .detail(format!("no record of {}", mask_id_number(number))),
                )
                .await?;
            return Err(AppError::NotFound("resident"));
        }
        _ => {
            return Err(AppError::invalid(
                "id_number",
                "held by more than one record; give the record's id",
            ));
        }
    };
    break_glass(store, caller, policy, id, reason).await?;
    Ok(id)
}

/// Exports the caller's own record (PIPL art. 45): resident accounts only; audited.
pub async fn export_own(store: &Store, caller: &Caller) -> Result<Stored<Resident>, AppError> {
    caller.require(Permission::OwnRecord)?;
    let id = caller
        .scope()
        .resident
        .ok_or(AppError::NotFound("record"))?;
    let r = store
        .resident(id, caller.scope(), None)
        .await
        .map_err(not_found("resident"))?;
    caller
        .record(
            store,
            Event::new("export", "resident")
                .resident(id)
                .detail("own record"),
        )
        .await?;
    Ok(r)
}
