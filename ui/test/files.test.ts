import { describe, expect, it } from 'vitest';
import { filesFromDrop, isHiddenPath, isSupportedName, selectForUpload, type PickedFile } from '../src/lib/files';

function file(name: string, content = 'x'): File {
  return new File([content], name);
}

/** Minimal FileSystemEntry fakes, the shape webkitGetAsEntry() returns. */
function fileEntry(name: string): FileSystemFileEntry {
  return { name, isFile: true, isDirectory: false, file: (ok: (f: File) => void) => ok(file(name)) } as unknown as FileSystemFileEntry;
}

function dirEntry(name: string, children: FileSystemEntry[]): FileSystemDirectoryEntry {
  return {
    name,
    isFile: false,
    isDirectory: true,
    createReader: () => {
      // Children come in batches of two, then an empty batch, as browsers do (in batches of 100).
      let at = 0;
      return {
        readEntries: (ok: (batch: FileSystemEntry[]) => void) => {
          const batch = children.slice(at, at + 2);
          at += 2;
          ok(batch);
        },
      };
    },
  } as unknown as FileSystemDirectoryEntry;
}

function dataTransfer(entries: FileSystemEntry[]): DataTransfer {
  return {
    items: entries.map((entry) => ({ kind: 'file', webkitGetAsEntry: () => entry, getAsFile: () => null })),
    files: [],
  } as unknown as DataTransfer;
}

describe('files', () => {
  it('knows the document types and hidden paths', () => {
    expect(isSupportedName('手册.PDF')).toBe(true);
    expect(isSupportedName('faq.xlsx')).toBe(true);
    // Pictures of pages are read by OCR; other media are not documents.
    expect(isSupportedName('photo.png')).toBe(true);
    expect(isSupportedName('scan.TIFF')).toBe(true);
    expect(isSupportedName('clip.mp4')).toBe(false);
    expect(isSupportedName('README')).toBe(false);
    expect(isHiddenPath('docs/.git/config')).toBe(true);
    expect(isHiddenPath('.DS_Store')).toBe(true);
    expect(isHiddenPath('docs/a.pdf')).toBe(false);
  });

  it('sends files named one by one even of unknown type, but filters folder contents', () => {
    const picked: PickedFile[] = [
      { file: file('notes.xyz'), path: 'notes.xyz', fromFolder: false },
      { file: file('a.pdf'), path: 'dir/a.pdf', fromFolder: true },
      { file: file('b.mp4'), path: 'dir/b.mp4', fromFolder: true },
      { file: file('.hidden.pdf'), path: 'dir/.hidden.pdf', fromFolder: true },
      { file: file('empty.txt', ''), path: 'empty.txt', fromFolder: false },
    ];
    const { send, skipped } = selectForUpload(picked);
    expect(send.map((p) => p.path)).toEqual(['notes.xyz', 'dir/a.pdf', 'empty.txt']);
    expect(skipped).toBe(2);
  });

  it('walks dropped folders recursively, reading every batch, skipping hidden folders', async () => {
    const tree = dirEntry('docs', [
      fileEntry('a.pdf'),
      dirEntry('sub', [fileEntry('b.md'), fileEntry('c.txt'), fileEntry('d.csv')]),
      dirEntry('.git', [fileEntry('HEAD')]),
      fileEntry('e.docx'),
    ]);
    const picked = await filesFromDrop(dataTransfer([tree, fileEntry('loose.pdf')]));
    expect(picked.map((p) => [p.path, p.fromFolder])).toEqual([
      ['docs/a.pdf', true],
      ['docs/sub/b.md', true],
      ['docs/sub/c.txt', true],
      ['docs/sub/d.csv', true],
      ['docs/e.docx', true],
      ['loose.pdf', false],
    ]);
  });
});
