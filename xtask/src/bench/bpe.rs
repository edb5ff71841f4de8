//! `cargo xtask bench bpe`: pricer-bpe against `tokenizers` on many generated texts, id
//! for id, and both encoders' speed side by side on the same texts.

use std::path::PathBuf;

use anyhow::{bail, Result};
use pricer_bpe::Bpe;
use rayon::prelude::*;

use pricer_core::rng::SplitMix64;

/// Characters mutations insert: the classes the pre-tokenizer tells apart, and traps.
const ALPHABET: &[char] = &[
    ' ', ' ', ' ', '\n', '\r', '\t', '\'', '\'', 'ſ', 'S', 's', 'T', 'L', 'e', 'E', '.', ',', '!',
    '-', '$', '"', '0', '7', '9', '\u{a0}', '\u{3000}', '\u{2028}', '\u{85}', '\u{1c}', '\u{200b}',
    '\u{301}', 'é', 'ß', 'Ω', '中', '½', '²', '٣', '👍', '™', '®', '°', '×', '<', '|',
];

/// A variant of `base`: a random window of it with random insertions and case flips.
fn mutate(rng: &mut SplitMix64, base: &str) -> String {
    let chars: Vec<char> = base.chars().collect();
    if chars.is_empty() {
        return String::new();
    }
    let start = (rng.next_u64() % chars.len() as u64) as usize;
    let len = 1 + (rng.next_u64() % 400) as usize;
    let mut out = String::new();
    for &c in chars.iter().skip(start).take(len) {
        match rng.next_u64() % 100 {
            0..=4 => out.push(ALPHABET[(rng.next_u64() % ALPHABET.len() as u64) as usize]),
            5..=7 => out.extend(c.to_uppercase()),
            8 => out.push_str("  "),
            9 => out.push('\''),
            _ => {}
        }
        out.push(c);
    }
    out
}

pub fn run(texts: usize, threads: usize) -> Result<()> {
    let corpus = crate::bench::synth_corpus(5000, false)?;
    let ingest = PathBuf::from("target/bench/bpe-ingest");
    if !ingest.join("candidates.art").is_file() {
        let files = pricer_ingest::inputs::resolve(&[corpus])?;
        let stage = pricer_ingest::IngestStage::new(pricer_ingest::V1, files, &ingest);
        pricer_core::stage::run_now(&stage)?;
    }
    let bases: Vec<String> =
        pricer_core::ArtifactReader::<pricer_core::Candidate>::open(ingest.join("candidates.art"))?
            .map(|c| c.map(|c| c.text))
            .collect::<Result<_, _>>()?;
    let tok_dir = crate::bench::bench_tokenizer_dir()?;
    let json = std::fs::read(tok_dir.join("tokenizer.json"))?;
    let reference = tokenizers::Tokenizer::from_bytes(&json).map_err(|e| anyhow::anyhow!("{e}"))?;
    let fast = Bpe::from_tokenizer_json(&json)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let mut rng = SplitMix64(7);
    let (mut done, mut chars, mut skipped) = (0usize, 0usize, 0usize);
    let (mut t_ref, mut t_fast) = (0f64, 0f64);
    // Batches of generated texts: the candidates themselves first, then variants.
    while done < texts {
        let n = (texts - done).min(50_000);
        let batch: Vec<String> = (0..n)
            .map(|k| {
                let i = done + k;
                if i < bases.len() {
                    bases[i].clone()
                } else {
                    let b = &bases[(rng.next_u64() % bases.len() as u64) as usize];
                    mutate(&mut rng, b)
                }
            })
            .collect();
        let batch: Vec<String> = batch.into_iter().filter(|t| fast.covers(t)).collect();
        skipped += n - batch.len();
        chars += batch.iter().map(|t| t.len()).sum::<usize>();
        let t = std::time::Instant::now();
        let want: Vec<Vec<u32>> = pool
            .install(|| {
                batch
                    .par_iter()
                    .map(|t| {
                        reference
                            .encode_fast(t.as_str(), false)
                            .map(|e| e.get_ids().to_vec())
                    })
                    .collect::<Result<_, _>>()
            })
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        t_ref += t.elapsed().as_secs_f64();
        let t = std::time::Instant::now();
        let got: Vec<Vec<u32>> =
            pool.install(|| batch.par_iter().map(|t| fast.encode(t)).collect());
        t_fast += t.elapsed().as_secs_f64();
        if let Some(i) = (0..batch.len()).find(|&i| got[i] != want[i]) {
            bail!(
                "pricer-bpe differs from tokenizers on text {}: {:?}",
                done + i,
                batch[i]
            );
        }
        done += n;
    }
    println!(
        "{} texts ({:.1} MB; {} holding an added token left out), {threads} threads: identical ids",
        done - skipped,
        chars as f64 / 1e6,
        skipped
    );
    println!(
        "tokenizers {t_ref:.2} s ({:.1} MB/s), pricer-bpe {t_fast:.2} s ({:.1} MB/s): {:.1}x",
        chars as f64 / 1e6 / t_ref,
        chars as f64 / 1e6 / t_fast,
        t_ref / t_fast
    );
    Ok(())
}
