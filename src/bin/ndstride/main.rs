//! The `ndstride` command line. With no arguments it runs the demo.

mod demo;
mod distance;
mod info;
mod interrupt;
mod neighbors;
mod size;

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
        /// Memory budget (e.g. 512MiB, 2GiB): the matrix is computed block by block and
        /// written to OUTPUT as it goes, .npy inputs are memory-mapped, and a progress bar is
        /// shown on a terminal. Without it the matrix is built in memory, then saved.
        #[arg(long, value_name = "SIZE", value_parser = size::parse_size)]
        memory: Option<usize>,
    },
    /// The k nearest rows of XB for each row of XA, like scikit-learn's brute-force
    /// NearestNeighbors; the distance matrix is never held.
    Knn {
        /// n × d queries (.npy or .csv).
        xa: std::path::PathBuf,
        /// m × d points searched (default: XA, each row then finds itself first).
        xb: Option<std::path::PathBuf>,
        #[command(flatten)]
        args: neighbors::KnnArgs,
    },
    /// The rows of XB within a radius of each row of XA (CSR form, or counts).
    Radius {
        /// n × d queries (.npy or .csv).
        xa: std::path::PathBuf,
        /// m × d points searched (default: XA).
        xb: Option<std::path::PathBuf>,
        #[command(flatten)]
        args: neighbors::RadiusArgs,
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
    interrupt::install();
    let result = match cli.command {
        None | Some(Command::Demo) => demo::run(),
        Some(Command::Info { file, json }) => info::run(&file, json),
        Some(Command::Cdist {
            xa,
            xb,
            args,
            memory,
        }) => distance::cdist(&xa, xb.as_deref(), &args, memory),
        Some(Command::Knn { xa, xb, args }) => neighbors::knn(&xa, xb.as_deref(), &args),
        Some(Command::Radius { xa, xb, args }) => neighbors::radius(&xa, xb.as_deref(), &args),
        Some(Command::Pdist { x, args }) => distance::pdist(&x, &args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ ndstride::Error::Cancelled(_)) => {
            eprintln!("ndstride: {e}; no output file was completed");
            ExitCode::from(interrupt::EXIT_INTERRUPTED)
        }
        Err(e) => {
            eprintln!("ndstride: error: {e}");
            ExitCode::FAILURE
        }
    }
}
