//! Unpredictable ids and keys from the operating system's CSPRNG (getrandom): a sign link's
//! token lets its holder sign, so neither it nor a generated key may be guessable.

const ALPHANUMERIC: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `len` characters from `[0-9A-Za-z]`, uniformly (bytes above the largest multiple of 62
/// are drawn again, so no character is likelier than another).
pub(crate) fn alphanumeric(len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut buffer = [0u8; 64];
    while out.len() < len {
        fill(&mut buffer);
        for &byte in &buffer {
            if out.len() == len {
                break;
            }
            if usize::from(byte) < 62 * 4 {
                out.push(char::from(ALPHANUMERIC[usize::from(byte) % 62]));
            }
        }
    }
    out
}

/// Fills `buffer` from the OS. Without a working CSPRNG the emulator cannot issue safe
/// tokens; that is a broken machine, not an input, so it stops loudly.
fn fill(buffer: &mut [u8]) {
    if let Err(e) = getrandom::fill(buffer) {
        panic!("the operating system's random source failed: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_alphanumeric_of_the_length_asked_and_differ() {
        let a = alphanumeric(30);
        let b = alphanumeric(30);
        assert_eq!(a.len(), 30);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()), "{a}");
        assert_ne!(a, b);
        // Every character occurs: the alphabet is covered, not a subset of it.
        let many = alphanumeric(62 * 200);
        let seen: std::collections::BTreeSet<char> = many.chars().collect();
        assert_eq!(seen.len(), 62);
    }
}
