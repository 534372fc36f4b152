//! The response to signals on both backends: who may act where, the steps and their refusals,
//! the trail, response times and notifications; webhooks queued with what they announce and
//! delivered, signed, to a local receiver, with retries on failure.

use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use chrono::Duration;
use hc_app::AppError;
use hc_app::audit::Caller;
use hc_app::feeds::FeedKind;
use hc_app::surveillance::{run, signals};
use hc_app::webhooks::{self, NewWebhook, deliver_due};
use hc_app::workflow::{
    Action, ActionInput, Outcome, Stage, Target, act, history, notifications, response_report,
    response_times,
};
use hc_core::access::Role;
use hc_store::epoch_seconds;
use hc_store::testkit::{backends, fresh};

use crate::surveillance::{DAY, city, config, d, scoped, send, visits};

fn input(action: Action, note: &str) -> ActionInput {
    ActionInput {
        action,
        note: note.into(),
    }
}

fn field(e: &AppError) -> String {
    match e {
        AppError::Invalid(f) => f.iter().map(|x| x.field.clone()).collect(),
        other => format!("{other:?}"),
    }
}

#[tokio::test]
async fn analysts_work_signals_of_their_jurisdiction_through_the_stages() {
    for b in backends() {
        let db = fresh(b).await.unwrap();
        let s = &db.store;
        city(s).await;
        let today = d(DAY) + Duration::days(5);
        send(s, FeedKind::Visits, &visits(2, d(DAY)), today).await;
        let cli = Caller::cli();
        // A city-wide webhook for yellow and up, and one for another district.
        let hook = webhooks::add(
            s,
            &cli,
            NewWebhook {
                url: "https://cdc.example.org/hook".into(),
                secret_env: "HC_HOOK_SECRET".into(),
                min_alert: "yellow".into(),
                area_code: None,
            },
        )
        .await
        .unwrap();
        webhooks::add(
            s,
            &cli,
            NewWebhook {
                url: "https://other.example.org/hook".into(),
                secret_env: "HC_OTHER".into(),
                min_alert: "blue".into(),
                area_code: Some("440306".into()),
            },
        )
        .await
        .unwrap();
        let report = run(s, &cli, &config(), d(DAY), Some(d(DAY) - Duration::days(1)))
            .await
            .unwrap();
        let rows = signals(s, &cli, None, None).await.unwrap();
        assert_eq!(rows.len(), report.signals_new, "{b:?}");
        // Each new signal of yellow or more was queued for the city-wide hook, none for the other.
        let outbox = s.outbox(100).await.unwrap();
        let events = s.events(&hc_store::SignalFilter::default()).await.unwrap();
        assert_eq!(events.len(), report.events_new);
        let wanted = rows.iter().filter(|r| r.alert != "blue").count()
            + events.iter().filter(|e| e.0.alert != "blue").count();
        assert_eq!(outbox.len(), wanted, "{b:?} {outbox:?}");
        assert!(outbox.iter().all(|o| o.1 == hook), "{outbox:?}");
        let signal = rows
            .iter()
            .find(|r| r.area_code == "440305001001" && r.code == "ili")
            .unwrap();
        let payload: serde_json::Value = serde_json::from_str(
            &outbox
                .iter()
                .find(|o| o.2 == "signal" && o.3.contains(&signal.stream))
                .unwrap()
                .3,
        )
        .unwrap();
        assert_eq!(payload["id"], signal.id, "{payload}");
        assert_eq!(payload["area_code"], "440305001001");
        assert_eq!(payload["event"], "raised");
        let target = Target::Signal(signal.id);

        // Notifications: every signal of the jurisdiction is unanswered so far.
        let analyst = scoped(Role::CdcAnalyst, "440305");
        let before = notifications(s, &analyst, 100).await.unwrap();
        // City-level signals lie outside a district analyst's jurisdiction.
        let in_district = |area: &str| area.starts_with("440305");
        let mine = rows.iter().filter(|r| in_district(&r.area_code)).count()
            + events
                .iter()
                .filter(|e| in_district(&e.0.area_code))
                .count();
        assert!(mine < rows.len() + events.len(), "{rows:?}");
        assert_eq!(before.len(), mine, "{b:?} {before:?}");
        assert!(before.iter().any(|n| n.target == target));

        // Who may act, and where.
        let bureau = scoped(Role::DistrictBureau, "440305");
        let e = act(s, &bureau, target, input(Action::Note, "seen"))
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Forbidden(_)), "{e:?}");
        let elsewhere = scoped(Role::CdcAnalyst, "440305002");
        let e = act(s, &elsewhere, target, input(Action::Note, "seen"))
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::NotFound("signal")), "{e:?}");
        assert!(matches!(
            history(s, &elsewhere, target).await.unwrap_err(),
            AppError::NotFound(_)
        ));
        let e = act(
            s,
            &analyst,
            Target::Signal(999_999),
            input(Action::Note, "x"),
        )
        .await
        .unwrap_err();
        assert!(matches!(e, AppError::NotFound("signal")), "{e:?}");

        // The steps.
        let a = act(
            s,
            &analyst,
            target,
            input(Action::Assign { to: "li".into() }, ""),
        )
        .await
        .unwrap();
        assert_eq!(
            (a.status.as_deref(), a.assigned_to.as_deref(), a.target),
            (Some("assigned"), Some("li"), target)
        );
        let e = act(
            s,
            &analyst,
            target,
            input(
                Action::Close {
                    outcome: Outcome::ConfirmedOutbreak,
                },
                "",
            ),
        )
        .await
        .unwrap_err();
        assert_eq!(field(&e), "outcome", "{e:?}");
        let e = act(
            s,
            &analyst,
            target,
            input(
                Action::Verify {
                    stage: Stage::Assigned,
                },
                "",
            ),
        )
        .await
        .unwrap_err();
        assert_eq!(field(&e), "stage");
        for stage in [Stage::PreliminaryCheck, Stage::FieldInvestigation] {
            act(
                s,
                &analyst,
                target,
                input(Action::Verify { stage }, "checked"),
            )
            .await
            .unwrap();
        }
        act(
            s,
            &analyst,
            target,
            input(
                Action::Close {
                    outcome: Outcome::ConfirmedOutbreak,
                },
                "school cluster",
            ),
        )
        .await
        .unwrap();
        let e = act(
            s,
            &analyst,
            target,
            input(Action::Assign { to: "wang".into() }, ""),
        )
        .await
        .unwrap_err();
        assert_eq!(field(&e), "action");
        let e = act(s, &analyst, target, input(Action::Note, "  "))
            .await
            .unwrap_err();
        assert_eq!(field(&e), "note");
        act(s, &analyst, target, input(Action::Note, "report filed"))
            .await
            .unwrap();

        // The trail, readable by the district bureau too.
        let trail = history(s, &bureau, target).await.unwrap();
        let steps: Vec<(&str, Option<&str>, Option<&str>)> = trail
            .iter()
            .map(|a| (a.action.as_str(), a.status.as_deref(), a.outcome.as_deref()))
            .collect();
        assert_eq!(
            steps,
            [
                ("assign", Some("assigned"), None),
                ("verify", Some("preliminary_check"), None),
                ("verify", Some("field_investigation"), None),
                ("close", Some("closed"), Some("confirmed_outbreak")),
                ("note", Some("closed"), Some("confirmed_outbreak")),
            ],
            "{b:?}"
        );
        assert!(
            trail
                .iter()
                .all(|a| a.username == "cli" && a.target == target)
        );
        let stored = signals(s, &cli, None, None)
            .await
            .unwrap()
            .into_iter()
            .find(|r| r.id == signal.id)
            .unwrap();
        assert_eq!(
            (stored.status.as_str(), stored.outcome.as_deref()),
            ("closed", Some("confirmed_outbreak"))
        );
        assert_eq!(stored.assigned_to.as_deref(), Some("li"));
        let answered = stored.answered_at.unwrap();
        assert!(answered >= stored.created_at);
        // Four state changes were announced; the note was not.
        let actions = s
            .outbox(100)
            .await
            .unwrap()
            .into_iter()
            .filter(|o| o.3.contains("\"event\":\"action\""))
            .count();
        assert_eq!(actions, 4, "{b:?}");

        // Notifications no longer list it; response times count it, answered.
        let after = notifications(s, &analyst, 100).await.unwrap();
        assert_eq!(after.len(), before.len() - 1);
        assert!(!after.iter().any(|n| n.target == target));
        assert!(!after[0].overdue);
        let from = d(DAY) - Duration::days(10);
        let districts = response_times(s, &bureau, from, d(DAY)).await.unwrap();
        assert_eq!(districts.len(), 1, "{districts:?}");
        let nanshan = &districts[0];
        assert_eq!(
            (
                nanshan.district_code.as_str(),
                nanshan.district_name.as_str()
            ),
            ("440305", "南山区")
        );
        let n_signals = rows
            .iter()
            .filter(|r| r.first_day >= from && in_district(&r.area_code))
            .count();
        assert_eq!(
            (nanshan.signals, nanshan.answered, nanshan.within_target),
            (n_signals, 1, 1)
        );
        assert_eq!(nanshan.open, n_signals - 1);
        assert!(nanshan.median_hours.unwrap() < 1.0);
        let report = response_report(s, &bureau, from, d(DAY)).await.unwrap();
        assert_eq!(report.total.signals, n_signals);
        assert_eq!(report.total.district_code, "440305");
        let outside = response_times(s, &elsewhere, from, d(DAY)).await.unwrap();
        assert!(outside.iter().all(|r| r.district_code == "440305"));
        assert!(
            outside.iter().map(|r| r.signals).sum::<usize>() < n_signals,
            "{outside:?}"
        );
        let doctor = scoped(Role::FamilyDoctor, "440305");
        assert!(matches!(
            notifications(s, &doctor, 10).await.unwrap_err(),
            AppError::Forbidden(_)
        ));
        let e = response_times(s, &bureau, d(DAY), from).await.unwrap_err();
        assert_eq!(field(&e), "from");

        // An event is acted on the same way.
        if let Some(ev) = s
            .events(&hc_store::SignalFilter::default())
            .await
            .unwrap()
            .first()
        {
            let t = Target::Event(ev.0.id);
            let r = act(
                s,
                &analyst,
                t,
                input(
                    Action::Close {
                        outcome: Outcome::FalseAlarm,
                    },
                    "",
                ),
            )
            .await
            .unwrap();
            assert_eq!(r.target, t);
            assert_eq!(history(s, &analyst, t).await.unwrap().len(), 1);
        }
    }
}

