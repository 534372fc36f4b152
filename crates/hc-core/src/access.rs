//! Who may do what, and over which part of the city: roles, permissions, scopes, masking of
//! personal identifiers, and the security policy (password rules, lockout, timeouts).
//!
//! Everything here is a pure rule. The store applies a [`Scope`] in its SQL; the application
//! layer asks [`Role::can`] before it acts; the web layer only renders the answers.

use serde::{Deserialize, Serialize};

use crate::validate::subtree_prefix;

/// The roles of the platform. Codes are part of the CLI and API contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// System administrator: accounts, tokens, the registry's structure. Cannot read the
    /// audit trail (separation of duties, 三权分立).
    Admin,
    /// City health commission: the whole city, identifiers masked.
    Commission,
    /// District health bureau: its district, identifiers masked.
    DistrictBureau,
    /// CDC analyst: case investigation needs full identity within scope.
    CdcAnalyst,
    /// Staff of a hospital or 社康.
    InstitutionStaff,
    /// Family doctor (家庭医生) of a 社康.
    FamilyDoctor,
    /// Health supervision inspector: institutions and practitioners, residents masked.
    Inspector,
    /// Security auditor: reads and reviews the audit trail, nothing else.
    Auditor,
    /// A resident: their own record and who looked at it.
    Resident,
}

/// Something an account may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read org units, institutions and practitioners (and aggregate counts).
    ViewRegistry,
    /// Create or change org units.
    EditOrgUnits,
    /// Create or change institutions and practitioners.
    EditInstitutions,
    /// Search and list residents (masked).
    ViewResidents,
    /// Open a resident's full record: identity number, phone and birth date in clear (audited).
    ViewIdentity,
    /// Create or change residents.
    EditResidents,
    /// Download lists (audited as exports).
    Export,
    /// Bulk-load CSV files (a system task; what is loaded is audited).
    Import,
    /// Open a record outside one's scope for an emergency, with a stated reason.
    BreakGlass,
    /// Manage accounts and API tokens.
    ManageAccounts,
    /// Query the audit trail.
    ReadAudit,
    /// Mark flagged audit events as reviewed.
    ReviewAudit,
    /// See one's own record, its access log, and export it (PIPL art. 45).
    OwnRecord,
    /// Read residents' primary care: contracts, programs, follow-ups, worklists (audited).
    ViewCare,
    /// Record primary care: contracts, diagnoses, follow-ups, checks, services.
    RecordCare,
    /// Read the primary-care indicators (aggregates; drilling down to residents also needs
    /// [`Permission::ViewResidents`] and is audited).
    ViewIndicators,
    /// Send surveillance feed records (visits, cases, pharmacy sales, absenteeism, lab
    /// results) for the institutions in scope.
    ReportSurveillance,
    /// Read surveillance counts, signals, events and their line lists (no identities).
    ViewSurveillance,
    /// Assign, verify and close signals and events, and note on them.
    VerifySignals,
    /// Configure the webhooks that surveillance notifications are sent to.
    ManageWebhooks,
    /// Run the detection over the stored counts and list the signals it raised (the daily
    /// job; aggregates only, no line lists).
    RunDetection,
}

impl Role {
    /// Every role, in the order menus list them.
    pub const ALL: [Role; 9] = [
        Role::Admin,
        Role::Commission,
        Role::DistrictBureau,
        Role::CdcAnalyst,
        Role::InstitutionStaff,
        Role::FamilyDoctor,
        Role::Inspector,
        Role::Auditor,
        Role::Resident,
    ];

