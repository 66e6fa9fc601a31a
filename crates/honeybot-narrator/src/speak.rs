//! Rendering without the daemon (`honeybot-narrator speak`): sentences to one WAV file.

use std::time::{Duration, Instant};

use crate::audio::Audio;
use crate::config::Config;
use crate::engine::{Engine, EngineError, EngineKind};
use crate::markdown::Script;

/// The audio of a whole script, with timings.
#[derive(Debug)]
pub struct Rendered {
    pub audio: Audio,
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
        self.synth_time.as_secs_f64() / self.audio.duration().as_secs_f64().max(1e-9)
    }

    /// One line for people (and for benches/narrator.sh, which reads the figures from it).
    pub fn summary(&self) -> String {
        format!(
            "{} sentences, {:.2} s of audio; engine load {:.2} s, synthesis {:.2} s (real-time factor {:.3}), first sentence {:.3} s",
            self.sentences,
            self.audio.duration().as_secs_f64(),
            self.load_time.as_secs_f64(),
            self.synth_time.as_secs_f64(),
            self.real_time_factor(),
            self.first_sentence_time.unwrap_or_default().as_secs_f64(),
        )
    }
}

/// Starts `kind` with the settings of `cfg` and renders `script` with its sentence gap.
pub fn render_with(
    kind: EngineKind,
    cfg: &Config,
    script: &Script,
) -> Result<Rendered, EngineError> {
    let settings = cfg.engine_settings();
    let t = Instant::now();
    let mut engine = Engine::start(kind, &settings.piper, &settings.espeak)?;
    let load_time = t.elapsed();
    let mut rendered = render(
        &mut engine,
        script,
        Duration::from_millis(cfg.sentence_gap_ms),
    )?;
    rendered.load_time = load_time;
    Ok(rendered)
}

/// Synthesises `script` sentence by sentence, with `gap` of silence between sentences.
pub fn render(
    engine: &mut Engine,
    script: &Script,
    gap: Duration,
) -> Result<Rendered, EngineError> {
    let mut audio: Option<Audio> = None;
    let mut synth_time = Duration::ZERO;
    let mut first_sentence_time = None;
    for sentence in &script.sentences {
        let t = Instant::now();
        let part = engine.synthesize(sentence)?;
        let took = t.elapsed();
        synth_time += took;
        first_sentence_time.get_or_insert(took);
        match audio.as_mut() {
            None => audio = Some(part),
            Some(a) => {
                let silence = Audio::silence(a.rate, gap);
                a.append(&silence);
                a.append(&part);
            }
        }
    }
    Ok(Rendered {
        audio: audio.unwrap_or(Audio {
            rate: 22050,
            samples: Vec::new(),
        }),
        sentences: script.sentences.len(),
        synth_time,
        first_sentence_time,
        load_time: Duration::ZERO,
    })
}
