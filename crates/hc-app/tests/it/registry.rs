//! Single-record use cases: every rule checked, one person one record.

use hc_app::AppError;
use hc_app::import::ImportKind;
use hc_core::model::*;
use hc_store::testkit::{backends, fresh};

use crate::{ORGUNITS, import};

/// A family doctor whose jurisdiction is the whole city.
fn doctor() -> hc_app::audit::Caller {
    let mut c = hc_app::audit::Caller::cli();
    c.principal.role = hc_core::access::Role::FamilyDoctor;
    c.principal.name = "doctor".into();
    c
}

fn resident(id_number: String) -> Resident {
    Resident {
        id_type: IdType::ResidentId,
        id_number,
        name: "王芳".into(),
        sex: Sex::F,
        birth_date: chrono::NaiveDate::from_ymd_opt(1949, 12, 31).unwrap(),
        phone: None,
        community_code: "440305001001".into(),
        residence: Residence::Registered,
    }
}

#[tokio::test]
async fn one_person_one_record() {
    for b in backends() {
        let db = fresh(b).await.unwrap();
        import(&db.store, ImportKind::OrgUnits, ORGUNITS, 100).await;
        let s = &db.store;
        let created =
            hc_app::registry::create_resident(s, &doctor(), resident("11010519491231002x".into()))
                .await
                .unwrap();
        assert_eq!(created.record.id_number, "11010519491231002X", "normalised");
        let again =
            hc_app::registry::create_resident(s, &doctor(), resident("11010519491231002X".into()))
                .await;
        let Err(AppError::Conflict(f)) = again else {
            panic!("{again:?}")
        };
        assert_eq!(f.field, "id_number");
        assert!(
            !f.message.contains("11010519491231002X"),
            "the message masks the number: {}",
            f.message
        );

        let mut wrong = resident("11010519491231002X".into());
        wrong.sex = Sex::M;
        wrong.community_code = "440305001009".into();
        let Err(AppError::Invalid(errs)) =
            hc_app::registry::update_resident(s, &doctor(), created.id, wrong).await
        else {
            panic!()
        };
        assert_eq!(
            errs.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
            ["sex"]
        );

        let mut moved = resident("11010519491231002X".into());
        moved.community_code = "440305001009".into();
        let Err(AppError::Invalid(errs)) =
            hc_app::registry::update_resident(s, &doctor(), created.id, moved).await
        else {
            panic!()
        };
        assert_eq!(errs[0].field, "community_code");

        let Err(AppError::Invalid(errs)) = hc_app::registry::create_resident(s, &doctor(), {
            let mut r = resident("110105194912310021".into());
            r.community_code = "440305001".into();
            r
        })
        .await
        else {
            panic!()
        };
        assert!(errs.iter().any(|e| e.field == "id_number"), "{errs:?}");
        assert!(matches!(
            hc_app::registry::update_resident(
                s,
                &doctor(),
                999_999,
                resident("11010519491231002X".into())
            )
            .await,
            Err(AppError::NotFound(_))
        ));
        assert_eq!(s.totals().await.unwrap().residents, 1, "{b:?}");
    }
}