    /// The role's code.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Commission => "commission",
            Role::DistrictBureau => "district_bureau",
            Role::CdcAnalyst => "cdc_analyst",
            Role::InstitutionStaff => "institution_staff",
            Role::FamilyDoctor => "family_doctor",
            Role::Inspector => "inspector",
            Role::Auditor => "auditor",
            Role::Resident => "resident",
        }
    }

    /// The role with code `code`.
    pub fn parse(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == code)
    }

    /// The accepted codes, `|`-separated, for error messages.
    pub fn expected() -> String {
        Role::ALL.map(Role::as_str).join("|")
    }

    /// Whether the role has `p`. This table is the whole access policy of the platform.
    pub fn can(self, p: Permission) -> bool {
        use Permission as P;
        use Role as R;
        match p {
            P::ViewRegistry => !matches!(self, R::Auditor | R::Resident),
            P::EditOrgUnits => matches!(self, R::Admin),
            P::EditInstitutions => matches!(self, R::Admin | R::Commission | R::DistrictBureau),
            P::ViewResidents => matches!(
                self,
                R::Commission
                    | R::DistrictBureau
                    | R::CdcAnalyst
                    | R::InstitutionStaff
                    | R::FamilyDoctor
                    | R::Inspector
            ),
            P::ViewIdentity => {
                matches!(self, R::CdcAnalyst | R::InstitutionStaff | R::FamilyDoctor)
            }
            P::EditResidents => matches!(self, R::InstitutionStaff | R::FamilyDoctor),
            P::Export => matches!(self, R::Commission | R::DistrictBureau | R::CdcAnalyst),
            P::Import => matches!(self, R::Admin),
            P::BreakGlass => matches!(self, R::InstitutionStaff | R::FamilyDoctor),
            P::ManageAccounts => matches!(self, R::Admin),
            P::ReadAudit | P::ReviewAudit => matches!(self, R::Auditor),
            P::OwnRecord => matches!(self, R::Resident),
            P::ViewCare | P::RecordCare => {
                matches!(self, R::InstitutionStaff | R::FamilyDoctor)
            }
            P::ViewIndicators => matches!(
                self,
                R::Admin
                    | R::Commission
                    | R::DistrictBureau
                    | R::CdcAnalyst
                    | R::InstitutionStaff
                    | R::FamilyDoctor
                    | R::Inspector
            ),
            P::ReportSurveillance => {
                matches!(self, R::Admin | R::CdcAnalyst | R::InstitutionStaff)
            }
            P::ViewSurveillance => {
                matches!(self, R::Commission | R::DistrictBureau | R::CdcAnalyst)
            }
            P::VerifySignals => matches!(self, R::CdcAnalyst),
            P::ManageWebhooks => matches!(self, R::Admin),
            P::RunDetection => matches!(self, R::Admin | R::CdcAnalyst),
        }
    }

    /// Whether accounts of this role must be limited to part of the city. A role that reads
    /// residents at street level or below cannot be city-wide by accident.
    pub fn needs_scope(self) -> bool {
        matches!(
            self,
            Role::DistrictBureau | Role::InstitutionStaff | Role::FamilyDoctor
        )
    }
}

/// The part of the city an account may see. An empty scope is the whole city.
///
/// * `orgunit`: the subtree of this org-unit code (a district sees only its district);
/// * `institution`: only this institution and its practitioners;
/// * `resident`: only this resident's own record (resident accounts);
/// * `practitioner`: the account is this practitioner's, and sees only the family-doctor
///   teams they belong to (and those teams' worklists).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// Root of the visible org-unit subtree.
    pub orgunit: Option<String>,
    /// The one visible institution.
    pub institution: Option<String>,
    /// The one visible resident.
    pub resident: Option<i64>,
    /// The practitioner the account acts as.
    #[serde(default)]
    pub practitioner: Option<i64>,
}

/// What a subtree filter becomes once intersected with a scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subtree {
    /// No subtree restriction.
    All,
    /// Codes starting with this prefix.
    Prefix(String),
    /// The filter and the scope do not meet: nothing is visible.
    Empty,
}

impl Scope {
    /// The whole city.
    pub fn city() -> Scope {
        Scope::default()
    }

    /// Whether nothing limits this scope.
    pub fn is_city(&self) -> bool {
        self.orgunit.is_none()
            && self.institution.is_none()
            && self.resident.is_none()
            && self.practitioner.is_none()
    }

    /// The code prefix of the subtree this scope allows, if limited.
    pub fn prefix(&self) -> Option<&str> {
        self.orgunit.as_deref().map(subtree_prefix)
    }

    /// The subtree left of filter `under` (an org-unit code) within this scope: the narrower
    /// of the two when one contains the other, [`Subtree::Empty`] when they are disjoint.
    pub fn narrow(&self, under: Option<&str>) -> Subtree {
        let filter = under.map(subtree_prefix);
        match (self.prefix(), filter) {
            (None, None) => Subtree::All,
            (Some(p), None) | (None, Some(p)) => Subtree::Prefix(p.to_owned()),
            (Some(s), Some(f)) if f.starts_with(s) => Subtree::Prefix(f.to_owned()),
            (Some(s), Some(f)) if s.starts_with(f) => Subtree::Prefix(s.to_owned()),
            _ => Subtree::Empty,
        }
    }

    /// Whether org-unit `code` (a community, say) lies inside this scope's subtree.
    pub fn contains_unit(&self, code: &str) -> bool {
        self.prefix().is_none_or(|p| code.starts_with(p))
    }
}

/// Who is acting: a signed-in account or an API token, with its role and scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// The account id (for API tokens, `None`).
    pub user_id: Option<i64>,
    /// The token id (for accounts, `None`).
    pub token_id: Option<i64>,
    /// Username, or `token:NAME`.
    pub name: String,
    /// Name shown in the UI.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// What the principal may see.
    pub scope: Scope,
    /// The password was set by someone else and must be changed before anything else.
    pub must_change_password: bool,
}

