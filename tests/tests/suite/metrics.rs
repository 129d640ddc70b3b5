//! The Embedded Metric Format lines a request leaves: latency per route and
//! the business counters the alarms watch.

use std::io::Write;
use std::sync::{Arc, Mutex};

use integration_tests::world::{World, PASSWORD};
use integration_tests::Backend;
use serde_json::{json, Value};

#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn requests_leave_emf_metrics() {
    let lines = Lines::default();
    shared::metrics::set_sink(lines.clone());
    let world = World::new(Backend::memory());
    world.sign_up("metric", "metric@example.com").await;
    let failed = world
        .log_in_with(json!({"login": "metric", "password": "wrong-wrong-wrong"}))
        .await;
    assert_eq!(failed.status, 401);
    let tokens = world.log_in("metric", PASSWORD).await;
    assert_eq!(world.refresh(&tokens.refresh).await.status, 200);
    world.clock.advance(time::Duration::minutes(1));
    assert_eq!(world.refresh(&tokens.refresh).await.status, 401);

    let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    let documents: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON document per line"))
        .collect();
    let count = |route: &str, metric: &str| {
        documents
            .iter()
            .filter(|d| d["Route"] == route && d[metric] == 1.0)
            .count()
    };
    assert!(count("POST /auth/signup", "SignUps") >= 1);
    assert!(count("POST /auth/login", "LoginsFailed") >= 1);
    assert!(count("POST /auth/login", "LoginsSucceeded") >= 1);
    assert!(count("POST /auth/token/refresh", "Refreshes") >= 1);
    assert!(count("POST /auth/token/refresh", "TokenReuse") >= 1);
    let login = documents
        .iter()
        .find(|d| d["Route"] == "POST /auth/login")
        .unwrap();
    assert_eq!(
        login["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "UsersService"
    );
    assert!(login["Latency"].as_f64().unwrap() > 0.0);
    assert!(!text.contains(PASSWORD) && !text.contains(&tokens.refresh));
}
