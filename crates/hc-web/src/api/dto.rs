//! JSON shapes of the API. Inputs refuse unknown fields; coded values are strings checked
//! against `hc-core`'s codes so an error names the field and the accepted values.

use chrono::NaiveDate;
use hc_core::model::*;
use hc_core::validate::FieldError;
use hc_store::{Paged, Stored, UnitCounts};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

fn coded<T>(
    errs: &mut Vec<FieldError>,
    field: &str,
    v: &str,
    parse: fn(&str) -> Option<T>,
    expected: fn() -> String,
) -> Option<T> {
    let parsed = parse(v);
    if parsed.is_none() {
        errs.push(FieldError::new(
            field,
            format!("unknown value {v:?}; expected {}", expected()),
        ));
    }
    parsed
}

fn done<T>(errs: Vec<FieldError>, v: Option<T>) -> Result<T, hc_app::AppError> {
    match v {
        Some(v) if errs.is_empty() => Ok(v),
        _ => Err(hc_app::AppError::Invalid(errs)),
    }
}

/// A page of items and the cursor of the next page.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items, in id order.
    pub items: Vec<T>,
    /// Opaque cursor: pass it as `after` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

impl<T> Page<T> {
    pub(crate) fn from_paged<R>(p: Paged<R>, f: impl Fn(Stored<R>) -> T) -> Self {
        Page {
            items: p.items.into_iter().map(f).collect(),
            next: p.next.map(|n| n.to_string()),
        }
    }
}

// -- org units ----------------------------------------------------------------------------------

/// An administrative unit to create or replace.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgUnitInput {
    /// GB/T 2260 code (city, district: 6 digits) or NBS code (street: 9, community: 12 digits).
    #[schema(example = "440305")]
    pub code: String,
    /// Official name.
    #[schema(example = "南山区")]
    pub name: String,
    /// Code of the unit one level up (a city's province need not be registered).
    pub parent_code: Option<String>,
    /// `city`, `district`, `street` or `community`.
    #[schema(example = "district")]
    pub level: String,
    /// First day in force.
    pub valid_from: Option<NaiveDate>,
    /// Last day in force (inclusive).
    pub valid_to: Option<NaiveDate>,
}

impl OrgUnitInput {
    pub(crate) fn into_domain(self) -> Result<OrgUnit, hc_app::AppError> {
        let mut e = Vec::new();
        let level = coded(
            &mut e,
            "level",
            &self.level,
            OrgLevel::parse,
            OrgLevel::expected,
        );
        let u = level.map(|level| OrgUnit {
            code: self.code.trim().to_owned(),
            name: self.name.trim().to_owned(),
            parent_code: self
                .parent_code
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty()),
            level,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
        });
        done(e, u)
    }
}

/// A stored administrative unit.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgUnitOut {
    /// Surrogate id.
    pub id: i64,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Parent's code.
    pub parent_code: Option<String>,
    /// Level code.
    pub level: String,
    /// First day in force.
    pub valid_from: Option<NaiveDate>,
    /// Last day in force.
    pub valid_to: Option<NaiveDate>,
}

impl From<Stored<OrgUnit>> for OrgUnitOut {
    fn from(s: Stored<OrgUnit>) -> Self {
        let u = s.record;
        OrgUnitOut {
            id: s.id,
            code: u.code,
            name: u.name,
            parent_code: u.parent_code,
            level: u.level.as_str().into(),
            valid_from: u.valid_from,
            valid_to: u.valid_to,
        }
    }
}

/// A child unit with what lies under it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitCountsOut {
    /// The unit.
    pub unit: OrgUnitOut,
    /// Residents in its subtree.
    pub residents: i64,
    /// Institutions in its subtree.
    pub institutions: i64,
    /// Beds of those institutions.
    pub beds: i64,
}

impl From<UnitCounts> for UnitCountsOut {
    fn from(c: UnitCounts) -> Self {
        UnitCountsOut {
            unit: c.unit.into(),
            residents: c.residents,
            institutions: c.institutions,
            beds: c.beds,
        }
    }
}

// -- institutions -------------------------------------------------------------------------------

