//! `PUT /users/me/push-tokens/{id}` with a new `token` value (push
//! services rotate them): the token keeps its id, and a value keeps one
//! owner, across accounts and under concurrent changes.

use integration_tests::on_both_backends;
use integration_tests::world::{Reply, Tokens, World, PASSWORD};
use serde_json::{json, Value};

async fn member(world: &World, name: &str) -> Tokens {
    world.sign_up(name, &format!("{name}@example.com")).await;
    world.log_in(name, PASSWORD).await
}

async fn register(world: &World, tokens: &Tokens, value: &str) -> Reply {
    world
        .call(
            "POST",
            "/users/me/push-tokens",
            Some(&json!({"platform": "fcm", "token": value})),
            Some(&tokens.access),
        )
        .await
}

async fn change(world: &World, tokens: &Tokens, id: &str, body: Value) -> Reply {
    world
        .call(
            "PUT",
            &format!("/users/me/push-tokens/{id}"),
            Some(&body),
            Some(&tokens.access),
        )
        .await
}

/// `(id, token)` of every token of the user.
async fn held(world: &World, tokens: &Tokens) -> Vec<(String, String)> {
    let reply = world
        .call(
            "GET",
            "/users/me/push-tokens?limit=100",
            None,
            Some(&tokens.access),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_owned(),
                t["token"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn id_of(reply: &Reply) -> String {
    reply.body["data"]["id"].as_str().expect("id").to_owned()
}

async fn a_new_value_keeps_the_id_and_one_owner(world: World) {
    let alice = member(&world, "amaya").await;
    let bob = member(&world, "bruno").await;
    let created = register(&world, &alice, "value-1").await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = id_of(&created);

    let reply = change(
        &world,
        &alice,
        &id,
        json!({"token": "value-2", "active": false}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        (&reply.body["data"]["id"], &reply.body["data"]["token"]),
        (&json!(id), &json!("value-2"))
    );
    assert_eq!(held(&world, &alice).await, [(id.clone(), "value-2".into())]);

    // The old value is free: another account registers it as new.
    let bobs = register(&world, &bob, "value-1").await;
    assert_eq!(bobs.status, 201, "{}", bobs.body);
    let bobs_id = id_of(&bobs);

    // Taking a value another account holds: it moves, theirs goes.
    let reply = change(&world, &alice, &id, json!({"token": "value-1"})).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(held(&world, &bob).await.is_empty(), "one owner per value");
    assert_eq!(held(&world, &alice).await, [(id.clone(), "value-1".into())]);
    let reply = world
        .call(
            "GET",
            &format!("/users/me/push-tokens/{bobs_id}"),
            None,
            Some(&bob.access),
        )
        .await;
    assert_eq!(reply.status, 404);

    // The claim follows the value: registering it again is this token.
    let again = register(&world, &alice, "value-1").await;
    assert_eq!((again.status, id_of(&again)), (200, id.clone()));
    // And the value it left is free.
    let fresh = register(&world, &bob, "value-2").await;
    assert_eq!(fresh.status, 201, "{}", fresh.body);

    // Bad values and other people's tokens.
    let reply = change(&world, &alice, &id, json!({"token": ""})).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body["errors"]["token"][0]["code"], "required");
    let reply = change(&world, &bob, &id, json!({"token": "value-9"})).await;
    assert_eq!(reply.status, 404);
    assert_eq!(held(&world, &alice).await, [(id, "value-1".into())]);
}

async fn concurrent_changes_to_one_value_leave_one_owner(world: World) {
    let alice = member(&world, "ayla").await;
    let bob = member(&world, "bram").await;
    for round in 0..3 {
        let wanted = format!("shared-{round}");
        let a = id_of(&register(&world, &alice, &format!("alice-{round}")).await);
        let b = id_of(&register(&world, &bob, &format!("bob-{round}")).await);
        let (ra, rb) = tokio::join!(
            change(&world, &alice, &a, json!({"token": wanted})),
            change(&world, &bob, &b, json!({"token": wanted})),
        );
        for reply in [&ra, &rb] {
            assert!(reply.status == 200 || reply.status == 404, "{}", reply.body);
        }
        let holders: Vec<(String, String)> = held(&world, &alice)
            .await
            .into_iter()
            .chain(held(&world, &bob).await)
            .filter(|(_, value)| *value == wanted)
            .collect();
        assert_eq!(holders.len(), 1, "round {round}: {holders:?}");
        // The claim names that one holder: a third registration of the
        // value takes it from there, and nobody else holds it.
        let carol = member(&world, &format!("carol{round}")).await;
        let taken = register(&world, &carol, &wanted).await;
        assert_eq!(taken.status, 201, "{}", taken.body);
        let left: Vec<(String, String)> = held(&world, &alice)
            .await
            .into_iter()
            .chain(held(&world, &bob).await)
            .filter(|(_, value)| *value == wanted)
            .collect();
        assert!(left.is_empty(), "round {round}: {left:?}");
    }
}

on_both_backends!(
    a_new_value_keeps_the_id_and_one_owner,
    concurrent_changes_to_one_value_leave_one_owner,
);
