//! How names and values travel from a door to the application: percent-escaped (URL paths and form
//! fields in the server, argument headers in the desktop app).

/// `encodeURIComponent`'s inverse; `None` for a malformed escape or bytes that are not UTF-8. The one
/// decoder of the doors: the server's paths and form fields, the desktop app's argument headers.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
