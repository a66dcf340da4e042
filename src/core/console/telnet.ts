/**
 * The little of telnet a console needs (RFC 854): strip IAC commands from what arrives, refuse every option the server
 * offers (a console is a plain byte stream), and double 0xff in what is sent.
 */
const IAC = 255, DONT = 254, DO = 253, WONT = 252, WILL = 251, SB = 250, SE = 240;

export class TelnetFilter {
  private state: 'data' | 'iac' | 'opt' | 'sb' | 'sb-iac' = 'data';
  private verb = 0;

  /** Data bytes of `chunk`, and the replies to send back. */
  feed(chunk: Buffer): { data: Buffer; reply: Buffer } {
    const data: number[] = [];
    const reply: number[] = [];
    for (const b of chunk) {
      switch (this.state) {
        case 'data': if (b === IAC) this.state = 'iac'; else data.push(b); break;
        case 'iac':
          if (b === IAC) { data.push(IAC); this.state = 'data'; }
          else if (b === DO || b === DONT || b === WILL || b === WONT) { this.verb = b; this.state = 'opt'; }
          else if (b === SB) this.state = 'sb';
          else this.state = 'data';
          break;
        case 'opt':
          if (this.verb === DO) reply.push(IAC, WONT, b);
          else if (this.verb === WILL) reply.push(IAC, DONT, b);
          this.state = 'data';
          break;
        case 'sb': if (b === IAC) this.state = 'sb-iac'; break;
        case 'sb-iac': this.state = b === SE ? 'data' : 'sb'; break;
      }
    }
    return { data: Buffer.from(data), reply: Buffer.from(reply) };
  }
}

export function telnetEscape(input: Buffer): Buffer {
  if (!input.includes(IAC)) return input;
  const out: number[] = [];
  for (const b of input) { out.push(b); if (b === IAC) out.push(IAC); }
  return Buffer.from(out);
}
