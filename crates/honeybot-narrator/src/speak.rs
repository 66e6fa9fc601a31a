//! Rendering without the daemon (`honeybot-narrator speak`): sentences to one WAV file,
//! written sentence by sentence (a long text never sits in memory as audio).

use std::path::Path;
use std::time::{Duration, Instant};

use crate::audio::{Audio, WavError, WavFile};
use crate::config::Config;
use crate::engine::{Engine, EngineError, EngineKind};
use crate::markdown::Script;

/// What rendering a whole script gave, with timings.
#[derive(Debug)]
pub struct Rendered {
    /// Length of the audio written.
    pub duration: Duration,
    pub sentences: usize,
    /// Time spent synthesising, all sentences.
    pub synth_time: Duration,
    /// Time to synthesise the first sentence: the time to first audio with the voice loaded.
    pub first_sentence_time: Option<Duration>,
    /// Time to start the engine (piper: load the model).
    pub load_time: Duration,
}

impl Rendered {
    /// Synthesis time over audio duration (below 1: faster than real time).
    pub fn real_time_factor(&self) -> f64 {
        self.synth_time.as_secs_f64() / self.duration.as_secs_f64().max(1e-9)
    }

    /// One line for people (and for benches/narrator.sh, which reads the figures from it).
    pub fn summary(&self) -> String {
        format!(
            "{} sentences, {:.2} s of audio; engine load {:.2} s, synthesis {:.2} s (real-time factor {:.3}), first sentence {:.3} s",
            self.sentences,
            self.duration.as_secs_f64(),
            self.load_time.as_secs_f64(),
            self.synth_time.as_secs_f64(),
            self.real_time_factor(),
            self.first_sentence_time.unwrap_or_default().as_secs_f64(),
        )
    }
}

/// Why rendering failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Wav(#[from] WavError),
}

/// Starts `kind` with the settings of `cfg` and renders `script` with its sentence gap into
/// the WAV file `output`.
pub fn render_with(
    kind: EngineKind,
    cfg: &Config,
    script: &Script,
    output: &Path,
) -> Result<Rendered, RenderError> {
    let settings = cfg.engine_settings();
    let t = Instant::now();
    let mut engine = Engine::start(kind, &settings.piper, &settings.espeak)?;
    let load_time = t.elapsed();
    let mut rendered = render(
        &mut engine,
        script,
        Duration::from_millis(cfg.sentence_gap_ms),
        output,
    )?;
    rendered.load_time = load_time;
    Ok(rendered)
}

/// Synthesises `script` sentence by sentence into the WAV file `output`, with `gap` of
/// silence between sentences. The file's rate is the first sentence's.
pub fn render(
    engine: &mut Engine,
    script: &Script,
    gap: Duration,
    output: &Path,
) -> Result<Rendered, RenderError> {
    let mut file: Option<WavFile> = None;
    let mut samples: u64 = 0;
    let mut synth_time = Duration::ZERO;
    let mut first_sentence_time = None;
    for sentence in &script.sentences {
        let t = Instant::now();
        let part = engine.synthesize(sentence)?;
        let took = t.elapsed();
        synth_time += took;
        first_sentence_time.get_or_insert(took);
        let w = match file.as_mut() {
            Some(w) => {
                let silence = Audio::silence(w.rate(), gap);
                samples += silence.samples.len() as u64;
                w.write(&silence)?;
                w
            }
            None => file.insert(WavFile::create(output, part.rate)?),
        };
        let part = part.resampled(w.rate());
        samples += part.samples.len() as u64;
        w.write(&part)?;
    }
    let rate = match file {
        Some(w) => {
            let rate = w.rate();
            w.finish()?;
            rate
        }
        None => {
            let w = WavFile::create(output, 22050)?;
            w.finish()?;
            22050
        }
    };
    Ok(Rendered {
        duration: Duration::from_secs_f64(samples as f64 / f64::from(rate)),
        sentences: script.sentences.len(),
        synth_time,
        first_sentence_time,
        load_time: Duration::ZERO,
    })
}