/// An institution to create or replace.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstitutionInput {
    /// Organisation code (natural key).
    #[schema(example = "H440305001")]
    pub code: String,
    /// Registered name.
    #[schema(example = "深圳市南山区人民医院")]
    pub name: String,
    /// `hospital`, `chc` (社康中心), `chs` (社康站), `cdc`, `mch`, `pharmacy`, `school`,
    /// `kindergarten`, `nursing_home` or `clinic`.
    #[schema(example = "hospital")]
    pub kind: String,
    /// Hospitals only: `3a` (三级甲等), `3b` (三级乙等), `2` (二级), `1` (一级).
    pub grade: Option<String>,
    /// Community (12-digit code) where it is located.
    #[schema(example = "440305001001")]
    pub community_code: String,
    /// Code of the institution leading its medical group.
    pub group_code: Option<String>,
    /// Practising licence number.
    pub licence_no: Option<String>,
    /// `valid` (default), `suspended`, `revoked` or `expired`.
    pub licence_status: Option<String>,
    /// Approved beds.
    #[serde(default)]
    pub beds: u32,
    /// Negative-pressure isolation rooms.
    #[serde(default)]
    pub negative_pressure_rooms: u32,
    /// Runs a fever clinic.
    #[serde(default)]
    pub fever_clinic: bool,
}

impl InstitutionInput {
    pub(crate) fn into_domain(self) -> Result<Institution, hc_app::AppError> {
        let mut e = Vec::new();
        let kind = coded(
            &mut e,
            "kind",
            &self.kind,
            InstitutionKind::parse,
            InstitutionKind::expected,
        );
        let grade = self.grade.as_deref().and_then(|g| {
            coded(
                &mut e,
                "grade",
                g,
                HospitalGrade::parse,
                HospitalGrade::expected,
            )
        });
        let status = match self.licence_status.as_deref() {
            None => Some(LicenceStatus::Valid),
            Some(s) => coded(
                &mut e,
                "licence_status",
                s,
                LicenceStatus::parse,
                LicenceStatus::expected,
            ),
        };
        let i = kind.zip(status).map(|(kind, licence_status)| Institution {
            code: self.code.trim().to_owned(),
            name: self.name.trim().to_owned(),
            kind,
            grade,
            community_code: self.community_code.trim().to_owned(),
            group_code: self.group_code.filter(|g| !g.trim().is_empty()),
            licence_no: self.licence_no.filter(|l| !l.trim().is_empty()),
            licence_status,
            beds: self.beds,
            negative_pressure_rooms: self.negative_pressure_rooms,
            fever_clinic: self.fever_clinic,
        });
        done(e, i)
    }
}

/// A stored institution.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstitutionOut {
    /// Surrogate id.
    pub id: i64,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Kind code.
    pub kind: String,
    /// Grade code (hospitals).
    pub grade: Option<String>,
    /// Community code.
    pub community_code: String,
    /// Group lead's code.
    pub group_code: Option<String>,
    /// Licence number.
    pub licence_no: Option<String>,
    /// Licence status code.
    pub licence_status: String,
    /// Beds.
    pub beds: u32,
    /// Negative-pressure rooms.
    pub negative_pressure_rooms: u32,
    /// Fever clinic.
    pub fever_clinic: bool,
}

impl From<Stored<Institution>> for InstitutionOut {
    fn from(s: Stored<Institution>) -> Self {
        let i = s.record;
        InstitutionOut {
            id: s.id,
            code: i.code,
            name: i.name,
            kind: i.kind.as_str().into(),
            grade: i.grade.map(|g| g.as_str().into()),
            community_code: i.community_code,
            group_code: i.group_code,
            licence_no: i.licence_no,
            licence_status: i.licence_status.as_str().into(),
            beds: i.beds,
            negative_pressure_rooms: i.negative_pressure_rooms,
            fever_clinic: i.fever_clinic,
        }
    }
}

// -- practitioners ------------------------------------------------------------------------------

/// A practitioner to create or replace.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PractitionerInput {
    /// `resident_id`, `passport`, `hk_macao_permit` or `taiwan_permit`.
    #[schema(example = "resident_id")]
    pub id_type: String,
    /// Identity document number (a `resident_id` is checked by GB 11643).
    #[schema(example = "11010519491231002X")]
    pub id_number: String,
    /// Name.
    pub name: String,
    /// `gp`, `specialist`, `nurse`, `public_health` or `pharmacist`.
    #[schema(example = "gp")]
    pub kind: String,
    /// Institution of practice.
    pub institution_code: String,
    /// Practising certificate number.
    pub licence_no: Option<String>,
}

