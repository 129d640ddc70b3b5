//! The integration suite: one binary, so the workspace links it once.

mod background;
mod cleanup_job;
mod concurrency;
mod deletion;
mod discovery;
mod email_change;
mod email_links;
mod hostile;
mod ip_blocks;
mod key_rotation;
mod keys;
mod local_server;
mod login;
mod logs;
mod metrics;
mod openapi;
mod phone_numbers;
mod phone_signup;
mod round_trips;
mod routes_and_events;
mod sessions;
mod settings;
mod signup_api;
mod store_contract;
mod stream_relay;
mod tasks;
