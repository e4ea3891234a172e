import type { WriteStream } from 'node:tty'

const CURSOR_UP = (n: number) => `\x1b[${n}A`
const CLEAR_DOWN = '\x1b[J'
const HIDE_CURSOR = '\x1b[?25l'
const SHOW_CURSOR = '\x1b[?25h'

/**
 * Where the live table goes. On a terminal the table is redrawn in place; anywhere else (a pipe, a
 * CI log) each update is appended as plain lines, with the header printed once.
 */
export class Screen {
  readonly #out: NodeJS.WritableStream & Partial<Pick<WriteStream, 'columns'>>
  readonly #tty: boolean
  #drawn = 0
  #headerPrinted = false

  constructor(out: NodeJS.WritableStream & Partial<Pick<WriteStream, 'columns'>>, tty: boolean) {
    this.#out = out
    this.#tty = tty
  }

  get tty(): boolean {
    return this.#tty
  }

  /** Prints lines that stay (messages, the summary). */
  print(...lines: string[]): void {
    this.#drawn = 0
    this.#out.write(lines.map((l) => `${l}\n`).join(''))
  }

  /**
   * Shows the latest state. `title` and `footer` appear only on a terminal; in plain mode each row
   * is printed as it is, so rows should carry their own time.
   */
  update(title: string, header: string, rows: readonly string[], footer: string): void {
    if (this.#tty) {
      // A line wider than the terminal would wrap, and the redraw would climb too few lines.
      const width = (this.#out.columns ?? 80) - 1
      const lines = [title, header, ...rows, footer].map((l) => (l.length > width ? l.slice(0, width) : l))
      const back = this.#drawn > 0 ? CURSOR_UP(this.#drawn) + CLEAR_DOWN : HIDE_CURSOR
      this.#out.write(back + lines.map((l) => `${l}\n`).join(''))
      this.#drawn = lines.length
      return
    }
    const lines = this.#headerPrinted ? rows : [header, ...rows]
    this.#headerPrinted = true
    this.#out.write(lines.map((l) => `${l}\n`).join(''))
  }

  /** Leaves what was drawn on screen and restores the cursor. */
  end(): void {
    this.#drawn = 0
    if (this.#tty) this.#out.write(SHOW_CURSOR)
  }
}
