//! Rendering without the daemon (`honeybot-narrator speak`): sentences to one WAV file.

use std::time::{Duration, Instant};

use crate::audio::Audio;
use crate::engine::{Engine, EngineError};
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
    })
}
