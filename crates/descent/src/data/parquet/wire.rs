//! [`StreamStats`] as bytes, for a data-parallel run whose root makes the one pass over the
//! data and sends what it found to the other processes: every number travels as its exact
//! bit pattern, so the scalers every process fits from the received statistics are the
//! root's to the last bit.
//!
//! # Format
//! ```text
//! every item a little-endian u64; an f64 as its bits (f64::to_bits), a string as its
//! byte length followed by its UTF-8 bytes, padded with zeros to a multiple of 8
//!
//! rows, dropped, |kept|, kept..., features, targets, has_classes (0 or 1), [|classes|, classes...],
//! has_val (0 or 1), [val rows, |val kept|, val kept..., val targets]
//! moments: n, columns, mean..., m2..., min..., max...          (columns values each)
//! ```
//! The rows and bytes the pass read ([`StreamStats::read`]) stay behind: the receiver read
//! none of them. The validation part ([`StreamStats::val`]) travels, so that a library
//! caller sharing the pass in its own way ([`Run::streaming_with`](crate::Run::streaming_with))
//! streams the same validation rows as the root (the command line still refuses a split
//! of streamed data under mpirun: every rank would read every validation row).

use super::stats::{Moments, PartStats, StreamStats};
use crate::{Error, Result};

impl StreamStats {
    /// The statistics as bytes (see the module doc); [`StreamStats::from_bytes`] reads them
    /// back bit for bit.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer(Vec::new());
        w.u64(self.rows);
        w.u64(self.dropped);
        w.len(self.kept.len());
        self.kept.iter().for_each(|&k| w.u64(k));
        w.moments(&self.features);
        w.moments(&self.targets);
        match &self.classes {
            None => w.u64(0),
            Some(labels) => {
                w.u64(1);
                w.len(labels.len());
                labels.iter().for_each(|l| w.text(l));
            }
        }
        match &self.val {
            None => w.u64(0),
            Some(v) => {
                w.u64(1);
                w.u64(v.rows);
                w.len(v.kept.len());
                v.kept.iter().for_each(|&k| w.u64(k));
                w.moments(&v.targets);
            }
        }
        w.0
    }

    /// Reads what [`StreamStats::to_bytes`] wrote; an error names the byte where the
    /// statistics were cut short or made no sense.
    pub fn from_bytes(bytes: &[u8]) -> Result<StreamStats> {
        let mut r = Reader { bytes, at: 0 };
        let rows = r.u64()?;
        let dropped = r.u64()?;
        let n = r.len(8)?;
        let kept = (0..n).map(|_| r.u64()).collect::<Result<_>>()?;
        let features = r.moments()?;
        let targets = r.moments()?;
        let classes = match r.u64()? {
            0 => None,
            1 => {
                let n = r.len(8)?;
                Some((0..n).map(|_| r.text()).collect::<Result<_>>()?)
            }
            other => return Err(r.bad(&format!("a class flag of {other}"))),
        };
        let val = match r.u64()? {
            0 => None,
            1 => {
                let rows = r.u64()?;
                let n = r.len(8)?;
                let kept = (0..n).map(|_| r.u64()).collect::<Result<_>>()?;
                let targets = r.moments()?;
                Some(PartStats {
                    rows,
                    kept,
                    targets,
                })
            }
            other => return Err(r.bad(&format!("a validation flag of {other}"))),
        };
        if r.at != bytes.len() {
            return Err(r.bad(&format!("{} bytes after the end", bytes.len() - r.at)));
        }
        Ok(StreamStats {
            rows,
            dropped,
            kept,
            features,
            targets,
            classes,
            read: (0, 0),
            val,
        })
    }
}

struct Writer(Vec<u8>);

impl Writer {
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    fn len(&mut self, n: usize) {
        self.u64(n as u64);
    }

    fn f64s(&mut self, v: &[f64]) {
        v.iter().for_each(|x| self.u64(x.to_bits()));
    }

    fn moments(&mut self, m: &Moments) {
        self.u64(m.n);
        self.len(m.mean.len());
        for column in [&m.mean, &m.m2, &m.min, &m.max] {
            self.f64s(column);
        }
    }

