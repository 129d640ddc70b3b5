//! localstripe (PyPI), the fake stateful Stripe server that the test script
//! starts on loopback (infra/localstripe.sh) and names in
//! `LOCALSTRIPE_ENDPOINT`.

/// Any `sk_…` key is accepted.
pub const API_KEY: &str = "sk_test_localstripe_Unl1kelyKey5521";

pub fn endpoint() -> String {
    std::env::var("LOCALSTRIPE_ENDPOINT").expect(
        "LOCALSTRIPE_ENDPOINT is not set: run the tests with infra/test.sh, which starts localstripe on 127.0.0.1 (infra/localstripe.sh)",
    )
}

/// `GET /v1/customers/{id}` from localstripe.
pub async fn customer(id: &str) -> serde_json::Value {
    reqwest::Client::new()
        .get(format!("{}/v1/customers/{id}", endpoint()))
        .bearer_auth(API_KEY)
        .send()
        .await
        .expect("localstripe answers")
        .json()
        .await
        .expect("a JSON customer")
}

/// The customers whose `metadata.user_id` is `user`.
pub async fn customers_of(user: &str) -> Vec<String> {
    let list: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/v1/customers?limit=100", endpoint()))
        .bearer_auth(API_KEY)
        .send()
        .await
        .expect("localstripe answers")
        .json()
        .await
        .expect("a JSON list");
    list["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["metadata"]["user_id"] == user)
        .filter_map(|c| c["id"].as_str().map(str::to_owned))
        .collect()
}