#[tokio::test]
async fn webhook_settings_are_checked_and_only_administrators_change_them() {
    for b in backends() {
        let db = fresh(b).await.unwrap();
        let s = &db.store;
        let cli = Caller::cli();
        let hook = |url: &str, env: &str, alert: &str| NewWebhook {
            url: url.into(),
            secret_env: env.into(),
            min_alert: alert.into(),
            area_code: None,
        };
        for (h, f) in [
            (hook("ftp://x", "A", "red"), "url"),
            (hook("not a url", "A", "red"), "url"),
            (
                hook("https://x.org/h", "s3cr3t-value!", "red"),
                "secret_env",
            ),
            (hook("https://x.org/h", "1A", "red"), "secret_env"),
            (hook("https://x.org/h", "A", "purple"), "min_alert"),
        ] {
            let e = webhooks::add(s, &cli, h).await.unwrap_err();
            assert_eq!(field(&e), f, "{e:?}");
        }
        let id = webhooks::add(s, &cli, hook("https://x.org/h", "HC_A", "red"))
            .await
            .unwrap();
        let e = webhooks::add(s, &cli, hook("https://x.org/h", "HC_B", "red"))
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Conflict(_)), "{e:?}");
        let analyst = scoped(Role::CdcAnalyst, "440305");
        assert!(matches!(
            webhooks::list(s, &analyst).await.unwrap_err(),
            AppError::Forbidden(_)
        ));
        webhooks::disable(s, &cli, id).await.unwrap();
        let list = webhooks::list(s, &cli).await.unwrap();
        assert_eq!(list.len(), 1);
        assert!(!list[0].hook.active);
        assert_eq!(list[0].hook.secret_env, "HC_A");
        assert!(matches!(
            webhooks::disable(s, &cli, 999).await.unwrap_err(),
            AppError::NotFound("webhook")
        ));
    }
}