    fn text(&mut self, s: &str) {
        self.len(s.len());
        self.0.extend_from_slice(s.as_bytes());
        self.0.resize(self.0.len().next_multiple_of(8), 0);
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn bad(&self, what: &str) -> Error {
        Error::Data(format!(
            "the shared statistics of the stream are damaged at byte {} of {}: {what}",
            self.at,
            self.bytes.len()
        ))
    }

    fn u64(&mut self) -> Result<u64> {
        let end = self.at + 8;
        let Some(b) = self.bytes.get(self.at..end) else {
            return Err(self.bad("cut short"));
        };
        self.at = end;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }

    /// A count of items of at least `item` bytes each, refused if the bytes left cannot
    /// hold them (so that a damaged count allocates nothing).
    fn len(&mut self, item: usize) -> Result<usize> {
        let n = self.u64()?;
        let left = (self.bytes.len() - self.at) as u64;
        if n.saturating_mul(item as u64) > left {
            return Err(self.bad(&format!(
                "cut short or a bad count: {n} items with {left} bytes left"
            )));
        }
        Ok(n as usize)
    }

    fn f64s(&mut self, n: usize) -> Result<Vec<f64>> {
        (0..n).map(|_| self.u64().map(f64::from_bits)).collect()
    }

    fn moments(&mut self) -> Result<Moments> {
        let n = self.u64()?;
        let columns = self.len(4 * 8)?;
        Ok(Moments {
            n,
            mean: self.f64s(columns)?,
            m2: self.f64s(columns)?,
            min: self.f64s(columns)?,
            max: self.f64s(columns)?,
        })
    }

    fn text(&mut self) -> Result<String> {
        let n = self.len(1)?;
        let end = self.at + n;
        let text = std::str::from_utf8(&self.bytes[self.at..end])
            .map_err(|_| self.bad("a label that is not UTF-8"))?
            .to_string();
        self.at = end.next_multiple_of(8);
        if self.at > self.bytes.len() {
            return Err(self.bad("cut short"));
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments(values: &[f64]) -> Moments {
        Moments {
            n: 3,
            mean: values.to_vec(),
            m2: values.iter().map(|v| v * 2.0).collect(),
            min: values.iter().map(|v| v - 1.0).collect(),
            max: values.iter().map(|v| v + 1.0).collect(),
        }
    }

    /// Values whose bits a decimal detour could change (subnormals, -0, NaN with a payload,
    /// infinities, 0.1) and labels of odd lengths and non-ASCII text come back bit for bit.
    #[test]
    fn statistics_round_trip_bit_for_bit() {
        let odd = [
            0.1,
            -0.0,
            f64::MIN_POSITIVE / 3.0,
            f64::from_bits(0x7ff8_0000_dead_beef),
            f64::INFINITY,
            f64::NEG_INFINITY,
            1.0 / 3.0,
        ];
        let stats = StreamStats {
            rows: 1 << 40,
            dropped: 7,
            kept: vec![32, 0, 5],
            features: moments(&odd),
            targets: moments(&[]),
            classes: Some(vec![
                "".into(),
                "setosa".into(),
                "ünïcode 😀".into(),
                "12345678".into(),
            ]),
            read: (3, 999),
            val: None,
        };
        let bytes = stats.to_bytes();
        assert_eq!(bytes.len() % 8, 0);
        let back = StreamStats::from_bytes(&bytes).unwrap();
        assert_eq!((back.rows, back.dropped), (stats.rows, stats.dropped));
        assert_eq!(back.kept, stats.kept);
        assert_eq!(back.classes, stats.classes);
        assert_eq!(back.read, (0, 0), "the receiver read nothing");
        for (a, b) in [
            (&back.features, &stats.features),
            (&back.targets, &stats.targets),
        ] {
            assert_eq!(a.n, b.n);
            for (x, y) in [
                (&a.mean, &b.mean),
                (&a.m2, &b.m2),
                (&a.min, &b.min),
                (&a.max, &b.max),
            ] {
                let bits = |v: &Vec<f64>| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(x), bits(y));
            }
        }
        let none = StreamStats {
            classes: None,
            ..stats.clone()
        };
        assert_eq!(
            StreamStats::from_bytes(&none.to_bytes()).unwrap().classes,
            None
        );
        assert_eq!(back.val, None);
        // The validation part of a split travels too.
        let val = PartStats {
            rows: 9,
            kept: vec![3, 0, 6],
            targets: moments(&[0.1, 1.0 / 3.0, f64::MIN_POSITIVE / 3.0]),
        };
        let split = StreamStats {
            val: Some(val.clone()),
            ..stats.clone()
        };
        let back = StreamStats::from_bytes(&split.to_bytes()).unwrap();
        assert_eq!(back.val, Some(val));
        assert_eq!(back.kept, stats.kept);
    }

    #[test]
    fn damaged_statistics_are_refused_with_the_byte() {
        let stats = StreamStats {
            rows: 10,
            dropped: 0,
            kept: vec![10],
            features: moments(&[1.0, 2.0]),
            targets: moments(&[3.0]),
            classes: Some(vec!["a".into(), "b".into()]),
            read: (1, 80),
            val: None,
        };
        let bytes = stats.to_bytes();
        let e = StreamStats::from_bytes(&bytes[..bytes.len() - 8]).unwrap_err();
        assert!(e.to_string().contains("cut short"), "{e}");
        let mut huge = bytes.clone();
        huge[16..24].copy_from_slice(&u64::MAX.to_le_bytes()); // |kept|
        let e = StreamStats::from_bytes(&huge).unwrap_err().to_string();
        assert!(
            e.contains("at byte 24 of") && e.contains("a bad count"),
            "{e}"
        );
        let mut flag = bytes.clone();
        let n = flag.len();
        flag[n - 8..].copy_from_slice(&2u64.to_le_bytes()); // has_val
        let e = StreamStats::from_bytes(&flag).unwrap_err().to_string();
        assert!(e.contains("a validation flag of 2"), "{e}");
        let mut longer = bytes;
        longer.extend_from_slice(&[0; 8]);
        let e = StreamStats::from_bytes(&longer).unwrap_err().to_string();
        assert!(e.contains("8 bytes after the end"), "{e}");
    }
}
