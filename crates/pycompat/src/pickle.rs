//! `pickle.dump(obj, f, protocol=4)` as CPython's C pickler (`Modules/_pickle.c`) writes
//! it, for the few kinds of objects pricer pickles: lists, dicts, `str`, `float`, `int`,
//! `bool`, `None`, an empty tuple and a class reference, with the pickler's memo.
//!
//! The bytes depend on how the C pickler frames its output: after `PROTO 4`, opcodes go
//! into a frame (`FRAME` and its 8-byte length) that is closed at the start of the first
//! `save()` once it holds 64 KiB or more; a frame under 4 bytes is written without its
//! header; a string of 64 KiB or more closes the current frame and is written outside
//! any frame. Every object goes through [`Pickler::save_start`] where the C pickler calls
//! `save()`, so the frames fall where CPython's do. Output is streamed: a frame is written
//! as soon as it closes.
//!
//! What is memoized and what is fetched from the memo is the caller's choice, as object
//! identity is in CPython (`MEMOIZE` returns the index; [`Pickler::get`] fetches it).

use std::io::{self, Write};

/// A frame closes at the start of the first object saved once it holds this many bytes.
const FRAME_SIZE_TARGET: usize = 64 * 1024;
/// A frame with fewer bytes is written without its header.
const FRAME_SIZE_MIN: usize = 4;

/// Protocol 4's opcodes used here.
pub mod op {
    pub const PROTO: u8 = 0x80;
    pub const FRAME: u8 = 0x95;
    pub const STOP: u8 = b'.';
    pub const MARK: u8 = b'(';
    pub const EMPTY_LIST: u8 = b']';
    pub const EMPTY_DICT: u8 = b'}';
    pub const EMPTY_TUPLE: u8 = b')';
    pub const APPEND: u8 = b'a';
    pub const APPENDS: u8 = b'e';
    pub const SETITEM: u8 = b's';
    pub const SETITEMS: u8 = b'u';
    pub const BUILD: u8 = b'b';
    pub const NEWOBJ: u8 = 0x81;
    pub const STACK_GLOBAL: u8 = 0x93;
    pub const MEMOIZE: u8 = 0x94;
    pub const BINGET: u8 = b'h';
    pub const LONG_BINGET: u8 = b'j';
    pub const SHORT_BINUNICODE: u8 = 0x8c;
    pub const BINUNICODE: u8 = b'X';
    pub const BINUNICODE8: u8 = 0x8d;
    pub const BINFLOAT: u8 = b'G';
    pub const BININT1: u8 = b'K';
    pub const BININT2: u8 = b'M';
    pub const BININT: u8 = b'J';
    pub const LONG1: u8 = 0x8a;
    pub const NEWTRUE: u8 = 0x88;
    pub const NEWFALSE: u8 = 0x89;
    pub const NONE: u8 = b'N';
}

/// How many items the C pickler puts between `MARK` and `APPENDS` / `SETITEMS`.
pub const BATCHSIZE: usize = 1000;

/// A protocol 4 pickle being written to `out`.
#[derive(Debug)]
pub struct Pickler<W: Write> {
    out: W,
    /// The open frame's bytes (None: no frame open).
    frame: Option<Vec<u8>>,
    /// The next memo index.
    memo: u32,
    written: u64,
}

impl<W: Write> Pickler<W> {
    /// Starts a pickle: `PROTO 4`, then framing.
    pub fn new(mut out: W) -> io::Result<Self> {
        out.write_all(&[op::PROTO, 4])?;
        Ok(Pickler {
            out,
            frame: None,
            memo: 0,
            written: 2,
        })
    }

    /// Bytes written to `out` so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Opcode bytes, into the open frame (opening one if none is).
    pub fn write(&mut self, bytes: &[u8]) {
        self.frame
            .get_or_insert_with(|| Vec::with_capacity(FRAME_SIZE_TARGET + 4096))
            .extend_from_slice(bytes);
    }

    /// Where the C pickler's `save()` starts: a frame of 64 KiB or more closes.
    pub fn save_start(&mut self) -> io::Result<()> {
        if self
            .frame
            .as_ref()
            .is_some_and(|f| f.len() >= FRAME_SIZE_TARGET)
        {
            self.commit()?;
        }
        Ok(())
    }

    /// Closes the open frame: `FRAME` and its length before its bytes, unless it holds
    /// fewer than 4.
    fn commit(&mut self) -> io::Result<()> {
        let Some(frame) = self.frame.take() else {
            return Ok(());
        };
        if frame.len() >= FRAME_SIZE_MIN {
            let mut head = [0u8; 9];
            head[0] = op::FRAME;
            head[1..].copy_from_slice(&(frame.len() as u64).to_le_bytes());
            self.out.write_all(&head)?;
            self.written += 9;
        }
        self.out.write_all(&frame)?;
        self.written += frame.len() as u64;
        Ok(())
    }

    /// `MEMOIZE`: the object just pushed gets the next memo index, returned.
    pub fn memoize(&mut self) -> u32 {
        self.write(&[op::MEMOIZE]);
        self.memo += 1;
        self.memo - 1
    }

    /// Saves an object already in the memo (`BINGET` / `LONG_BINGET`).
    pub fn get(&mut self, index: u32) -> io::Result<()> {
        self.save_start()?;
        match u8::try_from(index) {
            Ok(i) => self.write(&[op::BINGET, i]),
            Err(_) => {
                let mut b = [op::LONG_BINGET, 0, 0, 0, 0];
                b[1..].copy_from_slice(&index.to_le_bytes());
                self.write(&b);
            }
        }
        Ok(())
    }