/// What the test receiver got.
type Inbox = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A receiver on a free local port that records each POST and answers `status`.
async fn receiver(status: u16) -> (String, Inbox) {
    let inbox: Inbox = Arc::default();
    let got = inbox.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let got = got.clone();
            async move {
                got.lock().unwrap().push((headers, body));
                axum::http::StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), inbox)
}

#[tokio::test]
async fn notifications_are_delivered_signed_and_failures_retried_later() {
    for b in backends() {
        let db = fresh(b).await.unwrap();
        let s = &db.store;
        city(s).await;
        let today = d(DAY) + Duration::days(5);
        send(s, FeedKind::Visits, &visits(2, d(DAY)), today).await;
        let cli = Caller::cli();
        let (good, inbox) = receiver(204).await;
        let (bad, bad_inbox) = receiver(500).await;
        for (url, env) in [
            (good.as_str(), "HC_GOOD"),
            (bad.as_str(), "HC_BAD"),
            ("http://127.0.0.1:9/none", "HC_UNSET"),
        ] {
            webhooks::add(
                s,
                &cli,
                NewWebhook {
                    url: url.into(),
                    secret_env: env.into(),
                    min_alert: "blue".into(),
                    area_code: Some("440305".into()),
                },
            )
            .await
            .unwrap();
        }
        run(s, &cli, &config(), d(DAY), Some(d(DAY) - Duration::days(1)))
            .await
            .unwrap();
        let queued = s.outbox(1000).await.unwrap().len();
        assert!(queued >= 6 && queued % 3 == 0, "{b:?} {queued}");
        let secrets = |name: &str| match name {
            "HC_GOOD" => Some("good-secret".to_owned()),
            "HC_BAD" => Some("bad-secret".to_owned()),
            _ => None,
        };
        let client = webhooks::client().unwrap();
        let now = epoch_seconds();
        let r = deliver_due(s, &client, now, &secrets).await.unwrap();
        let per_hook = queued / 3;
        assert_eq!((r.delivered, r.failed), (per_hook, 2 * per_hook), "{b:?}");
        {
            let got = inbox.lock().unwrap();
            assert_eq!(got.len(), per_hook);
            for (headers, body) in got.iter() {
                let sig = headers["x-healthcity-signature"].to_str().unwrap();
                hc_surveillance::notify::verify(b"good-secret", sig, body.as_bytes(), now, 300)
                    .unwrap();
                assert!(
                    hc_surveillance::notify::verify(b"bad-secret", sig, body.as_bytes(), now, 300)
                        .is_err()
                );
                assert_eq!(headers["content-type"], "application/json");
                assert!(headers.contains_key("x-healthcity-delivery"));
                let j: serde_json::Value = serde_json::from_str(body).unwrap();
                assert!(j["id"].as_i64().is_some(), "{j}");
                assert!(["signal", "event"].contains(&j["kind"].as_str().unwrap()));
            }
        }
        assert_eq!(bad_inbox.lock().unwrap().len(), per_hook);
        // Nothing is due again at once; the failures come back after the first backoff.
        let r = deliver_due(s, &client, now + 1, &secrets).await.unwrap();
        assert_eq!((r.delivered, r.failed), (0, 0));
        let r = deliver_due(s, &client, now + 30, &secrets).await.unwrap();
        assert_eq!((r.delivered, r.failed), (0, 2 * per_hook));
        let list = webhooks::list(s, &cli).await.unwrap();
        let by_url = |u: &str| list.iter().find(|w| w.hook.url == u).unwrap();
        assert_eq!(
            (by_url(&good).delivered, by_url(&good).pending),
            (per_hook as i64, 0)
        );
        assert_eq!(by_url(&bad).pending, per_hook as i64);
        assert!(
            by_url(&bad).last_error.as_deref().unwrap().contains("500"),
            "{list:?}"
        );
        assert!(
            by_url("http://127.0.0.1:9/none")
                .last_error
                .as_deref()
                .unwrap()
                .contains("HC_UNSET")
        );
        // Second failure waits 60 s.
        let r = deliver_due(s, &client, now + 89, &secrets).await.unwrap();
        assert_eq!(r.failed, 0);
        // A disabled webhook's notifications are not sent.
        let bad_id = by_url(&bad).hook.id;
        webhooks::disable(s, &cli, bad_id).await.unwrap();
        let r = deliver_due(s, &client, now + 100, &secrets).await.unwrap();
        assert_eq!((r.delivered, r.failed), (0, per_hook), "{b:?}");
    }
}

