//! Server-sent events: an incremental decoder of the `text/event-stream` format
//! (WHATWG HTML, "Server-sent events", §9.2.6 "Interpreting an event stream").
//!
//! Browsers decode this format themselves in `EventSource`, but `EventSource` cannot
//! send an `Authorization` header, and snapdeck's servers want the same Bearer key on
//! their event streams as on `/v1`. So the stream is read with `fetch` and decoded here:
//! bytes in, whole events out, whatever the chunk boundaries were (a chunk may end in
//! the middle of a line, of a UTF-8 character, or between the `\r` and `\n` of a line
//! end).
//!
//! What the decoder keeps of the format: `event` (the type; `message` when absent),
//! `data` (lines joined with `\n`), `id`; comments (`:` lines, used as keep-alives) and
//! `retry` are read and dropped; an event with no data is not dispatched, as the
//! standard says.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The event type: the `event` field, or `message`.
    pub event: String,
    /// The `data` lines, joined with `\n`.
    pub data: String,
    /// The last `id` field seen so far in the stream, if any.
    pub id: Option<String>,
}

/// Decodes a `text/event-stream` body chunk by chunk.
#[derive(Debug, Default)]
pub struct SseDecoder {
    /// Bytes of a line not yet ended.
    partial: Vec<u8>,
    /// The previous chunk ended in `\r`: a `\n` first in the next one belongs to it.
    after_cr: bool,
    /// Whether the stream's first line has been seen (a byte order mark is dropped).
    started: bool,
    event: String,
    data: String,
    has_data: bool,
    last_id: Option<String>,
}

impl SseDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next chunk of the body; returns the events it completed, in order.
    pub fn push(&mut self, mut bytes: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        if self.after_cr && !bytes.is_empty() {
            self.after_cr = false;
            if let Some(rest) = bytes.strip_prefix(b"\n") {
                bytes = rest;
            }
        }
        while let Some(end) = bytes.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.partial.extend_from_slice(&bytes[..end]);
            let line = std::mem::take(&mut self.partial);
            self.line(&line, &mut out);
            let crlf = bytes[end] == b'\r';
            bytes = &bytes[end + 1..];
            if crlf {
                match bytes.first() {
                    Some(b'\n') => bytes = &bytes[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
        }
        self.partial.extend_from_slice(bytes);
        out
    }

    /// One whole line (without its end).
    fn line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) {
        let mut line = String::from_utf8_lossy(line).into_owned();
        if !self.started {
            self.started = true;
            if let Some(rest) = line.strip_prefix('\u{feff}') {
                line = rest.to_owned();
            }
        }
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_str(), ""),
        };
        match field {
            "event" => value.clone_into(&mut self.event),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            // An id with a NUL is ignored, as the standard says.
            "id" if !value.contains('\0') => self.last_id = Some(value.to_owned()),
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let event = std::mem::take(&mut self.event);
        let data = std::mem::take(&mut self.data);
        if !std::mem::take(&mut self.has_data) {
            return;
        }
        out.push(SseEvent {
            event: if event.is_empty() {
                "message".to_owned()
            } else {
                event
            },
            data,
            id: self.last_id.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(event: &str, data: &str) -> SseEvent {
        SseEvent {
            event: event.into(),
            data: data.into(),
            id: None,
        }
    }

    fn all_at_once(body: &str) -> Vec<SseEvent> {
        SseDecoder::new().push(body.as_bytes())
    }

    #[test]
    fn events_with_types_data_and_comments() {
        let body = ": keep-alive\n\nevent: job\ndata: {\"a\":1}\n\ndata: one\ndata: two\n\n";
        assert_eq!(
            all_at_once(body),
            vec![ev("job", "{\"a\":1}"), ev("message", "one\ntwo")]
        );
    }

    #[test]
    fn an_event_without_its_blank_line_is_not_dispatched_yet() {
        let mut d = SseDecoder::new();
        assert_eq!(d.push(b"event: item\ndata: x\n"), vec![]);
        assert_eq!(d.push(b"\n"), vec![ev("item", "x")]);
    }

    #[test]
    fn an_event_with_no_data_is_dropped_and_its_type_does_not_leak() {
        assert_eq!(
            all_at_once("event: job\n\ndata: later\n\n"),
            vec![ev("message", "later")]
        );
    }

    #[test]
    fn field_forms_from_the_standard() {
        // No space after the colon, a field with no colon, an unknown field, `retry`.
        let body = "data:x\nretry: 10\nfoo: bar\ndata\n\n";
        assert_eq!(all_at_once(body), vec![ev("message", "x\n")]);
    }

    #[test]
    fn ids_carry_over_to_later_events() {
        let got = all_at_once("id: 7\ndata: a\n\ndata: b\n\n");
        assert_eq!(got[0].id.as_deref(), Some("7"));
        assert_eq!(got[1].id.as_deref(), Some("7"));
    }

    #[test]
    fn a_leading_byte_order_mark_is_dropped() {
        assert_eq!(all_at_once("\u{feff}data: a\n\n"), vec![ev("message", "a")]);
    }

    /// Every way to cut a body into chunks gives the same events: line ends of each
    /// kind, a multi-byte character, a CR/LF pair split across two chunks.
    #[test]
    fn chunk_boundaries_do_not_matter() {
        let body = "event: job\r\ndata: é→\r\n\r\ndata: b\rdata: c\r\rdata: d\n\n: c\r\n";
        let expected = all_at_once(body);
        assert_eq!(
            expected,
            vec![ev("job", "é→"), ev("message", "b\nc"), ev("message", "d")]
        );
        let bytes = body.as_bytes();
        for a in 0..=bytes.len() {
            for b in a..=bytes.len() {
                let mut d = SseDecoder::new();
                let mut got = d.push(&bytes[..a]);
                got.extend(d.push(&bytes[a..b]));
                got.extend(d.push(&bytes[b..]));
                assert_eq!(got, expected, "cut at {a} and {b}");
            }
        }
    }
}
