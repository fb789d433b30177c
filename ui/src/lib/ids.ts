// Ids made on this side: request ids for stoppable Tauri streams, keys for upload rows.

let counter = 0;

export function newId(prefix = 'id'): string {
  counter += 1;
  // randomUUID needs a secure context; the counter alone keeps ids unique within the page anyway.
  const random =
    typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function'
      ? crypto.randomUUID()
      : Math.random().toString(36).slice(2);
  return `${prefix}-${counter}-${random}`;
}
