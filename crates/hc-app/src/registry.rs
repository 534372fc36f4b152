//! Create, update and look up registry records, with every rule checked first.

use hc_core::model::*;
use hc_core::validate::{self, FieldError};
use hc_store::{Store, StoreError, Stored};

use crate::AppError;

fn invalid_if_any(errs: Vec<FieldError>) -> Result<(), AppError> {
    if errs.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(errs))
    }
}

fn not_found(what: &'static str) -> impl Fn(StoreError) -> AppError {
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
    match store.orgunit(code).await {
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
    match store.institution(code).await {
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
pub async fn create_orgunit(store: &Store, u: OrgUnit) -> Result<Stored<OrgUnit>, AppError> {
    check_orgunit_refs(store, &u).await?;
    if store.orgunit(&u.code).await.is_ok() {
        return Err(AppError::Conflict(FieldError::new(
            "code",
            format!("org unit {} exists", u.code),
        )));
    }
    let ids = store.insert_orgunits(std::slice::from_ref(&u)).await?;
    Ok(Stored {
        id: ids.first().copied().unwrap_or_default(),
        record: u,
    })
}

/// Replaces the org unit with `code`; the code itself may not change.
pub async fn update_orgunit(
    store: &Store,
    code: &str,
    u: OrgUnit,
) -> Result<Stored<OrgUnit>, AppError> {
    let old = store.orgunit(code).await.map_err(not_found("org unit"))?;
    if u.code != code {
        return Err(AppError::invalid(
            "code",
            format!("cannot change from {code} to {}", u.code),
        ));
    }
    check_orgunit_refs(store, &u).await?;
    store.update_orgunit(old.id, &u).await?;
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
    i: Institution,
) -> Result<Stored<Institution>, AppError> {
    if i.group_code.as_deref() == Some(i.code.as_str()) {
        return Err(AppError::invalid(
            "group_code",
            "an institution cannot lead a group through itself before it exists",
        ));
    }
    check_institution_refs(store, &i).await?;
    if store.institution(&i.code).await.is_ok() {
        return Err(AppError::Conflict(FieldError::new(
            "code",
            format!("institution {} exists", i.code),
        )));
    }
    let ids = store.insert_institutions(std::slice::from_ref(&i)).await?;
    Ok(Stored {
        id: ids.first().copied().unwrap_or_default(),
        record: i,
    })
}

/// Replaces the institution with `code`; the code itself may not change.
pub async fn update_institution(
    store: &Store,
    code: &str,
    i: Institution,
) -> Result<Stored<Institution>, AppError> {
    let old = store
        .institution(code)
        .await
        .map_err(not_found("institution"))?;
    if i.code != code {
        return Err(AppError::invalid(
            "code",
            format!("cannot change from {code} to {}", i.code),
        ));
    }
    check_institution_refs(store, &i).await?;
    store.update_institution(old.id, &i).await?;
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
        Some(e) => Err(AppError::Conflict(FieldError::new(
            "id_number",
            format!(
                "{id_type} {} is already registered (record {})",
                mask_id_number(number),
                e.stored.id
            ),
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
    mut p: Practitioner,
) -> Result<Stored<Practitioner>, AppError> {
    p.id_number = hc_core::idcard::normalize(&p.id_number);
    check_practitioner(store, &p, None).await?;
    let ids = store.insert_practitioners(std::slice::from_ref(&p)).await?;
    Ok(Stored {
        id: ids.first().copied().unwrap_or_default(),
        record: p,
    })
}

/// Replaces the practitioner with `id`.
pub async fn update_practitioner(
    store: &Store,
    id: i64,
    mut p: Practitioner,
) -> Result<Stored<Practitioner>, AppError> {
    store
        .practitioner(id)
        .await
        .map_err(not_found("practitioner"))?;
    p.id_number = hc_core::idcard::normalize(&p.id_number);
    check_practitioner(store, &p, Some(id)).await?;
    store.update_practitioner(id, &p).await?;
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

/// Registers a resident in the master person index: one person, one record.
pub async fn create_resident(store: &Store, mut r: Resident) -> Result<Stored<Resident>, AppError> {
    r.id_number = hc_core::idcard::normalize(&r.id_number);
    check_resident(store, &r, None).await?;
    let ids = store.insert_residents(std::slice::from_ref(&r)).await?;
    Ok(Stored {
        id: ids.first().copied().unwrap_or_default(),
        record: r,
    })
}

/// Replaces the resident with `id`.
pub async fn update_resident(
    store: &Store,
    id: i64,
    mut r: Resident,
) -> Result<Stored<Resident>, AppError> {
    store.resident(id).await.map_err(not_found("resident"))?;
    r.id_number = hc_core::idcard::normalize(&r.id_number);
    check_resident(store, &r, Some(id)).await?;
    store.update_resident(id, &r).await?;
    Ok(Stored { id, record: r })
}

/// The residents holding an identity number (normalised first).
pub async fn find_residents(
    store: &Store,
    number: &str,
) -> Result<Vec<Stored<Resident>>, AppError> {
    Ok(store
        .residents_by_identity(&hc_core::idcard::normalize(number))
        .await?)
}

/// Reads one org unit.
pub async fn orgunit(store: &Store, code: &str) -> Result<Stored<OrgUnit>, AppError> {
    store.orgunit(code).await.map_err(not_found("org unit"))
}

/// Reads one institution.
pub async fn institution(store: &Store, code: &str) -> Result<Stored<Institution>, AppError> {
    store
        .institution(code)
        .await
        .map_err(not_found("institution"))
}

/// Reads one practitioner.
pub async fn practitioner(store: &Store, id: i64) -> Result<Stored<Practitioner>, AppError> {
    store
        .practitioner(id)
        .await
        .map_err(not_found("practitioner"))
}

/// Reads one resident.
pub async fn resident(store: &Store, id: i64) -> Result<Stored<Resident>, AppError> {
    store.resident(id).await.map_err(not_found("resident"))
}
