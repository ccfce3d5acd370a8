//! `selfsup jigsaw permutations`: the permutation sets of the jigsaw task.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use selfsup::data::pretext::PermutationSet;

#[derive(Subcommand, Debug)]
pub enum JigsawCommand {
    /// Make a permutation set and print its minimum and mean Hamming distance.
    Permutations(PermutationArgs),
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum SelectionArg {
    /// Algorithm 1 of Noroozi & Favaro: largest average distance.
    Average,
    /// Largest minimum distance (a deviation from the paper).
    Minimum,
}

#[derive(Args, Debug)]
pub struct PermutationArgs {
    /// Number of permutations (classes), 1 to 9! = 362880.
    #[arg(long, default_value_t = 100)]
    n: usize,
    /// Seeds the first permutation (the run's `train.seed` in training).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, value_enum, default_value = "average")]
    selection: SelectionArg,
    /// Write the set here, one permutation a line (usable as jigsaw.puzzle.permutation_file).
    #[arg(long)]
    out: Option<PathBuf>,
}

impl JigsawCommand {
    pub fn run(&self) -> anyhow::Result<()> {
        match self {
            JigsawCommand::Permutations(args) => {
                let set = match args.selection {
                    SelectionArg::Average => PermutationSet::max_hamming(args.n, args.seed)?,
                    SelectionArg::Minimum => PermutationSet::max_min_hamming(args.n, args.seed)?,
                };
                let (min, mean) = set.distances();
                println!(
                    "{} permutations ({:?} selection, seed {}): minimum Hamming distance {min}, mean {mean:.2}",
                    set.len(),
                    args.selection,
                    args.seed
                );
                if let Some(path) = &args.out {
                    std::fs::write(path, set.to_text())?;
                    println!("wrote {}", path.display());
                }
                Ok(())
            }
        }
    }
}