#[tokio::test]
async fn the_demo_history_backdates_raising_and_answers_most_signals_within_hours() {
    for b in backends() {
        let db = fresh(b).await.unwrap();
        let s = &db.store;
        city(s).await;
        let today = d(DAY) + Duration::days(5);
        send(s, FeedKind::Visits, &visits(2, d(DAY)), today).await;
        let cli = Caller::cli();
        run(s, &cli, &config(), d(DAY), Some(d(DAY) - Duration::days(1)))
            .await
            .unwrap();
        let n = hc_app::workflow::demo_responses(s, today, 7).await.unwrap();
        let rows = signals(s, &cli, None, None).await.unwrap();
        assert!(
            n >= rows.len(),
            "{b:?} {n} actions for {} signals",
            rows.len()
        );
        for r in &rows {
            // Raised at 02:00 (UTC+8) the day after the first day.
            let raised = (r.first_day + Duration::days(1))
                .and_hms_opt(2, 0, 0)
                .unwrap()
                .and_utc()
                .timestamp()
                - 8 * 3600;
            assert_eq!(r.created_at, raised, "{r:?}");
            let trail = history(s, &cli, Target::Signal(r.id)).await.unwrap();
            assert!(trail.iter().all(|a| a.note == "demo" && a.at >= raised));
            assert_eq!(
                r.status,
                trail.last().map_or("new", |a| a.status.as_deref().unwrap())
            );
        }
        let report = response_report(s, &cli, d(DAY) - Duration::days(5), d(DAY))
            .await
            .unwrap();
        assert_eq!(report.total.signals, rows.len());
        assert!(report.total.median_hours.is_some());
        // The same seed gives the same history.
        let again = fresh(b).await.unwrap();
        city(&again.store).await;
        send(&again.store, FeedKind::Visits, &visits(2, d(DAY)), today).await;
        run(
            &again.store,
            &cli,
            &config(),
            d(DAY),
            Some(d(DAY) - Duration::days(1)),
        )
        .await
        .unwrap();
        assert_eq!(
            hc_app::workflow::demo_responses(&again.store, today, 7)
                .await
                .unwrap(),
            n
        );
    }
}