impl Principal {
    /// Whether the principal has `p`.
    pub fn can(&self, p: Permission) -> bool {
        self.role.can(p)
    }

    /// `user` or `token`, as the audit trail records the kind of actor.
    pub fn kind(&self) -> &'static str {
        if self.token_id.is_some() {
            "token"
        } else {
            "user"
        }
    }
}

/// Masks a personal name for lists: the first and last characters stay, the middle ones
/// become `*` (`张*明`, `欧**华`); a two-character name keeps its first (`李*`).
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".to_owned(),
        2 => format!("{}*", chars[0]),
        n => {
            let mut out = String::with_capacity(name.len());
            out.push(chars[0]);
            out.extend(std::iter::repeat_n('*', n - 2));
            out.push(chars[n - 1]);
            out
        }
    }
}

/// Which password rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordProfile {
    /// 等保 2.0 level 3 as assessors check it: at least 8 characters of at least three of the
    /// four classes (upper, lower, digit, symbol), changed every 90 days.
    Dengbao,
    /// OWASP ASVS 5: at least 12 characters, no composition rules, no forced rotation.
    Asvs,
}

impl PasswordProfile {
    /// The profile with code `code` (`dengbao` or `asvs`).
    pub fn parse(code: &str) -> Option<PasswordProfile> {
        match code {
            "dengbao" => Some(PasswordProfile::Dengbao),
            "asvs" => Some(PasswordProfile::Asvs),
            _ => None,
        }
    }
}

/// The account security settings. Defaults follow the 等保 2.0 level-3 profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityPolicy {
    /// Password rules.
    pub password_profile: PasswordProfile,
    /// Failed logins in a row that lock an account.
    pub lockout_attempts: u32,
    /// How long a locked account stays locked.
    pub lockout_minutes: u32,
    /// A session unused this long ends.
    pub idle_minutes: u32,
    /// A session ends this long after login, used or not.
    pub absolute_hours: u32,
    /// Administrators need a TOTP code besides their password.
    pub totp_for_admins: bool,
    /// How long a break-the-glass grant lasts.
    pub break_glass_minutes: u32,
}

impl Default for SecurityPolicy {
    fn default() -> Self {
        SecurityPolicy {
            password_profile: PasswordProfile::Dengbao,
            lockout_attempts: 5,
            lockout_minutes: 30,
            idle_minutes: 30,
            absolute_hours: 12,
            totp_for_admins: true,
            break_glass_minutes: 240,
        }
    }
}

/// Longest password accepted (Argon2 has no limit, but a megabyte of password is an attack).
pub const MAX_PASSWORD_CHARS: usize = 128;

/// A few of the passwords every guessing list starts with; refused under every profile.
const COMMON_PASSWORDS: [&str; 16] = [
    "password",
    "password1",
    "passw0rd",
    "12345678",
    "123456789",
    "1234567890",
    "11111111",
    "88888888",
    "qwertyui",
    "qwerty123",
    "iloveyou",
    "admin123",
    "abc12345",
    "a1234567",
    "woaini1314",
    "p@ssw0rd",
];

impl SecurityPolicy {
    /// Why `password` may not be used by account `username`, or `None` when it may.
    pub fn password_problem(&self, username: &str, password: &str) -> Option<String> {
        let n = password.chars().count();
        let min = match self.password_profile {
            PasswordProfile::Dengbao => 8,
            PasswordProfile::Asvs => 12,
        };
        if n < min {
            return Some(format!("must be at least {min} characters"));
        }
        if n > MAX_PASSWORD_CHARS {
            return Some(format!("must be at most {MAX_PASSWORD_CHARS} characters"));
        }
        let lower = password.to_lowercase();
        if COMMON_PASSWORDS.contains(&lower.as_str()) {
            return Some("is one of the most common passwords".to_owned());
        }
        if !username.is_empty() && lower.contains(&username.to_lowercase()) {
            return Some("must not contain the username".to_owned());
        }
        if self.password_profile == PasswordProfile::Dengbao {
            let classes = [
                password.chars().any(|c| c.is_uppercase()),
                password.chars().any(|c| c.is_lowercase()),
                password.chars().any(|c| c.is_ascii_digit()),
                password.chars().any(|c| !c.is_alphanumeric()),
            ];
            if classes.iter().filter(|b| **b).count() < 3 {
                return Some(
                    "must mix at least three of: upper-case, lower-case, digits, symbols"
                        .to_owned(),
                );
            }
        }
        None
    }

    /// Days after which a password must be changed, if the profile rotates them.
    pub fn password_max_age_days(&self) -> Option<u32> {
        match self.password_profile {
            PasswordProfile::Dengbao => Some(90),
            PasswordProfile::Asvs => None,
        }
    }

