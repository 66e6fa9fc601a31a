//! Mono 16-bit audio: the unit engines produce and sinks consume.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Mono signed 16-bit samples at `rate` Hz.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audio {
    pub rate: u32,
    pub samples: Vec<i16>,
}

/// Errors reading or writing WAV data.
#[derive(Debug, thiserror::Error)]
pub enum WavError {
    #[error("writing WAV file {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: hound::Error,
    },
    #[error("not a 16-bit PCM WAV stream: {0}")]
    Format(&'static str),
}

impl Audio {
    pub fn silence(rate: u32, length: Duration) -> Self {
        let n = (length.as_secs_f64() * f64::from(rate)).round() as usize;
        Self {
            rate,
            samples: vec![0; n],
        }
    }

    /// Samples from little-endian 16-bit bytes (a trailing odd byte is ignored).
    pub fn from_le_bytes(rate: u32, bytes: &[u8]) -> Self {
        let samples = bytes
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect();
        Self { rate, samples }
    }

    pub fn duration(&self) -> Duration {
        if self.rate == 0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64(self.samples.len() as f64 / f64::from(self.rate))
    }

    /// Root mean square of the samples, as a fraction of full scale (0.0 = digital silence).
    pub fn rms(&self) -> f64 {
        rms(&self.samples)
    }

    /// The same audio at another rate (linear interpolation: enough for speech between the
    /// usual 16/22.05/24 kHz voice rates).
    pub fn resampled(&self, rate: u32) -> Audio {
        if rate == self.rate || self.samples.is_empty() || self.rate == 0 {
            return Audio {
                rate,
                samples: self.samples.clone(),
            };
        }
        let ratio = f64::from(self.rate) / f64::from(rate);
        let n = (self.samples.len() as f64 / ratio).floor() as usize;
        let last = self.samples.len() - 1;
        let samples = (0..n)
            .map(|i| {
                let pos = i as f64 * ratio;
                let j = (pos.floor() as usize).min(last);
                let frac = pos - j as f64;
                let a = f64::from(self.samples[j]);
                let b = f64::from(self.samples[(j + 1).min(last)]);
                (a + (b - a) * frac).round() as i16
            })
            .collect();
        Audio { rate, samples }
    }

    pub fn to_le_bytes(&self) -> Vec<u8> {
        self.samples.iter().flat_map(|s| s.to_le_bytes()).collect()
    }

    /// Parses a 16-bit PCM WAV stream. A streamed WAV (espeak-ng `--stdout`) declares a
    /// placeholder length; the data chunk is then whatever follows its header.
    pub fn from_wav_bytes(bytes: &[u8]) -> Result<Audio, WavError> {
        if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
            return Err(WavError::Format("no RIFF/WAVE header"));
        }
        let mut pos = 12;
        let mut fmt: Option<(u16, u32, u16)> = None;
        while pos + 8 <= bytes.len() {
            let id = &bytes[pos..pos + 4];
            let len = u32::from_le_bytes([
                bytes[pos + 4],
                bytes[pos + 5],
                bytes[pos + 6],
                bytes[pos + 7],
            ]) as usize;
            let body = pos + 8;
            if id == b"fmt " {
                let f = bytes
                    .get(body..body + 16)
                    .ok_or(WavError::Format("short fmt chunk"))?;
                let format = u16::from_le_bytes([f[0], f[1]]);
                let channels = u16::from_le_bytes([f[2], f[3]]);
                let rate = u32::from_le_bytes([f[4], f[5], f[6], f[7]]);
                let bits = u16::from_le_bytes([f[14], f[15]]);
                if format != 1 || bits != 16 {
                    return Err(WavError::Format("not 16-bit PCM"));
                }
                fmt = Some((channels, rate, bits));
            } else if id == b"data" {
                let (channels, rate, _) = fmt.ok_or(WavError::Format("data before fmt chunk"))?;
                let end = body.saturating_add(len).min(bytes.len());
                let mut audio = Audio::from_le_bytes(rate, &bytes[body..end]);
                if channels > 1 {
                    let c = usize::from(channels);
                    audio.samples = audio
                        .samples
                        .chunks_exact(c)
                        .map(|f| (f.iter().map(|&s| i32::from(s)).sum::<i32>() / c as i32) as i16)
                        .collect();
                }
                return Ok(audio);
            }
            pos = body.saturating_add(len + (len & 1));
        }
        Err(WavError::Format("no data chunk"))
    }

    /// Writes a mono 16-bit WAV file.
    pub fn write_wav(&self, path: &Path) -> Result<(), WavError> {
        let err = |source| WavError::Write {
            path: path.to_owned(),
            source,
        };
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: self.rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).map_err(err)?;
        {
            let mut w16 = w.get_i16_writer(self.samples.len() as u32);
            for &s in &self.samples {
                w16.write_sample(s);
            }
            w16.flush().map_err(err)?;
        }
        w.finalize().map_err(err)
    }

    /// Appends `other`, resampled to this rate if needed.
    pub fn append(&mut self, other: &Audio) {
        if other.rate == self.rate {
            self.samples.extend_from_slice(&other.samples);
        } else {
            self.samples
                .extend_from_slice(&other.resampled(self.rate).samples);
        }
    }
}

