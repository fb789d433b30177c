// An incremental parser for the text/event-stream format. EventSource cannot POST, so the HTTP
// transport reads the response body itself and feeds the decoded text here, in whatever pieces the
// network delivers: a chunk may end in the middle of a line, of a CRLF pair, or of an event.
//
// Follows the WHATWG rules that matter for this server: `event:` names the event (default
// "message"), `data:` lines are joined with "\n", a single space after the colon is dropped, lines
// starting with ":" are comments (axum's keep-alives), and a blank line dispatches the event.

export interface SseMessage {
  event: string;
  data: string;
  id?: string;
}

export class SseParser {
  #buffer = '';
  /** A chunk ended with "\r": if the next chunk starts with "\n" it belongs to the same break. */
  #pendingCr = false;
  #event = '';
  #data: string[] = [];
  #id: string | undefined;
  readonly #emit: (m: SseMessage) => void;

  constructor(emit: (m: SseMessage) => void) {
    this.#emit = emit;
  }

  push(chunk: string): void {
    let text = chunk;
    if (this.#pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.#pendingCr = false;
    this.#buffer += text;

    // Split off every complete line; keep the unfinished tail for the next chunk.
    let start = 0;
    for (let i = 0; i < this.#buffer.length; i++) {
      const c = this.#buffer[i];
      if (c !== '\n' && c !== '\r') continue;
      this.#line(this.#buffer.slice(start, i));
      if (c === '\r') {
        if (i + 1 < this.#buffer.length) {
          if (this.#buffer[i + 1] === '\n') i++;
        } else {
          this.#pendingCr = true;
        }
      }
      start = i + 1;
    }
    this.#buffer = this.#buffer.slice(start);
  }

  /** End of the stream: an event without its closing blank line is dropped, as the spec says. */
  end(): void {
    this.#buffer = '';
    this.#reset();
  }

  #line(line: string): void {
    if (line === '') {
      this.#dispatch();
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.#event = value;
        break;
      case 'data':
        this.#data.push(value);
        break;
      case 'id':
        this.#id = value;
        break;
      default:
        // "retry" and unknown fields mean nothing to a one-shot POST stream.
        break;
    }
  }

  #dispatch(): void {
    if (this.#data.length > 0) {
      const message: SseMessage = { event: this.#event || 'message', data: this.#data.join('\n') };
      if (this.#id !== undefined) message.id = this.#id;
      this.#emit(message);
    }
    this.#reset();
  }

  #reset(): void {
    this.#event = '';
    this.#data = [];
  }
}
