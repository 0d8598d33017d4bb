/** A number with thousands separators and at most `digits` decimals. */
export function number(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined) return '–';
  return value.toLocaleString('en-US', { maximumFractionDigits: digits });
}

/** A timestamp as local date and time to the second. */
export function time(iso: string | null | undefined): string {
  if (!iso) return '–';
  return new Date(iso).toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'medium' });
}

/** How long ago (or from now) a timestamp is: "3 min ago", "in 12 min". */
export function relative(iso: string, now = Date.now()): string {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 5) return 'just now';
  const [amount, unit] =
    abs < 90 ? [abs, 's'] : abs < 5400 ? [Math.round(abs / 60), 'min'] : abs < 172_800 ? [Math.round(abs / 3600), 'h'] : [Math.round(abs / 86_400), 'd'];
  return seconds < 0 ? `${amount} ${unit} ago` : `in ${amount} ${unit}`;
}

/** An ISO timestamp from a datetime-local input's value (local time), or undefined when empty. */
export function fromLocalInput(value: string | undefined): string | undefined {
  return value ? new Date(value).toISOString() : undefined;
}

/** A short form of a UUID for tables: its random tail, since time-ordered ids share their head (the full id stays in the title). */
export function shortId(id: string): string {
  return '…' + id.slice(-12);
}

/** A text field of a submitted form, trimmed; undefined when empty. */
export function formText(form: FormData, name: string): string | undefined {
  const value = form.get(name);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}