/// A WAV file written as the audio comes, so a long job never sits whole in memory. The
/// header's lengths are fixed up by [`WavFile::finish`].
pub struct WavFile {
    path: PathBuf,
    rate: u32,
    writer: hound::WavWriter<std::io::BufWriter<std::fs::File>>,
}

impl std::fmt::Debug for WavFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavFile")
            .field("path", &self.path)
            .field("rate", &self.rate)
            .finish_non_exhaustive()
    }
}

impl WavFile {
    pub fn create(path: &Path, rate: u32) -> Result<WavFile, WavError> {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let writer = hound::WavWriter::create(path, spec).map_err(|source| WavError::Write {
            path: path.to_owned(),
            source,
        })?;
        Ok(WavFile {
            path: path.to_owned(),
            rate,
            writer,
        })
    }

    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Appends `audio` (resampled to the file's rate when it differs).
    pub fn write(&mut self, audio: &Audio) -> Result<(), WavError> {
        let resampled;
        let samples = if audio.rate == self.rate {
            &audio.samples
        } else {
            resampled = audio.resampled(self.rate);
            &resampled.samples
        };
        for &s in samples {
            self.writer
                .write_sample(s)
                .map_err(|source| WavError::Write {
                    path: self.path.clone(),
                    source,
                })?;
        }
        Ok(())
    }

    pub fn finish(self) -> Result<(), WavError> {
        let path = self.path;
        self.writer
            .finalize()
            .map_err(|source| WavError::Write { path, source })
    }
}

/// Root mean square of `samples` relative to full scale.
pub fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / samples.len() as f64).sqrt() / 32768.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_round_trip_and_streamed_header() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = Audio {
            rate: 16000,
            samples: vec![0, 1000, -1000, 32767, -32768],
        };
        let p = dir.path().join("a.wav");
        a.write_wav(&p).expect("write");
        let bytes = std::fs::read(&p).expect("read");
        assert_eq!(Audio::from_wav_bytes(&bytes).expect("parse"), a);
        // espeak-ng --stdout declares 0x7ffff000 bytes of data it never writes.
        let mut streamed = bytes.clone();
        let data = streamed
            .windows(4)
            .position(|w| w == b"data")
            .expect("data chunk");
        streamed[data + 4..data + 8].copy_from_slice(&0x7fff_f000u32.to_le_bytes());
        assert_eq!(Audio::from_wav_bytes(&streamed).expect("parse"), a);
        assert!(Audio::from_wav_bytes(b"RIFF").is_err());
        assert!(Audio::from_wav_bytes(&bytes[..30]).is_err());
    }

    #[test]
    fn resampling_keeps_duration() {
        let a = Audio {
            rate: 22050,
            samples: (0..22050).map(|i| (i % 100) as i16).collect(),
        };
        let b = a.resampled(16000);
        assert_eq!(b.samples.len(), 16000);
        assert!((a.duration().as_secs_f64() - b.duration().as_secs_f64()).abs() < 0.001);
        assert!(rms(&[0, 0]) == 0.0 && rms(&[32767, -32767]) > 0.99);
    }
}
