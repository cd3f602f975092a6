//! The `ndstride` command line. With no arguments it runs the demo.

mod demo;
mod info;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "ndstride",
    version,
    about = "Strided N-d arrays with NumPy's memory model, and distance matrices"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Print a .npy file's dtype, shape, strides in bytes, order, size and header version.
    Info {
        /// The .npy file.
        file: std::path::PathBuf,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Tour views versus copies on built-in data (the default with no arguments).
    Demo,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None | Some(Command::Demo) => demo::run(),
        Some(Command::Info { file, json }) => info::run(&file, json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ndstride: error: {e}");
            ExitCode::FAILURE
        }
    }
}
