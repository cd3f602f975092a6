//! The `ndstride` command line. With no arguments it runs the demo.

mod demo;
mod distance;
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
    /// Distance matrix between the rows of XA and XB (.npy or .csv), like SciPy's cdist.
    Cdist {
        /// n × d input.
        xa: std::path::PathBuf,
        /// m × d input (default: XA against itself).
        xb: Option<std::path::PathBuf>,
        #[command(flatten)]
        args: distance::DistanceArgs,
    },
    /// Condensed pairwise distances between the rows of X, like SciPy's pdist.
    Pdist {
        /// n × d input.
        x: std::path::PathBuf,
        #[command(flatten)]
        args: distance::DistanceArgs,
    },
    /// The course's lab on built-in data: views vs copies, then every distance strategy
    /// timed side by side (the default with no arguments).
    Demo,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None | Some(Command::Demo) => demo::run(),
        Some(Command::Info { file, json }) => info::run(&file, json),
        Some(Command::Cdist { xa, xb, args }) => distance::cdist(&xa, xb.as_deref(), &args),
        Some(Command::Pdist { x, args }) => distance::pdist(&x, &args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ndstride: error: {e}");
            ExitCode::FAILURE
        }
    }
}