    /// Saves a `str` not in the memo and memoizes it; returns its memo index. A string
    /// of 64 KiB or more (UTF-8) is written outside any frame, as CPython writes it.
    pub fn str(&mut self, s: &str) -> io::Result<u32> {
        self.save_start()?;
        let n = s.len();
        let mut head = Vec::with_capacity(9);
        if n <= 0xff {
            head.extend_from_slice(&[op::SHORT_BINUNICODE, n as u8]);
        } else if let Ok(n) = u32::try_from(n) {
            head.push(op::BINUNICODE);
            head.extend_from_slice(&n.to_le_bytes());
        } else {
            head.push(op::BINUNICODE8);
            head.extend_from_slice(&(n as u64).to_le_bytes());
        }
        if n >= FRAME_SIZE_TARGET {
            self.commit()?;
            self.out.write_all(&head)?;
            self.out.write_all(s.as_bytes())?;
            self.written += (head.len() + n) as u64;
        } else {
            self.write(&head);
            self.write(s.as_bytes());
        }
        Ok(self.memoize())
    }

    /// Saves a `float` (`BINFLOAT`, big-endian).
    pub fn float(&mut self, x: f64) -> io::Result<()> {
        self.save_start()?;
        let mut b = [op::BINFLOAT, 0, 0, 0, 0, 0, 0, 0, 0];
        b[1..].copy_from_slice(&x.to_be_bytes());
        self.write(&b);
        Ok(())
    }

    /// Saves an `int`, in the smallest form the C pickler picks.
    pub fn int(&mut self, x: i64) -> io::Result<()> {
        self.save_start()?;
        if (0..=0xff).contains(&x) {
            self.write(&[op::BININT1, x as u8]);
        } else if (0..=0xffff).contains(&x) {
            let v = (x as u16).to_le_bytes();
            self.write(&[op::BININT2, v[0], v[1]]);
        } else if let Ok(v) = i32::try_from(x) {
            let mut b = [op::BININT, 0, 0, 0, 0];
            b[1..].copy_from_slice(&v.to_le_bytes());
            self.write(&b);
        } else {
            // LONG1: the shortest little-endian two's complement.
            let bytes = x.to_le_bytes();
            let mut n = 8;
            while n > 1 {
                let (top, next) = (bytes[n - 1], bytes[n - 2]);
                let redundant = (top == 0 && next & 0x80 == 0) || (top == 0xff && next & 0x80 != 0);
                if !redundant {
                    break;
                }
                n -= 1;
            }
            self.write(&[op::LONG1, n as u8]);
            self.write(&bytes[..n]);
        }
        Ok(())
    }

    pub fn bool(&mut self, b: bool) -> io::Result<()> {
        self.save_start()?;
        self.write(&[if b { op::NEWTRUE } else { op::NEWFALSE }]);
        Ok(())
    }

    pub fn none(&mut self) -> io::Result<()> {
        self.save_start()?;
        self.write(&[op::NONE]);
        Ok(())
    }

    /// Saves a class as `module.name` (`STACK_GLOBAL`, the names saved as strings) and
    /// memoizes it; returns its memo index.
    pub fn global(&mut self, module: &str, name: &str) -> io::Result<u32> {
        self.save_start()?;
        self.str(module)?;
        self.str(name)?;
        self.write(&[op::STACK_GLOBAL]);
        Ok(self.memoize())
    }

    /// Ends the pickle (`STOP`), closes the last frame and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.write(&[op::STOP]);
        self.commit()?;
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `pickle.dumps([1.5, "ab", None, True, 300, -2, 70000, 2**40], protocol=4)` from
    /// CPython 3.11.
    #[test]
    fn small_values_as_cpython_writes_them() {
        let mut p = Pickler::new(Vec::new()).unwrap();
        p.save_start().unwrap();
        p.write(&[op::EMPTY_LIST]);
        p.memoize();
        p.write(&[op::MARK]);
        p.float(1.5).unwrap();
        p.str("ab").unwrap();
        p.none().unwrap();
        p.bool(true).unwrap();
        p.int(300).unwrap();
        p.int(-2).unwrap();
        p.int(70000).unwrap();
        p.int(1 << 40).unwrap();
        p.write(&[op::APPENDS]);
        let got = p.finish().unwrap();
        let want: &[u8] = b"\x80\x04\x95*\x00\x00\x00\x00\x00\x00\x00]\x94(G?\xf8\x00\x00\x00\x00\x00\x00\x8c\x02ab\x94N\x88M,\x01J\xfe\xff\xff\xffJp\x11\x01\x00\x8a\x06\x00\x00\x00\x00\x00\x01e.";
        assert_eq!(got, want);
    }

    /// `pickle.dumps(["a" * 70000, "b"], protocol=4)`: a string of 64 KiB or more closes
    /// the frame (one of 3 bytes: written without a header) and goes outside any frame.
    #[test]
    fn a_large_string_is_written_outside_the_frames() {
        let big = "a".repeat(70_000);
        let mut p = Pickler::new(Vec::new()).unwrap();
        p.save_start().unwrap();
        p.write(&[op::EMPTY_LIST]);
        p.memoize();
        p.write(&[op::MARK]);
        p.str(&big).unwrap();
        p.str("b").unwrap();
        p.write(&[op::APPENDS]);
        let got = p.finish().unwrap();
        let mut want = b"\x80\x04]\x94(Xp\x11\x01\x00".to_vec();
        want.extend_from_slice(big.as_bytes());
        want.extend_from_slice(b"\x95\x07\x00\x00\x00\x00\x00\x00\x00\x94\x8c\x01b\x94e.");
        assert_eq!(got.len(), 70_026);
        assert!(got == want);
    }
}
