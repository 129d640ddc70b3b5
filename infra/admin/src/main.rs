//! `admin`: the operators' command line (see the library's docs).

use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    admin::main_with(&args).await
}