impl PractitionerInput {
    pub(crate) fn into_domain(self) -> Result<Practitioner, hc_app::AppError> {
        let mut e = Vec::new();
        let id_type = coded(
            &mut e,
            "id_type",
            &self.id_type,
            IdType::parse,
            IdType::expected,
        );
        let kind = coded(
            &mut e,
            "kind",
            &self.kind,
            PractitionerKind::parse,
            PractitionerKind::expected,
        );
        let p = id_type.zip(kind).map(|(id_type, kind)| Practitioner {
            id_type,
            id_number: hc_core::idcard::normalize(&self.id_number),
            name: self.name.trim().to_owned(),
            kind,
            institution_code: self.institution_code.trim().to_owned(),
            licence_no: self.licence_no.filter(|l| !l.trim().is_empty()),
        });
        done(e, p)
    }
}

/// A stored practitioner; the identity number is masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct PractitionerOut {
    /// Surrogate id.
    pub id: i64,
    /// Identity document type.
    pub id_type: String,
    /// Identity number, masked.
    pub id_number: String,
    /// Name.
    pub name: String,
    /// Kind code.
    pub kind: String,
    /// Institution code.
    pub institution_code: String,
    /// Licence number.
    pub licence_no: Option<String>,
}

impl PractitionerOut {
    pub(crate) fn new(s: Stored<Practitioner>, unmask: bool) -> Self {
        let p = s.record;
        PractitionerOut {
            id: s.id,
            id_type: p.id_type.as_str().into(),
            id_number: if unmask {
                p.id_number
            } else {
                mask_id_number(&p.id_number)
            },
            name: p.name,
            kind: p.kind.as_str().into(),
            institution_code: p.institution_code,
            licence_no: p.licence_no,
        }
    }
}

// -- residents ----------------------------------------------------------------------------------

/// A resident to create or replace.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResidentInput {
    /// `resident_id`, `passport`, `hk_macao_permit` or `taiwan_permit`.
    #[schema(example = "resident_id")]
    pub id_type: String,
    /// Identity document number; a `resident_id` must pass GB 11643 and agree with sex and birth date.
    #[schema(example = "11010519491231002X")]
    pub id_number: String,
    /// Name.
    #[schema(example = "王芳")]
    pub name: String,
    /// `M` or `F`; taken from a `resident_id` number when absent.
    pub sex: Option<String>,
    /// Date of birth; taken from a `resident_id` number when absent.
    pub birth_date: Option<NaiveDate>,
    /// Contact phone.
    pub phone: Option<String>,
    /// Community of residence (12-digit code).
    #[schema(example = "440305001001")]
    pub community_code: String,
    /// `registered` (户籍) or `resident` (常住, the default).
    pub residence: Option<String>,
}

impl ResidentInput {
    /// Parsed by the same rules as a CSV row, so both paths derive and check alike.
    pub(crate) fn into_domain(self, today: NaiveDate) -> Result<Resident, hc_app::AppError> {
        let birth = self.birth_date.map(|d| d.format("%Y-%m-%d").to_string());
        let fields: [(&str, &str); 8] = [
            ("id_type", &self.id_type),
            ("id_number", &self.id_number),
            ("name", &self.name),
            ("sex", self.sex.as_deref().unwrap_or("")),
            ("birth_date", birth.as_deref().unwrap_or("")),
            ("phone", self.phone.as_deref().unwrap_or("")),
            ("community_code", &self.community_code),
            ("residence", self.residence.as_deref().unwrap_or("")),
        ];
        hc_core::validate::parse_resident(fields.as_slice(), today)
            .map_err(hc_app::AppError::Invalid)
    }
}

/// A stored resident; in lists, name, identity number and phone are masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResidentOut {
    /// Surrogate id.
    pub id: i64,
    /// Identity document type.
    pub id_type: String,
    /// Identity number (masked: `440303********123X`).
    pub id_number: String,
    /// Name (masked: `张*明`).
    pub name: String,
    /// `M` or `F`.
    pub sex: String,
    /// Year of birth.
    pub birth_year: i32,
    /// Date of birth; only in a full record, since with the visible digits of a masked
    /// identity number it would give the whole number away.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<NaiveDate>,
    /// Phone, masked likewise.
    pub phone: Option<String>,
    /// Community code.
    pub community_code: String,
    /// `registered` or `resident`.
    pub residence: String,
}

