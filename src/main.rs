//! The `tenantgate` binary: parse the command line, set up logging, run.

use std::process::ExitCode;

use tenantgate::config::{Cli, Command, LogFormat};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    return_large_blocks_to_the_system();
    let cli = Cli::read();
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
            Command::Billing { action } => {
                tenantgate::server::billing(&cli.common, &cli.serve, action).await
            }
            Command::StripeSim(args) => tenantgate::server::stripe_sim(&cli, args).await,
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

/// Makes glibc's malloc serve every block of 1 MiB or more with its own
/// mapping, returned to the system when freed. By default the threshold
/// adapts upwards after the first large free, so each password hash (argon2id
/// allocates 19 MiB) is served from, and kept in, the heap of whichever
/// thread ran it: 300 sign-ins left the process at 600 MiB. With the fixed
/// threshold it stays within a few MiB of idle (measured in bench/README.md).
fn return_large_blocks_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; it is called before
    // any thread is started, with a documented option and a valid value.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}
