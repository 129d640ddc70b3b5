//! Creating the table where local runs and tests ask for it. On AWS the
//! SAM template owns the table; this mirrors its key schema, owner and
//! listing indexes,
//! stream and TTL.

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType, TableStatus,
    TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;

use super::errors::store_error;
use super::keys::{EXPIRES_AT, LISTING_INDEX, LISTING_PK, LISTING_SK, OWNER, OWNER_INDEX, PK, SK};
use crate::ports::StoreError;

/// Creates the table (PK/SK strings, on-demand, a `NEW_IMAGE` stream as the
/// template's, TTL on `expires_at`) unless it exists, then waits until it
/// is active. Safe to call concurrently.
pub async fn ensure_table(client: &Client, table: &str) -> Result<(), StoreError> {
    match client.describe_table().table_name(table).send().await {
        Ok(_) => return wait_active(client, table).await,
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) => {}
        Err(error) => return Err(store_error(error)),
    }
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("name and type set")
    };
    let key = |name: &str, key_type| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build()
            .expect("name and type set")
    };
    let created = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute(PK))
        .attribute_definitions(attribute(SK))
        .attribute_definitions(attribute(OWNER))
        .attribute_definitions(attribute(LISTING_PK))
        .attribute_definitions(attribute(LISTING_SK))
        .key_schema(key(PK, KeyType::Hash))
        .key_schema(key(SK, KeyType::Range))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(OWNER_INDEX)
                .key_schema(key(OWNER, KeyType::Hash))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::KeysOnly)
                        .build(),
                )
                .build()
                .expect("name and key set"),
        )
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(LISTING_INDEX)
                .key_schema(key(LISTING_PK, KeyType::Hash))
                .key_schema(key(LISTING_SK, KeyType::Range))
                // The status, for the listing's filter; the accounts
                // themselves are read from the table by key.
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::Include)
                        .non_key_attributes("status")
                        .build(),
                )
                .build()
                .expect("name and key set"),
        )
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewImage)
                .build()
                .expect("flag set"),
        )
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) => {}
        Err(error) => return Err(store_error(error)),
    }
    wait_active(client, table).await?;
    let ttl = TimeToLiveSpecification::builder()
        .attribute_name(EXPIRES_AT)
        .enabled(true)
        .build()
        .expect("name and flag set");
    // Enabling TTL twice is refused; either way it ends up enabled.
    let _ = client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(ttl)
        .send()
        .await;
    Ok(())
}

async fn wait_active(client: &Client, table: &str) -> Result<(), StoreError> {
    for _ in 0..100 {
        let described = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(store_error)?;
        if described.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(StoreError::Unavailable(
        format!("table {table} did not become active").into(),
    ))
}
