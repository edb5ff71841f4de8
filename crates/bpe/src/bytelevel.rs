//! GPT-2's byte-level alphabet: every byte as one printable char, the form in which
//! byte-level BPE vocabularies and merges are written.

/// `bytes_to_unicode()`: the char that stands for each byte.
pub fn byte_chars() -> [char; 256] {
    let mut out = ['\0'; 256];
    let mut n = 0u32;
    for b in 0..=255u8 {
        let printable = (b'!'..=b'~').contains(&b) || (0xA1..=0xAC).contains(&b) || b >= 0xAE;
        out[b as usize] = if printable {
            char::from(b)
        } else {
            let c = char::from_u32(256 + n).expect("valid");
            n += 1;
            c
        };
    }
    out
}

/// The bytes that 256, 257, ... stand for, in order.
const UNPRINTABLE: [u8; 68] = {
    let mut out = [0u8; 68];
    let mut n = 0;
    let mut b = 0usize;
    while b < 256 {
        let x = b as u8;
        let printable = (x >= b'!' && x <= b'~') || (x >= 0xA1 && x <= 0xAC) || x >= 0xAE;
        if !printable {
            out[n] = x;
            n += 1;
        }
        b += 1;
    }
    out
};

/// A vocabulary string back to its bytes; `None` if a char is outside the alphabet.
pub fn to_bytes(token: &str, table: &[char; 256]) -> Option<Vec<u8>> {
    token
        .chars()
        .map(|c| {
            let cp = c as u32;
            // The alphabet is bytes themselves (printable ones) and 256.. for the rest.
            if cp < 256 && table[cp as usize] == c {
                Some(cp as u8)
            } else if (256..256 + 68).contains(&cp) {
                UNPRINTABLE.get((cp - 256) as usize).copied()
            } else {
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphabet_round_trips() {
        let t = byte_chars();
        assert_eq!(t[b' ' as usize], 'Ġ');
        assert_eq!(t[b'\n' as usize], 'Ċ');
        assert_eq!(t[b'a' as usize], 'a');
        for b in 0..=255u8 {
            assert_eq!(to_bytes(&t[b as usize].to_string(), &t), Some(vec![b]));
        }
        assert_eq!(to_bytes("é", &t), Some(vec![0xE9]));
        assert_eq!(to_bytes("中", &t), None);
    }
}
