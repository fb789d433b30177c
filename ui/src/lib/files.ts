// Turns what the user dropped or picked into the list of files to send.
//
// Dropped folders are walked with webkitGetAsEntry(); the entries must be taken synchronously inside
// the drop handler (the DataTransfer is emptied once it returns), and only then walked
// asynchronously. As the server does for folders, hidden files and folders are skipped, and so are
// files of types DocTalk cannot read; files the user named one by one are always sent, so that an
// unsupported one gets a visible "failed" row rather than vanishing.

export interface PickedFile {
  file: File;
  /** The path inside a dropped/picked folder, or just the file name. */
  path: string;
  /** Found by walking a folder (filtered), rather than chosen by name (always sent). */
  fromFolder: boolean;
}

/** Extensions the server's parsers accept (mirrors detect_format in doctalk-ingest). */
const SUPPORTED = new Set([
  'pdf', 'csv', 'tsv', 'tab', 'xlsx', 'xlsm', 'xls', 'ods', 'json', 'jsonl', 'ndjson',
  'md', 'markdown', 'txt', 'text', 'html', 'htm', 'xhtml', 'docx',
  // Pictures of pages, read by OCR.
  'png', 'jpg', 'jpeg', 'tif', 'tiff', 'webp', 'bmp', 'gif',
]);

export function isSupportedName(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot > 0 && SUPPORTED.has(name.slice(dot + 1).toLowerCase());
}

export function isHiddenPath(path: string): boolean {
  return path.split(/[\\/]/).some((part) => part.startsWith('.') && part !== '.' && part !== '..');
}

/** Splits picked files into those to send and a count of skipped ones. */
export function selectForUpload(picked: PickedFile[]): { send: PickedFile[]; skipped: number } {
  const send: PickedFile[] = [];
  let skipped = 0;
  for (const p of picked) {
    if (isHiddenPath(p.path) || (p.fromFolder && !isSupportedName(p.path))) skipped++;
    else send.push(p);
  }
  return { send, skipped };
}

/** Files from `<input type=file>`; with `webkitdirectory` they carry their folder-relative path. */
export function filesFromInput(list: FileList | File[], fromFolder: boolean): PickedFile[] {
  return Array.from(list, (file) => ({
    file,
    path: (fromFolder && file.webkitRelativePath) || file.name,
    fromFolder,
  }));
}

/** Everything dropped: plain files directly, folders walked recursively. */
export async function filesFromDrop(dt: DataTransfer): Promise<PickedFile[]> {
  // Synchronous part: capture entries (or files, where entries are not supported) right now.
  const entries: FileSystemEntry[] = [];
  const plain: File[] = [];
  const items = dt.items ? Array.from(dt.items) : [];
  for (const item of items) {
    if (item.kind !== 'file') continue;
    const entry = typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null;
    if (entry) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) plain.push(f);
    }
  }
  if (items.length === 0 && dt.files) plain.push(...Array.from(dt.files));

  const out: PickedFile[] = plain.map((file) => ({ file, path: file.name, fromFolder: false }));
  for (const entry of entries) await walk(entry, '', false, out);
  return out;
}

async function walk(entry: FileSystemEntry, prefix: string, inFolder: boolean, out: PickedFile[]): Promise<void> {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ file, path, fromFolder: inFolder });
    return;
  }
  if (!entry.isDirectory) return;
  // Hidden folders (.git, .venv…) are not walked at all: they can be huge and are never documents.
  if (entry.name.startsWith('.')) return;
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries returns the children in batches (100 at a time in Chromium) until an empty one.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    for (const child of batch) await walk(child, path, true, out);
  }
}