impl ResidentOut {
    pub(crate) fn new(s: Stored<Resident>, unmask: bool) -> Self {
        let r = s.record;
        ResidentOut {
            id: s.id,
            id_type: r.id_type.as_str().into(),
            id_number: if unmask {
                r.id_number
            } else {
                mask_id_number(&r.id_number)
            },
            name: if unmask {
                r.name
            } else {
                hc_core::access::mask_name(&r.name)
            },
            sex: r.sex.as_str().into(),
            birth_year: chrono::Datelike::year(&r.birth_date),
            birth_date: unmask.then_some(r.birth_date),
            phone: r.phone.map(|p| if unmask { p } else { mask_phone(&p) }),
            community_code: r.community_code,
            residence: r.residence.as_str().into(),
        }
    }
}

// -- auth and import ----------------------------------------------------------------------------

/// Credentials.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    /// Login name.
    #[schema(max_length = 64)]
    pub username: String,
    /// Password.
    #[schema(max_length = 128)]
    pub password: String,
    /// TOTP code from the authenticator app (administrators).
    pub totp: Option<String>,
}

/// A password change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordInput {
    /// The current password.
    pub current: String,
    /// The new password.
    pub password: String,
}

/// A new account (administrators).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    /// Login name: 3-32 lower-case letters, digits, `.`, `_`, `-`.
    pub username: String,
    /// Display name.
    #[serde(default)]
    pub display_name: String,
    /// Role code: admin, commission, district_bureau, cdc_analyst, institution_staff,
    /// family_doctor, inspector, auditor, resident.
    pub role: String,
    /// Org-unit code whose subtree the account sees.
    pub scope_orgunit: Option<String>,
    /// Institution code the account works for.
    pub scope_institution: Option<String>,
    /// For resident accounts: the resident's id.
    pub resident_id: Option<i64>,
    /// For family doctors and institution staff: the practitioner (id, working at
    /// `scope_institution`) whose account it is; a family doctor then sees only that
    /// practitioner's teams.
    #[serde(default)]
    pub practitioner_id: Option<i64>,
}

/// A created account; the one-time password is shown only here.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserCreatedOut {
    /// Account id.
    pub id: i64,
    /// Password to give the person; it must be changed at the first login.
    pub one_time_password: Option<String>,
    /// TOTP enrolment URI (administrators).
    pub totp_uri: Option<String>,
}

/// A stored account.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountOut {
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role code.
    pub role: String,
    /// Scope in words (`city`, `orgunit 440305`, …).
    pub scope: String,
    /// Disabled.
    pub disabled: bool,
    /// Locked after failed logins until this time (RFC 3339), if locked.
    pub locked_until: Option<String>,
    /// Has a TOTP second factor.
    pub totp: bool,
    /// Last successful login (RFC 3339).
    pub last_login_at: Option<String>,
}

/// A new API token (administrators).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    /// Name: the system it is for.
    pub name: String,
    /// Role code.
    pub role: String,
    /// Org-unit code whose subtree it sees.
    pub scope_orgunit: Option<String>,
    /// Institution code it speaks for.
    pub scope_institution: Option<String>,
    /// Days until it expires (default 365).
    pub expires_days: Option<u32>,
}

/// A stored API token (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOut {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Role code.
    pub role: String,
    /// Org-unit scope.
    pub scope_orgunit: Option<String>,
    /// Institution scope.
    pub scope_institution: Option<String>,
    /// Creator.
    pub created_by: String,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Expires (RFC 3339).
    pub expires_at: Option<String>,
    /// Revoked (RFC 3339).
    pub revoked_at: Option<String>,
    /// Last used (RFC 3339).
    pub last_used_at: Option<String>,
}

/// A created API token: the secret is shown only here.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenCreatedOut {
    /// The bearer token.
    pub token: String,
    /// The stored token.
    pub info: TokenOut,
}

/// Break-the-glass request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassInput {
    /// The emergency, in at least 10 characters.
    pub reason: String,
}

/// A break-the-glass grant.
#[derive(Debug, Serialize, ToSchema)]
pub struct BreakGlassOut {
    /// Resident id.
    pub resident_id: i64,
    /// Access ends (RFC 3339).
    pub expires_at: String,
}

/// An auditor's review of a flagged event.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    /// What the review found.
    pub note: String,
}

