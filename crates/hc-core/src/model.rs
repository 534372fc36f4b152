//! Registry records: org units, institutions, practitioners and residents.
//!
//! Each coded attribute is an enum whose wire form (CSV cell, JSON string, database text) is
//! the `snake_case` code returned by `as_str`; `parse` also accepts the Chinese labels that
//! appear in Chinese source data.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

macro_rules! coded_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $code:literal $(| $alias:literal)* ; zh $zh:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $code)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire code (CSV, JSON, database).
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// The Chinese label shown to users.
            pub fn label_zh(self) -> &'static str {
                match self { $($name::$variant => $zh),+ }
            }

            /// Parses a wire code, an alias or the Chinese label; `None` when it is none of them.
            pub fn parse(s: &str) -> Option<Self> {
                match s.trim() {
                    $( $code $(| $alias)* => Some($name::$variant), )+
                    other => Self::ALL.iter().copied().find(|v| v.label_zh() == other),
                }
            }

            /// The accepted codes, joined for an error message.
            pub fn expected() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join("|")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

coded_enum! {
    /// Sex as recorded on an identity document.
    Sex {
        /// Male.
        M = "M" | "m"; zh "男",
        /// Female.
        F = "F" | "f"; zh "女",
    }
}

coded_enum! {
    /// Level of an administrative unit.
    OrgLevel {
        /// 市 (prefecture-level city).
        City = "city"; zh "市",
        /// 区 (district).
        District = "district"; zh "区",
        /// 街道 (street / township).
        Street = "street"; zh "街道",
        /// 社区 (community / village).
        Community = "community"; zh "社区",
    }
}

coded_enum! {
    /// Kind of health-system institution.
    InstitutionKind {
        /// 医院.
        Hospital = "hospital"; zh "医院",
        /// 社区健康服务中心 (社康中心).
        Chc = "chc"; zh "社康中心",
        /// 社区健康服务站 (社康站).
        Chs = "chs"; zh "社康站",
        /// 疾病预防控制中心.
        Cdc = "cdc"; zh "疾控中心",
        /// 妇幼保健院.
        Mch = "mch"; zh "妇幼保健院",
        /// 药店.
        Pharmacy = "pharmacy"; zh "药店",
        /// 学校.
        School = "school"; zh "学校",
        /// 幼儿园.
        Kindergarten = "kindergarten"; zh "幼儿园",
        /// 养老机构 (医养结合).
        NursingHome = "nursing_home"; zh "养老机构",
        /// 诊所.
        Clinic = "clinic"; zh "诊所",
    }
}

coded_enum! {
    /// Hospital grade (医院等级).
    HospitalGrade {
        /// 三级甲等.
        TertiaryA = "3a" | "3A" | "三甲"; zh "三级甲等",
        /// 三级乙等.
        TertiaryB = "3b" | "3B" | "三乙"; zh "三级乙等",
        /// 二级.
        Secondary = "2"; zh "二级",
        /// 一级.
        Primary = "1"; zh "一级",
    }
}

coded_enum! {
    /// Status of a practising licence (执业许可证).
    LicenceStatus {
        /// In force.
        Valid = "valid"; zh "有效",
        /// Suspended by the regulator.
        Suspended = "suspended"; zh "暂停",
        /// Revoked.
        Revoked = "revoked"; zh "吊销",
        /// Lapsed without renewal.
        Expired = "expired"; zh "过期",
    }
}

coded_enum! {
    /// Kind of practitioner.
    PractitionerKind {
        /// 全科医生 (general practitioner, family doctor).
        Gp = "gp"; zh "全科医生",
        /// 专科医生.
        Specialist = "specialist"; zh "专科医生",
        /// 护士.
        Nurse = "nurse"; zh "护士",
        /// 公共卫生医师.
        PublicHealth = "public_health"; zh "公卫医师",
        /// 药师.
        Pharmacist = "pharmacist"; zh "药师",
    }
}

coded_enum! {
    /// Kind of identity document.
    IdType {
        /// 居民身份证 (GB 11643).
        ResidentId = "resident_id"; zh "居民身份证",
        /// 护照.
        Passport = "passport"; zh "护照",
        /// 港澳居民来往内地通行证.
        HkMacaoPermit = "hk_macao_permit"; zh "港澳通行证",
        /// 台湾居民来往大陆通行证.
        TaiwanPermit = "taiwan_permit"; zh "台胞证",
    }
}

