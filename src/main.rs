//! The `tenantgate` binary: parse the command line, set up logging, run.

use std::process::ExitCode;

use clap::Parser;
use tenantgate::config::{Cli, Command, LogFormat};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Schema = cli.subcommand() {
        print!("{}", tenantgate::graphql::sdl());
        return ExitCode::SUCCESS;
    }
    let filter = match EnvFilter::try_new(&cli.common.log) {
        Ok(filter) => filter,
        Err(err) => {
            eprintln!(
                "error: --log / TENANTGATE_LOG {:?} is not a valid filter: {err}",
                cli.common.log
            );
            return ExitCode::FAILURE;
        }
    };
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.common.log_format {
        LogFormat::Text => subscriber.init(),
        LogFormat::Json => subscriber.json().init(),
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: starting the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.subcommand() {
            Command::Migrate => tenantgate::server::migrate(&cli.common).await,
            Command::Admin { action } => tenantgate::server::admin(&cli.common, action).await,
            Command::Serve | Command::Schema => {
                tenantgate::server::serve(&cli.common, &cli.serve).await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