    /// Whether an account of `role` must give a TOTP code.
    pub fn needs_totp(&self, role: Role) -> bool {
        self.totp_for_admins && role == Role::Admin
    }

    /// Whether a session opened at `created` and last used at `last_seen` is still alive.
    pub fn session_alive(&self, created: i64, last_seen: i64, now: i64) -> bool {
        now - last_seen < i64::from(self.idle_minutes) * 60
            && now - created < i64::from(self.absolute_hours) * 3600
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_codes_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
        assert!(Role::expected().starts_with("admin|commission|district_bureau"));
    }

    #[test]
    fn duties_are_separated() {
        // The administrator runs the system but neither reads identities nor the audit trail;
        // the auditor reads the audit trail and nothing else.
        assert!(Role::Admin.can(Permission::ManageAccounts));
        assert!(!Role::Admin.can(Permission::ViewIdentity));
        assert!(!Role::Admin.can(Permission::ReadAudit));
        assert!(Role::Auditor.can(Permission::ReadAudit));
        assert!(!Role::Auditor.can(Permission::ViewResidents));
        assert!(!Role::Auditor.can(Permission::ViewRegistry));
        assert!(Role::Resident.can(Permission::OwnRecord));
        assert!(!Role::Resident.can(Permission::ViewResidents));
        assert!(!Role::Commission.can(Permission::ViewIdentity));
        assert!(Role::FamilyDoctor.can(Permission::ViewIdentity));
        assert!(Role::FamilyDoctor.can(Permission::BreakGlass));
        assert!(!Role::CdcAnalyst.can(Permission::BreakGlass));
    }

    #[test]
    fn scopes_narrow_subtree_filters() {
        let district = Scope {
            orgunit: Some("440305".into()),
            ..Scope::default()
        };
        assert_eq!(district.narrow(None), Subtree::Prefix("440305".into()));
        // Asking for the whole city gives the district; asking for a street in it, the street.
        assert_eq!(
            district.narrow(Some("440300")),
            Subtree::Prefix("440305".into())
        );
        assert_eq!(
            district.narrow(Some("440305001")),
            Subtree::Prefix("440305001".into())
        );
        assert_eq!(district.narrow(Some("440306")), Subtree::Empty);
        assert_eq!(Scope::city().narrow(None), Subtree::All);
        assert_eq!(
            Scope::city().narrow(Some("440300")),
            Subtree::Prefix("4403".into())
        );
        assert!(district.contains_unit("440305001002"));
        assert!(!district.contains_unit("440306001002"));
        assert!(Scope::city().contains_unit("x"));
    }

    #[test]
    fn names_are_masked_in_the_middle() {
        assert_eq!(mask_name("张三明"), "张*明");
        assert_eq!(mask_name("欧阳建华"), "欧**华");
        assert_eq!(mask_name("李四"), "李*");
        assert_eq!(mask_name("X"), "*");
        assert_eq!(mask_name(""), "");
        assert_eq!(mask_name("John Smith"), "J********h");
    }

    #[test]
    fn password_rules_follow_the_profile() {
        let dengbao = SecurityPolicy::default();
        assert!(dengbao.password_problem("wang", "Short1!").is_some());
        assert!(dengbao.password_problem("wang", "alllowercase").is_some());
        assert!(dengbao.password_problem("wang", "Wang2026!x").is_some());
        assert!(dengbao.password_problem("wang", "P@ssw0rd").is_some());
        assert_eq!(dengbao.password_problem("wang", "Health-City9"), None);
        assert_eq!(dengbao.password_max_age_days(), Some(90));

        let asvs = SecurityPolicy {
            password_profile: PasswordProfile::Asvs,
            ..SecurityPolicy::default()
        };
        assert!(asvs.password_problem("wang", "Health-Cty9").is_some());
        assert_eq!(asvs.password_problem("wang", "correct horse battery"), None);
        assert_eq!(asvs.password_max_age_days(), None);
        assert!(
            asvs.password_problem("wang", &"x".repeat(MAX_PASSWORD_CHARS + 1))
                .is_some()
        );
    }

    #[test]
    fn sessions_end_when_idle_or_old() {
        let p = SecurityPolicy::default();
        assert!(p.session_alive(0, 0, 29 * 60));
        assert!(!p.session_alive(0, 0, 30 * 60));
        assert!(p.session_alive(0, 11 * 3600, 11 * 3600 + 60));
        assert!(!p.session_alive(0, 12 * 3600 - 1, 12 * 3600));
        assert!(p.needs_totp(Role::Admin));
        assert!(!p.needs_totp(Role::FamilyDoctor));
    }
}