coded_enum! {
    /// Whether a person counts in the registered (户籍) or only the resident (常住) population.
    Residence {
        /// 户籍人口: household registration in the city.
        Registered = "registered"; zh "户籍",
        /// 常住人口 without local registration.
        Resident = "resident"; zh "常住",
    }
}

/// An administrative unit (行政区划) with its validity interval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgUnit {
    /// GB/T 2260 (city, district) or NBS (street: 9 digits, community: 12 digits) code.
    pub code: String,
    /// Official name.
    pub name: String,
    /// Code of the unit one level up; a city's parent (a province) need not be registered.
    pub parent_code: Option<String>,
    /// Level in the tree.
    pub level: OrgLevel,
    /// First day the unit exists under this code; `None` when it predates the records.
    pub valid_from: Option<NaiveDate>,
    /// Last day it exists (inclusive); `None` while in force.
    pub valid_to: Option<NaiveDate>,
}

/// A health-system institution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Institution {
    /// Natural key: organisation code (e.g. 统一社会信用代码).
    pub code: String,
    /// Registered name.
    pub name: String,
    /// Kind.
    pub kind: InstitutionKind,
    /// Grade; hospitals only.
    pub grade: Option<HospitalGrade>,
    /// Community where it is located.
    pub community_code: String,
    /// Code of the institution leading its medical group (医联体 / 基层医疗集团), if any.
    pub group_code: Option<String>,
    /// Practising licence number.
    pub licence_no: Option<String>,
    /// Licence status.
    pub licence_status: LicenceStatus,
    /// Approved beds.
    pub beds: u32,
    /// Negative-pressure isolation rooms.
    pub negative_pressure_rooms: u32,
    /// Whether it runs a fever clinic (发热门诊).
    pub fever_clinic: bool,
}

/// A practitioner: a doctor, nurse, public-health physician or pharmacist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Practitioner {
    /// Identity document kind.
    pub id_type: IdType,
    /// Identity document number (normalised).
    pub id_number: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: PractitionerKind,
    /// Institution of practice.
    pub institution_code: String,
    /// Practising certificate number.
    pub licence_no: Option<String>,
}

/// A person in the master person index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resident {
    /// Identity document kind.
    pub id_type: IdType,
    /// Identity document number (normalised).
    pub id_number: String,
    /// Name.
    pub name: String,
    /// Sex.
    pub sex: Sex,
    /// Date of birth.
    pub birth_date: NaiveDate,
    /// Contact phone.
    pub phone: Option<String>,
    /// Community of residence.
    pub community_code: String,
    /// Registered (户籍) or resident (常住) population.
    pub residence: Residence,
}

/// Masks an identity number for display: keeps the first 6 and last 4 characters
/// (`440305********123X`); shorter numbers keep only their last 2.
pub fn mask_id_number(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    let n = chars.len();
    let (head, tail) = if n >= 14 { (6, 4) } else { (0, 2.min(n)) };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < head || i >= n - tail { *c } else { '*' })
        .collect()
}

/// Masks a phone number for display, keeping the first 3 and last 4 digits.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    let n = chars.len();
    if n < 8 {
        return "*".repeat(n);
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < 3 || i >= n - 4 { *c } else { '*' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_labels_parse() {
        assert_eq!(InstitutionKind::parse("chc"), Some(InstitutionKind::Chc));
        assert_eq!(InstitutionKind::parse("社康站"), Some(InstitutionKind::Chs));
        assert_eq!(
            HospitalGrade::parse("三级甲等"),
            Some(HospitalGrade::TertiaryA)
        );
        assert_eq!(HospitalGrade::parse("3A"), Some(HospitalGrade::TertiaryA));
        assert_eq!(Sex::parse("x"), None);
        assert_eq!(
            IdType::expected(),
            "resident_id|passport|hk_macao_permit|taiwan_permit"
        );
    }

    #[test]
    fn masking_keeps_only_the_ends() {
        assert_eq!(mask_id_number("11010519491231002X"), "110105********002X");
        assert_eq!(mask_id_number("E1234567"), "******67");
        assert_eq!(mask_phone("13812345678"), "138****5678");
    }
}