/// One audit event.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditOut {
    /// Sequence number.
    pub id: i64,
    /// When (RFC 3339).
    pub at: String,
    /// Who: username, `token:NAME`, the name tried at a failed login, or `cli`.
    pub actor: String,
    /// `user`, `token`, `anonymous` or `system`.
    pub actor_kind: String,
    /// Role of the actor.
    pub role: Option<String>,
    /// What.
    pub action: String,
    /// On what kind of thing.
    pub entity: String,
    /// Which one.
    pub entity_id: Option<String>,
    /// The resident concerned.
    pub resident_id: Option<i64>,
    /// Purpose or reason given.
    pub purpose: Option<String>,
    /// Client address.
    pub client_addr: Option<String>,
    /// `ok`, `denied` or `failed`.
    pub outcome: String,
    /// Flagged for review.
    pub flagged: bool,
    /// Detail.
    pub detail: Option<String>,
    /// Reviewer, once reviewed.
    pub reviewed_by: Option<String>,
    /// Review note.
    pub review_note: Option<String>,
}

/// Epoch seconds as RFC 3339 in China Standard Time.
pub fn rfc3339(t: i64) -> String {
    let cst = chrono::FixedOffset::east_opt(8 * 3600);
    match (chrono::DateTime::from_timestamp(t, 0), cst) {
        (Some(d), Some(tz)) => d.with_timezone(&tz).to_rfc3339(),
        _ => t.to_string(),
    }
}

impl From<hc_store::AuditRow> for AuditOut {
    fn from(r: hc_store::AuditRow) -> Self {
        AuditOut {
            id: r.id,
            at: rfc3339(r.at),
            actor: r.actor,
            actor_kind: r.actor_kind,
            role: r.role,
            action: r.action,
            entity: r.entity,
            entity_id: r.entity_id,
            resident_id: r.resident_id,
            purpose: r.purpose,
            client_addr: r.client_addr,
            outcome: r.outcome,
            flagged: r.flagged,
            detail: r.detail,
            reviewed_by: r.reviewer,
            review_note: r.review_note,
        }
    }
}

impl From<hc_store::TokenRow> for TokenOut {
    fn from(t: hc_store::TokenRow) -> Self {
        TokenOut {
            id: t.id,
            name: t.name,
            role: t.role,
            scope_orgunit: t.scope_orgunit,
            scope_institution: t.scope_institution,
            created_by: t.created_by,
            created_at: rfc3339(t.created_at),
            expires_at: t.expires_at.map(rfc3339),
            revoked_at: t.revoked_at.map(rfc3339),
            last_used_at: t.last_used_at.map(rfc3339),
        }
    }
}

impl From<hc_store::UserRow> for AccountOut {
    fn from(u: hc_store::UserRow) -> Self {
        let now = chrono::Utc::now().timestamp();
        AccountOut {
            scope: hc_app::accounts::describe_scope(&hc_app::accounts::scope_of(&u)),
            username: u.username,
            display_name: u.display_name,
            role: u.role,
            disabled: u.disabled,
            locked_until: u.locked_until.filter(|t| *t > now).map(rfc3339),
            totp: u.totp_secret.is_some(),
            last_login_at: u.last_login_at.map(rfc3339),
        }
    }
}

/// A new session.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginOut {
    /// Bearer token: send `Authorization: Bearer <token>`.
    pub token: String,
    /// The account.
    pub user: UserOut,
}

/// The signed-in account or token.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    /// Login name (`token:NAME` for an API token).
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role code.
    pub role: String,
    /// Root of the visible org-unit subtree; absent for the whole city.
    pub scope_orgunit: Option<String>,
    /// The one visible institution.
    pub scope_institution: Option<String>,
    /// The password must be changed before anything else.
    pub must_change_password: bool,
}

impl From<hc_core::access::Principal> for UserOut {
    fn from(u: hc_core::access::Principal) -> Self {
        UserOut {
            username: u.name,
            display_name: u.display_name,
            role: u.role.as_str().to_owned(),
            scope_orgunit: u.scope.orgunit,
            scope_institution: u.scope.institution,
            must_change_password: u.must_change_password,
        }
    }
}

/// One rejected CSV row.
#[derive(Debug, Serialize, ToSchema)]
pub struct RejectionOut {
    /// Line of the file (the header is line 1).
    pub line: u64,
    /// Fields at fault.
    pub field: String,
    /// Why.
    pub reason: String,
}

/// The outcome of an import.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportOut {
    /// Import run id.
    pub import_id: i64,
    /// Data rows read.
    pub rows: u64,
    /// Rows accepted (inserted + updated + unchanged).
    pub accepted: u64,
    /// New records.
    pub inserted: u64,
    /// Changed records.
    pub updated: u64,
    /// Rows identical to the stored record.
    pub unchanged: u64,
    /// Rows rejected.
    pub rejected: u64,
    /// The first 1,000 rejections.
    pub rejections: Vec<RejectionOut>,
}
